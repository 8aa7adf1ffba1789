package dev.sluice.proxy;

/**
 * A call to the admin API that did not get an answer the CLI can show as an outcome: the endpoint is
 * unreachable or not a Sluice admin API, or it rejected the request itself.
 */
final class AdminCallException extends RuntimeException {
    /** No HTTP answer at all, or not one from a Sluice admin API. */
    static final int NO_ANSWER = -1;

    private final int status;

    AdminCallException(int status, String message) {
        super(message);
        this.status = status;
    }

    /** The HTTP status, or {@link #NO_ANSWER}. */
    int status() {
        return status;
    }

    /**
     * 2 when the operator's invocation must change (wrong URL, wrong token, bad parameter), 1 when the
     * proxy refused or failed (no token configured there, server error).
     */
    int exitCode() {
        return switch (status) {
            case NO_ANSWER, 400, 401, 404, 405 -> 2;
            default -> 1;
        };
    }
}
