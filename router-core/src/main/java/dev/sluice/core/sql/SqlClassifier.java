package dev.sluice.core.sql;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.stats.CacheStats;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Classifies SQL text for routing. Thread-safe; never throws; cost is linear in the input.
 *
 * <p>Pipeline: {@link SqlLexer} (strings/comments/quotes aware, splits on {@code ;}) → {@link FastPathRules}
 * per statement (decides virtually everything from keywords and token scans) → {@link ParserFallback}
 * (JSqlParser, bounded) only for an unknown leading keyword → UNPARSED. Several statements in one string are
 * classified one by one and combined conservatively (see {@link #combine}). Results are cached by SQL text
 * from a text's second sighting: applications repeat the same statement texts, so most calls are one hash
 * lookup, while one-off texts (inlined literals) never churn the cache.
 *
 * <p>Instances share nothing: each has its own cache and counters.
 */
public final class SqlClassifier {

    /** Longer texts are classified but not cached: they are rarely repeated and would evict many small entries. */
    public static final int MAX_CACHED_CHARS = 64 * 1024;

    private static final Logger LOG = LoggerFactory.getLogger(SqlClassifier.class);
    private static final Classification EMPTY = Classification.of(StatementKind.EMPTY, "empty");
    private static final String MULTI = "multi-statement:";

    private final Dialect dialect;
    private final SqlLexer lexer;
    private final FastPathRules rules;
    private final ParserFallback fallback;
    private final Cache<String, Classification> cache; // null when caching is disabled
    private final LongAdder unparsed = new LongAdder();
    private final UnparsedDigests unparsedDigests = new UnparsedDigests();
    /**
     * Hashes of texts seen once and not cached. A text enters the cache on its second sighting: statements
     * with inlined literals (pgbench -S, ORMs without bind parameters) are all different, and caching them
     * costs more than classifying them (insertion, eviction, garbage) while pushing out the texts that do
     * repeat. Racy on purpose: a lost or torn update only delays one cache entry.
     */
    private final int[] seenOnce = new int[4096];
    private final LongAdder firstSightings = new LongAdder();

    /**
     * @param dialect               lexical and semantic rules to apply
     * @param extraPrimaryFunctions function names (case-insensitive, may be null) whose call turns a read into
     *                              a SESSION_READ with reason {@code primary-function:<name>}
     * @param cacheMaxWeightChars   cache bound in total characters of cached SQL text; {@code <= 0} disables the cache
     */
    public SqlClassifier(Dialect dialect, Set<String> extraPrimaryFunctions, long cacheMaxWeightChars) {
        this.dialect = Objects.requireNonNull(dialect, "dialect");
        this.lexer = new SqlLexer(dialect);
        this.rules = new FastPathRules(dialect, new QueryRules(dialect, extraPrimaryFunctions));
        this.fallback = new ParserFallback(dialect);
        this.cache = cacheMaxWeightChars <= 0 ? null : Caffeine.newBuilder()
                .maximumWeight(cacheMaxWeightChars)
                .weigher((String sql, Classification c) -> sql.length())
                // Maintenance on the calling thread: no shared common-pool work, deterministic in tests.
                .executor(Runnable::run)
                .recordStats()
                .build();
    }

    public Dialect dialect() {
        return dialect;
    }

    /** Classifies {@code sql} (one or several statements). Null, empty and comment-only text is EMPTY. */
    public Classification classify(String sql) {
        if (sql == null) {
            return EMPTY;
        }
        // A first sighting is not looked up: texts enter the cache on their second sighting, so it cannot hit
        // (except a text cached long ago whose seenOnce slot was reused since: it is classified once more). With
        // inlined literals nearly every text is a first sighting, and the lookup was a hash-map miss per statement.
        boolean cacheable = cache != null && sql.length() <= MAX_CACHED_CHARS;
        boolean repeated = cacheable && seenBefore(sql);
        Classification c = repeated ? cache.getIfPresent(sql) : null;
        if (c == null) {
            c = classifyUncached(sql);
            if (repeated) {
                cache.put(sql, c);
            } else if (cacheable) {
                firstSightings.increment(); // a miss the cache never saw, for its hit ratio
            }
        }
        if (c.kind() == StatementKind.UNPARSED) {
            unparsed.increment();
            unparsedDigests.record(sql);
        }
        return c;
    }

    private boolean seenBefore(String sql) {
        int h = sql.hashCode(); // computed once per String instance, then cached by the String
        int i = (h ^ (h >>> 16)) & (seenOnce.length - 1);
        if (seenOnce[i] == h) {
            return true;
        }
        seenOnce[i] = h;
        return false;
    }

    /** Number of {@link #classify} calls (cached or not) whose result was UNPARSED. */
    public long unparsedCount() {
        return unparsed.sum();
    }

    /** Unparsed statements by digest (bounded), for the status page. */
    public UnparsedDigests unparsedDigests() {
        return unparsedDigests;
    }

    /** Texts in the cache now (approximate). */
    public long cachedEntries() {
        return cache == null ? 0 : cache.estimatedSize();
    }

    /** Cache statistics (first sightings, which skip the lookup, count as misses); all zero when the cache is disabled. */
    public CacheStats cacheStats() {
        if (cache == null) {
            return CacheStats.empty();
        }
        CacheStats s = cache.stats();
        return CacheStats.of(s.hitCount(), s.missCount() + firstSightings.sum(), s.loadSuccessCount(), s.loadFailureCount(),
                s.totalLoadTime(), s.evictionCount(), s.evictionWeight());
    }

    private Classification classifyUncached(String sql) {
        try {
            SqlLexer.Result lexed = lexer.lex(sql);
            RouteHint hint = lexed.hint();
            Classification c;
            if (lexed.error() != null) {
                c = FastPathRules.UNPARSED;
            } else if (lexed.statementCount() == 0) {
                c = EMPTY;
            } else if (lexed.statementCount() == 1) {
                c = classifyStatement(lexed.statement(sql, 0));
            } else {
                c = combine(sql, lexed);
            }
            c = hint == RouteHint.NONE ? c : c.withHint(hint);
            return lexed.maxLagMillis() < 0 ? c : c.withMaxLag(lexed.maxLagMillis());
        } catch (RuntimeException | StackOverflowError e) {
            // Never expected; a classifier bug must not take the connection down. UNPARSED routes to the primary.
            LOG.warn("SQL classification failed for a statement of {} chars", sql.length(), e);
            return FastPathRules.UNPARSED;
        }
    }

    private Classification classifyStatement(StatementTokens st) {
        Classification c = rules.classify(st, 0);
        if (c != null) {
            return c;
        }
        return switch (fallback.parse(st)) {
            case QUERY -> rules.queries().analyze(st, "select");
            case WRITE -> Classification.of(StatementKind.WRITE, "parsed-write");
            case DDL -> Classification.of(StatementKind.DDL, "parsed-ddl");
            case UNKNOWN -> FastPathRules.UNPARSED;
        };
    }

    /**
     * Combines several statements sent as one string. Any UNPARSED part makes the whole UNPARSED. A
     * transaction-control or session-state part makes the whole a WRITE: the string must run on the primary
     * in one piece and cannot be replayed or split, and a SESSION_STATE part then pins the session so the
     * state is not lost. Otherwise the most primary-demanding part decides (first one on ties); all reads
     * stay a READ. The last PIN/UNPIN of the parts is kept, since they take effect in order.
     */
    private Classification combine(String sql, SqlLexer.Result lexed) {
        Classification deciding = null;
        Classification firstTx = null;
        boolean sessionState = false;
        SessionEffect effect = SessionEffect.NONE;
        for (int i = 0; i < lexed.statementCount(); i++) {
            Classification c = classifyStatement(lexed.statement(sql, i));
            switch (c.kind()) {
                case UNPARSED:
                    return FastPathRules.UNPARSED;
                case BEGIN, BEGIN_READ_ONLY, BEGIN_READ_WRITE, COMMIT, ROLLBACK, TX_CONTROL, SESSION_STATE:
                    firstTx = firstTx == null ? c : firstTx;
                    sessionState |= c.kind() == StatementKind.SESSION_STATE;
                    break;
                default:
                    if (deciding == null || QueryRules.rank(c.kind()) > QueryRules.rank(deciding.kind())) {
                        deciding = c;
                    }
                    break;
            }
            if (c.effect() != SessionEffect.NONE) {
                effect = c.effect();
            }
        }
        if (firstTx != null) {
            return new Classification(StatementKind.WRITE, MULTI + firstTx.reason(), RouteHint.NONE,
                    sessionState ? SessionEffect.PIN : effect);
        }
        // deciding is non-null: there are at least two non-empty statements and none was tx/session.
        Classification d = Objects.requireNonNull(deciding);
        return new Classification(d.kind(), MULTI + d.reason(), RouteHint.NONE, effect);
    }
}
