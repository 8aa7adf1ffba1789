package dev.sluice.core.cache;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters by name with a bound on the number of names: names come from SQL text (table names, function
 * names), which a client controls, so past {@link #MAX_NAMES} distinct names the rest are counted together
 * under {@link #OTHER}.
 */
final class BoundedCounts {
    static final int MAX_NAMES = 256;
    static final String OTHER = "(other)";

    private final Map<String, LongAdder> counts = new ConcurrentHashMap<>();

    void add(String name) {
        LongAdder a = counts.get(name);
        if (a == null) {
            a = counts.size() < MAX_NAMES ? counts.computeIfAbsent(name, k -> new LongAdder())
                    : counts.computeIfAbsent(OTHER, k -> new LongAdder());
        }
        a.increment();
    }

    long total() {
        long t = 0;
        for (LongAdder a : counts.values()) {
            t += a.sum();
        }
        return t;
    }

    /** A sorted copy. */
    Map<String, Long> snapshot() {
        Map<String, Long> out = new TreeMap<>();
        counts.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }
}
