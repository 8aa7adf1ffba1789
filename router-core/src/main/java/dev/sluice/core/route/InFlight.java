package dev.sluice.core.route;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/** Statements in flight per node, for least-outstanding balancing. Owned by one router. */
final class InFlight {
    private final Map<String, AtomicLong> counts = new ConcurrentHashMap<>();

    InFlight(java.util.List<String> nodes) {
        for (String n : nodes) {
            counts.put(n, new AtomicLong());
        }
    }

    long get(String node) {
        AtomicLong c = counts.get(node);
        return c == null ? 0 : c.get();
    }

    void started(String node) {
        AtomicLong c = counts.get(node);
        (c != null ? c : counts.computeIfAbsent(node, k -> new AtomicLong())).incrementAndGet();
    }

    void finished(String node) {
        AtomicLong c = counts.get(node);
        if (c != null) {
            c.decrementAndGet();
        }
    }
}
