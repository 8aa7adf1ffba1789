package dev.sluice.proxy.pg;

/**
 * Told how long each statement cycle took on a node: from the first message sent to the backend to its
 * ReadyForQuery. The proxy's metrics bind it to a histogram; called on a Netty event loop for every cycle,
 * so it must be cheap and never block.
 */
@FunctionalInterface
public interface CycleTimer {
    /** Records nothing (no metrics configured). */
    CycleTimer NONE = (node, nanos) -> { };

    void record(String node, long nanos);
}
