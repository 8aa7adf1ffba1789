package dev.sluice.jdbc;

import dev.sluice.core.cache.CacheSession;
import dev.sluice.core.route.RouteDecision;
import dev.sluice.core.route.Session;
import dev.sluice.core.sql.Classification;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;

/**
 * The read cache (docs/cache.md) as one application connection uses it: {@code executeQuery} of a cacheable
 * read is answered from the cluster's {@link dev.sluice.core.cache.ReadCache} or runs and is materialised
 * into a {@link CachedResult} (stored when it qualifies); writes, commits and session settings are reported to
 * the connection's {@link CacheSession}, which turns them into invalidations and key context.
 */
final class DriverCache {
    /** The decision a cache hit reports as {@code lastRoute()}: no node ran it. */
    static final String HIT_NODE = "(cache)";

    /** Runs the query for real (routing, retries and all). */
    interface Query {
        ResultSet run() throws SQLException;
    }

    private final CacheSession cache;
    private final boolean mariadb; // MariaDB Connector/J scrolls buffered TYPE_FORWARD_ONLY results; a cached one does too

    DriverCache(ClusterRuntime runtime, Session session) {
        this.cache = new CacheSession(runtime.router.readCache(), session);
        this.mariadb = runtime.config.engine().dialect() == dev.sluice.core.sql.Dialect.MYSQL;
        cache.context("user", runtime.config.user());
        cache.context("database", runtime.config.database());
    }

    boolean enabled() {
        return cache.enabled();
    }

    /**
     * executeQuery through the cache. A cacheable read returns a {@link CachedResult} view, hit or miss, so
     * the application sees the same behaviour either way; anything else returns the real driver's result set.
     */
    ResultSet query(SluiceStatement st, String sql, Classification c, Object params, Query q) throws SQLException {
        if (!cache.enabled()) {
            return q.run();
        }
        String shape = st.cacheShape();
        if (shape == null || params == ParamKeys.UNCACHEABLE) {
            return q.run();
        }
        CacheSession.Lookup l = cache.lookup(sql, c, params == null ? shape : List.of(shape, params));
        if (l == null) {
            return q.run();
        }
        if (l.isHit()) {
            return st.served(((CachedResult) l.hit()).open(st, st.rsType, mariadb), new RouteDecision(HIT_NODE, false, "cache-hit", c));
        }
        ResultSet real = q.run();
        CachedResult r;
        try {
            r = CachedResult.capture(real, st.lastMeta);
        } finally {
            real.close();
        }
        st.lastMeta = r.meta();
        if (r.cacheable()) {
            cache.store(l, st.lastRoute().node(), r, r.bytes());
        }
        return st.served(r.open(st, st.rsType, mariadb), null);
    }

    /**
     * A statement ran (or failed) on a node: its session state becomes part of the key context, its writes
     * invalidate when they commit. {@code sessionSql} is the replayable text of a session-state statement (null
     * for a parameterised one); {@code text} the SQL that ran (several statements of a batch joined).
     */
    void ran(RouteDecision d, String sessionSql, String text, boolean inTransaction) {
        if (!cache.enabled()) {
            return;
        }
        if (d.allConnections()) {
            cache.sessionState(sessionSql);
        }
        cache.ran(d.classification(), text);
        cache.settled(inTransaction);
    }

    /** JDBC commit() (also autocommit switched back on) or rollback(). */
    void ended(boolean committed) {
        cache.ended(committed);
    }

    /** setCatalog / setSchema / setTransactionIsolation / setTypeMap: settings that change results. */
    void setting(String name, Object value) {
        cache.context(name, String.valueOf(value));
        if (name.equals("isolation") && Integer.valueOf(Connection.TRANSACTION_READ_UNCOMMITTED).equals(value)) {
            cache.uncacheable("read-uncommitted"); // a dirty read cached would outlive the rollback that undoes it
        } else if (name.equals("type-map")) {
            cache.uncacheable("type-map");
        }
    }
}
