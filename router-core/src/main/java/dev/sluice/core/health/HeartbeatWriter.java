package dev.sluice.core.health;

/**
 * Writes one heartbeat on the primary: sets the heartbeat row to the primary's own clock in microseconds
 * and returns the value it committed. Throws when it could not (the monitor then treats lag as unknown
 * until a beat succeeds again). Reconnects by itself on the next call after a failure.
 */
public interface HeartbeatWriter extends AutoCloseable {
    long beat() throws Exception;

    @Override
    void close();
}
