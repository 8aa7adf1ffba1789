package dev.sluice.admin;

/** A request the admin API answers with an error status and {@code {"error": message}}. */
public final class AdminHttpException extends RuntimeException {
    private final int status;

    public AdminHttpException(int status, String message) {
        super(message);
        this.status = status;
    }

    public int status() {
        return status;
    }
}
