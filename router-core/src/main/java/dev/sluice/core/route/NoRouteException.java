package dev.sluice.core.route;

/** No node can take this statement (e.g. a write while the cluster has no primary). The message says why. */
public final class NoRouteException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public NoRouteException(String message) {
        super(message);
    }
}
