package dev.sluice.core.route;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Statements in flight per node (least-outstanding balancing, switchover's wait for a quiet primary). Striped
 * counters: every statement updates them from many threads, while reads are rare.
 */
final class InFlight {
    private final Map<String, LongAdder> counts = new ConcurrentHashMap<>();

    InFlight(java.util.List<String> nodes) {
        for (String n : nodes) {
            counts.put(n, new LongAdder());
        }
    }

    long get(String node) {
        LongAdder c = counts.get(node);
        return c == null ? 0 : c.sum();
    }

    void started(String node) {
        LongAdder c = counts.get(node);
        (c != null ? c : counts.computeIfAbsent(node, k -> new LongAdder())).increment();
    }

    void finished(String node) {
        LongAdder c = counts.get(node);
        if (c != null) {
            c.decrement();
        }
    }
}
