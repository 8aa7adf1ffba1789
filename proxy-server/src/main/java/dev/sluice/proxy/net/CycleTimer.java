package dev.sluice.proxy.net;

/**
 * Told how long each statement cycle took on a node: from the first message sent to the backend to the reply
 * that ends it (PostgreSQL's ReadyForQuery, MySQL's final OK/EOF/ERR). Both proxies report to it; the proxy's
 * metrics bind it to a histogram. Called on a Netty event loop for every cycle, so it must be cheap and never
 * block.
 */
@FunctionalInterface
public interface CycleTimer {
    /** Records nothing (no metrics configured). */
    CycleTimer NONE = (node, nanos) -> { };

    void record(String node, long nanos);
}
