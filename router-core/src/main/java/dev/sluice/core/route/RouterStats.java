package dev.sluice.core.route;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of one router: statements routed per node, fallbacks per reason, connection and probe failures
 * per node. LongAdders: cheap on the hot path.
 */
final class RouterStats {
    private final Map<String, LongAdder> routed = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> fallbacks = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> connectionFailures = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> probeFailures = new ConcurrentHashMap<>();

    /** Pre-creates the per-node counters so the hot path is a plain lookup. */
    RouterStats(Iterable<String> nodes) {
        for (String n : nodes) {
            routed.put(n, new LongAdder());
            connectionFailures.put(n, new LongAdder());
            probeFailures.put(n, new LongAdder());
        }
    }

    void routed(String node) {
        LongAdder a = routed.get(node);
        if (a == null) {
            a = routed.computeIfAbsent(node, k -> new LongAdder());
        }
        a.increment();
    }

    void fallback(String reason) {
        fallbacks.computeIfAbsent(reason, k -> new LongAdder()).increment();
    }

    void connectionFailed(String node) {
        connectionFailures.computeIfAbsent(node, k -> new LongAdder()).increment();
    }

    void probeFailed(String node) {
        probeFailures.computeIfAbsent(node, k -> new LongAdder()).increment();
    }

    long connectionFailures(String node) {
        LongAdder a = connectionFailures.get(node);
        return a == null ? 0 : a.sum();
    }

    long probeFailures(String node) {
        LongAdder a = probeFailures.get(node);
        return a == null ? 0 : a.sum();
    }

    long routedTo(String node) {
        LongAdder a = routed.get(node);
        return a == null ? 0 : a.sum();
    }

    Map<String, Long> fallbacks() {
        Map<String, Long> out = new TreeMap<>();
        fallbacks.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    long fallbackTotal() {
        long n = 0;
        for (LongAdder a : fallbacks.values()) {
            n += a.sum();
        }
        return n;
    }
}
