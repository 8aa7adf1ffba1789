package dev.sluice.testsupport;

/** Unchecked failure while starting, stopping or reconfiguring a test cluster. */
public final class ClusterException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ClusterException(String message) {
        super(message);
    }

    public ClusterException(String message, Throwable cause) {
        super(message, cause);
    }
}
