package dev.sluice.core.cache;

import java.util.Map;

/**
 * A point-in-time view of one cluster's read cache, for the status page, {@code /api/status} and metrics.
 *
 * @param enabled              {@code cache: on}
 * @param hits                 lookups answered from the cache
 * @param misses               lookups of cacheable statements that ran on a node
 * @param hitRatio             hits / (hits + misses); 0 before any lookup
 * @param entries              results held now (approximate)
 * @param bytes                their estimated size, bounded by {@code maxBytes}
 * @param stores               results put into the cache
 * @param notStored            results that ran but were not kept, by reason (too large, a write committed
 *                             while the read ran, a replica not proven to have the latest write …)
 * @param evictions            entries evicted to stay within {@code maxBytes}
 * @param expirations          entries that reached their TTL
 * @param invalidations        table invalidations by writes through this Sluice instance (a flush of everything counts once)
 * @param invalidationsByTable the same by table name ({@code *} for flushes of everything)
 * @param bypassed             reads not cached, by reason (in a transaction, a non-deterministic function …)
 */
public record CacheStats(boolean enabled, long hits, long misses, double hitRatio, long entries, long bytes, long maxBytes,
                         long stores, Map<String, Long> notStored, long evictions, long expirations, long invalidations,
                         Map<String, Long> invalidationsByTable, Map<String, Long> bypassed) {

    /** The stats of a cluster whose cache is off. */
    public static CacheStats disabled() {
        return new CacheStats(false, 0, 0, 0, 0, 0, 0, 0, Map.of(), 0, 0, 0, Map.of(), Map.of());
    }
}
