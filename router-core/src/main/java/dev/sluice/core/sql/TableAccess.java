package dev.sluice.core.sql;

import java.util.Set;

/**
 * What one SQL string reads and writes, as far as the read cache needs to know (see {@link TableAnalyzer}).
 * Immutable. Table names are lower-cased (quoted or not: two spellings of one table must never escape each
 * other's invalidation, and two tables differing only in case merely share it).
 *
 * @param normalized   the text with comments dropped and runs of whitespace between tokens collapsed to one
 *                     space (tokens that touch stay touching, so distinct statements never normalize alike);
 *                     the cache key's SQL part
 * @param reads        tables the statement reads, {@code schema.table} when written qualified, else {@code table}
 * @param writes       base names (no schema) of the tables a write may change; meaningful unless {@code writesAll}
 * @param writesAll    the statement may change tables this analysis cannot name (CALL, DO, DDL, an unknown
 *                     statement …): a write through Sluice then invalidates every cached result
 * @param notCacheable why the result must not be cached (a non-deterministic or session-dependent function, a
 *                     variable, a table function, a system table, no table at all …), or null
 * @param cacheHint    {@link #NO_HINT}, {@link #NO_CACHE}, {@link #CACHE_DEFAULT_TTL}, or a TTL in ms from a
 *                     leading {@code /* sluice:cache ttl=5s *}{@code /}
 */
public record TableAccess(String normalized, Set<String> reads, Set<String> writes, boolean writesAll,
                          String notCacheable, long cacheHint) {
    /** No cache hint in the leading comments. */
    public static final long NO_HINT = -1;
    /** {@code /* sluice:no-cache *}{@code /}: never cache this statement. */
    public static final long NO_CACHE = -2;
    /** {@code /* sluice:cache *}{@code /} without a TTL: cache it with the cluster's TTL. */
    public static final long CACHE_DEFAULT_TTL = 0;

    public TableAccess {
        reads = Set.copyOf(reads);
        writes = Set.copyOf(writes);
    }

    /** True when a leading comment asks for this statement to be cached. */
    public boolean hinted() {
        return cacheHint >= 0;
    }

    /** The base name (after the last dot) of a name from {@link #reads()}. */
    public static String baseName(String table) {
        return table.substring(table.lastIndexOf('.') + 1);
    }
}
