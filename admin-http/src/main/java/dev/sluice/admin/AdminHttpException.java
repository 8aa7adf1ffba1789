package dev.sluice.admin;

/** A request the admin API answers with an error status and {@code {"error": message}}. */
final class AdminHttpException extends RuntimeException {
    private final int status;

    AdminHttpException(int status, String message) {
        super(message);
        this.status = status;
    }

    int status() {
        return status;
    }
}
