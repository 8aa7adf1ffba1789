package dev.sluice.core.cache;

import dev.sluice.core.route.Session;
import dev.sluice.core.sql.Classification;
import dev.sluice.core.sql.RouteHint;
import dev.sluice.core.sql.StatementKind;
import dev.sluice.core.sql.TableAccess;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The read cache as one client session sees it (one per driver connection or proxy client; not thread-safe,
 * like {@link Session}). It decides whether a read may be cached, builds its key from the session's state, and
 * turns the writes the session runs into invalidations — when they commit, not before:
 * <ul>
 *   <li>cacheable: a READ (not locking, not a session read), autocommit and outside a transaction, the session
 *       not pinned to the primary, no {@code /* sluice:primary *}{@code /} hint, no dirty-read isolation, every
 *       table opted in (or a {@code /* sluice:cache *}{@code /} hint) and nothing in the text that
 *       {@link dev.sluice.core.sql.TableAnalyzer} refuses;</li>
 *   <li>the key: the normalized text, bound parameters, and the session's context — user, database, schema and a
 *       digest of the session-state statements it ran (SET …): each distinct text once, in the order of its last
 *       run, which decides the final value of everything they set ({@code SET a=1; SET a=2; SET a=1} and
 *       {@code SET a=2; SET a=1} key alike, so toggling a setting does not grow the key forever). That treats
 *       each statement as setting absolute values, as the proxies' replay of session state does; a relative one
 *       ({@code SET @x = @x + 1}) only matters to reads of the variable, and those are never cached;</li>
 *   <li>writes: an autocommit write invalidates its tables once it has run (whether it succeeded or not: an
 *       extra invalidation is harmless); in a transaction they are collected and invalidated at COMMIT, dropped
 *       at ROLLBACK (its changes were never visible to a cacheable read).</li>
 * </ul>
 */
public final class CacheSession {
    /** Built-in session reads that change no table (nextval/setval/pg_notify are not among them). */
    private static final Set<String> HARMLESS_SESSION_READS = Set.of("primary-function:last_insert_id",
            "primary-function:found_rows", "primary-function:row_count", "primary-function:currval",
            "primary-function:lastval", "primary-function:get_lock", "primary-function:release_lock",
            "primary-function:release_all_locks", "primary-function:is_used_lock", "primary-function:is_free_lock",
            "select-into-variable", "sql-calc-found-rows", "get-diagnostics");

    /** A cacheable read: either a hit, or a miss whose result may be stored with {@link #store}. */
    public record Lookup(CacheKey key, Object hit, ReadCache.Ticket ticket) {
        public boolean isHit() {
            return hit != null;
        }
    }

    private final ReadCache cache;
    private final Session session;
    private final Map<String, String> context = new TreeMap<>();
    private static final int MAX_STATE_STATEMENTS = 500;

    private final java.util.LinkedHashSet<String> state = new java.util.LinkedHashSet<>();
    private String contextKey;
    private String dirty; // why this session's reads are never cached any more, or null
    private final Set<String> pending = new HashSet<>();
    private boolean pendingAll;
    // the last few texts analysed, by identity: a prepared statement passes the same String every execution,
    // and this spares it the shared analysis cache's lookup (measured: a tenth of a cached read's CPU)
    private final String[] recentSql = new String[8];
    private final TableAccess[] recentAccess = new TableAccess[8];
    private int recentNext;

    public CacheSession(ReadCache cache, Session session) {
        this.cache = cache;
        this.session = session;
    }

    public boolean enabled() {
        return cache.enabled();
    }

    // ---- the session's context (part of every key) ----

    /** Sets one part of the context that shapes results: user, database, schema, protocol details … */
    public void context(String name, String value) {
        if (!java.util.Objects.equals(context.get(name), value)) {
            if (value == null) {
                context.remove(name);
            } else {
                context.put(name, value);
            }
            contextKey = null;
        }
    }

    /**
     * A session-state statement ran (SET, USE, SET NAMES …): it becomes part of the key, in order. Null means
     * state changed in a way not known as text (a parameterised SET): the session is no longer cached.
     */
    public void sessionState(String sql) {
        if (sql == null) {
            dirty = "unknown-session-state";
            return;
        }
        String text = sql.strip();
        if (text.toUpperCase(Locale.ROOT).contains("UNCOMMITTED")) {
            // a dirty reader could cache rows a transaction later rolls back: nothing would ever invalidate them
            dirty = "read-uncommitted";
        }
        state.remove(text); // moved to the end: its last run decides what it set
        state.add(text);
        if (state.size() > MAX_STATE_STATEMENTS) {
            dirty = "too-much-session-state";
        }
        contextKey = null;
    }

    /** Marks the session as never cached again (e.g. JDBC read-uncommitted isolation), or lifts it with null. */
    public void uncacheable(String why) {
        dirty = why;
    }

    /** The session was reset (COM_RESET_CONNECTION, COM_CHANGE_USER): no state, nothing pending. */
    public void reset() {
        state.clear();
        dirty = null;
        contextKey = null;
        pending.clear();
        pendingAll = false;
    }

    private String contextKey() {
        String k = contextKey;
        if (k == null) {
            StringBuilder b = new StringBuilder();
            context.forEach((n, v) -> b.append(n).append('=').append(v).append('\u0000'));
            b.append("state=").append(digest(state));
            k = b.toString();
            contextKey = k;
        }
        return k;
    }

    private static String digest(Iterable<String> statements) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (String s : statements) {
                md.update(s.getBytes(StandardCharsets.UTF_8));
                md.update((byte) 0);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JVM", e);
        }
    }

    // ---- reads ----

    /**
     * Looks a read up. Null when it is not cacheable (counted by reason for reads); otherwise a hit, or a miss
     * whose ticket is taken now, before the read runs. {@code params}: see {@link CacheKey}.
     */
    public Lookup lookup(String sql, Classification c, Object params) {
        if (!cache.enabled() || sql == null || c.kind() != StatementKind.READ) {
            return null;
        }
        String why = eligibility(c);
        TableAccess a = null;
        if (why == null) {
            a = analyze(sql);
            if (a.cacheHint() == TableAccess.NO_CACHE) {
                why = "hint:no-cache";
            } else if (a.notCacheable() != null) {
                why = a.notCacheable();
            } else if (!a.hinted() && !cache.policy().optedIn(a.reads())) {
                why = "table-not-opted-in";
            }
        }
        if (why != null) {
            cache.bypassed(why);
            return null;
        }
        String text = a.hinted() ? a.normalized() + "\u0000ttl=" + a.cacheHint() : a.normalized();
        CacheKey key = new CacheKey(text, params, contextKey());
        long budget = c.maxLagMillis() >= 0 ? c.maxLagMillis() : session.maxLagMillis();
        Object v = cache.get(key, budget);
        if (v != null) {
            return new Lookup(key, v, null);
        }
        return new Lookup(key, null, cache.begin(key, a.reads(), cache.policy().ttlMillis(a.cacheHint())));
    }

    private TableAccess analyze(String sql) {
        for (int i = 0; i < recentSql.length; i++) {
            if (recentSql[i] == sql) {
                return recentAccess[i];
            }
        }
        TableAccess a = cache.analyze(sql);
        recentSql[recentNext] = sql;
        recentAccess[recentNext] = a;
        recentNext = (recentNext + 1) % recentSql.length;
        return a;
    }

    private String eligibility(Classification c) {
        if (c.reason().startsWith("multi-statement")) {
            return "multi-statement";
        }
        if (c.hint() == RouteHint.PRIMARY && session.router().config().hints()) {
            return "hint:primary";
        }
        if (!session.autoCommit()) {
            return "autocommit-off";
        }
        if (session.inTransaction()) {
            return "in-transaction";
        }
        if (session.pinnedBy() != null) {
            return "session-pinned";
        }
        return dirty;
    }

    /** Stores a miss's result, read on {@code node}; false when the cache declined it (counted by reason). */
    public boolean store(Lookup l, String node, Object value, long bytes) {
        return l.ticket() != null && cache.put(l.ticket(), node, value, bytes);
    }

    // ---- writes ----

    /** A statement ran (or failed: it may still have changed something). Its writes become pending. */
    public void ran(Classification c, String sql) {
        if (!cache.enabled()) {
            return;
        }
        switch (c.kind()) {
            case COMMIT -> {
                flush();
                return;
            }
            case ROLLBACK -> {
                discard();
                return;
            }
            case BEGIN, BEGIN_READ_ONLY, BEGIN_READ_WRITE -> {
                // writes before a BEGIN (earlier in one multi-statement string) committed, or joined the transaction:
                // invalidate now and keep them pending, so a ROLLBACK cannot lose an invalidation a commit needed
                invalidatePending();
                return;
            }
            case WRITE, DDL, OTHER, UNPARSED -> { }
            case SESSION_READ -> {
                if (HARMLESS_SESSION_READS.contains(c.reason())) {
                    return;
                }
            }
            default -> {
                return; // reads, locking reads, transaction control, session state: no table changes
            }
        }
        if (sql == null) {
            pendingAll = true;
            return;
        }
        TableAccess a = analyze(sql);
        if (a.writesAll()) {
            pendingAll = true;
        } else {
            pending.addAll(a.writes());
        }
    }

    /** After a statement (or a proxy's cycle): outside a transaction, whatever is pending has committed. */
    public void settled(boolean inTransaction) {
        if (!inTransaction) {
            flush();
        }
    }

    /** The transaction ended by commit (JDBC commit(), autocommit switched on) or rollback. */
    public void ended(boolean committed) {
        if (committed) {
            flush();
        } else {
            discard();
        }
    }

    private void flush() {
        invalidatePending();
        discard();
    }

    private void invalidatePending() {
        if (pendingAll) {
            cache.invalidateAll();
        } else if (!pending.isEmpty()) {
            cache.invalidate(pending);
        }
    }

    private void discard() {
        pending.clear();
        pendingAll = false;
    }
}
