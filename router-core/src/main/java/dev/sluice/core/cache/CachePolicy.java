package dev.sluice.core.cache;

import dev.sluice.core.config.ClusterConfig;
import dev.sluice.core.sql.TableAccess;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * The cluster's opt-in: which tables are cached ({@code cache-tables}) and for how long. Immutable.
 *
 * <p>A {@code cache-tables} entry {@code users} matches the table {@code users} however it is qualified; an
 * entry {@code app.users} matches {@code app.users}, and an unqualified {@code users} too (the session's
 * search_path or database decides which one that is, and the key carries that). {@code *} matches all.
 */
final class CachePolicy {
    private final boolean all;
    private final Set<String> bare = new HashSet<>();
    private final Set<String> qualified = new HashSet<>();
    private final Set<String> qualifiedBases = new HashSet<>();
    private final long ttlMillis;
    private final long maxLagMillis;

    CachePolicy(ClusterConfig config) {
        boolean star = false;
        for (String t : config.cacheTables()) {
            String n = t.trim().toLowerCase(Locale.ROOT);
            if (n.equals("*")) {
                star = true;
            } else if (n.indexOf('.') >= 0) {
                qualified.add(n);
                qualifiedBases.add(TableAccess.baseName(n));
            } else if (!n.isEmpty()) {
                bare.add(n);
            }
        }
        this.all = star;
        this.ttlMillis = config.cacheTtlMs();
        this.maxLagMillis = config.maxLagMs();
    }

    /** True when every table read is opted in. */
    boolean optedIn(Set<String> reads) {
        if (all) {
            return !reads.isEmpty();
        }
        if (reads.isEmpty()) {
            return false;
        }
        for (String r : reads) {
            String base = TableAccess.baseName(r);
            boolean unqualified = r.indexOf('.') < 0;
            if (!bare.contains(base) && !qualified.contains(r) && !(unqualified && qualifiedBases.contains(base))) {
                return false;
            }
        }
        return true;
    }

    /** The TTL for a statement with hint {@code cacheHint}: the hint's or the cluster's, never above max-lag-ms. */
    long ttlMillis(long cacheHint) {
        long ttl = cacheHint > 0 ? cacheHint : ttlMillis;
        return Math.max(1, Math.min(ttl, maxLagMillis));
    }
}
