package dev.sluice.core.health;

/**
 * Writes one heartbeat on the primary: sets the heartbeat row to the primary's own clock in microseconds
 * and returns the value it committed. Throws when it could not (the monitor then treats lag as unknown
 * until a beat succeeds again). Reconnects by itself on the next call after a failure.
 */
public interface HeartbeatWriter extends AutoCloseable {
    long beat() throws Exception;

    /**
     * Nodes drained by an operator, as recorded on the primary (the drain table next to the heartbeat), read
     * by the writer every few beats: how a drain made by the CLI reaches every in-app router.
     */
    default java.util.Set<String> drainedNodes() {
        return java.util.Set.of();
    }

    @Override
    void close();
}
