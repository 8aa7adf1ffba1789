package dev.sluice.bench;

import dev.sluice.core.sql.Classification;
import dev.sluice.core.sql.Dialect;
import dev.sluice.core.sql.SqlClassifier;
import dev.sluice.core.sql.StatementKind;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import net.sf.jsqlparser.parser.CCJSqlParser;
import net.sf.jsqlparser.parser.StringProvider;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;

/**
 * Cost of {@link SqlClassifier#classify} on typical OLTP statements (PostgreSQL dialect).
 *
 * <ul>
 *   <li>{@link #cachedClassify}: the steady state of an application that repeats its statement texts: one
 *       Caffeine lookup. Throughput, goal ≥ 5 M ops/s on one thread.</li>
 *   <li>{@link #fastPathUncached}: the full classification pipeline (lexer + keyword rules) on a cache miss.
 *       Measured through the public API with a classifier built with {@code cacheMaxWeightChars = 0}, which
 *       disables the cache ({@code cache == null} in SqlClassifier), so every call runs
 *       {@code classifyUncached}. SampleTime: JMH reports p50/p99. Goal p50 ≤ 5 µs.</li>
 *   <li>{@link #jsqlParserBaseline}: JSqlParser 5.3 parsing the same text directly (fresh parser per call,
 *       default settings, {@code Statements()}), so the fast-path/parser ratio comes from the same run.
 *       Note: JSqlParser cannot parse {@code BEGIN}; that row measures its failing parse (ParseException).</li>
 * </ul>
 *
 * Caveat: each sample repeats the same text, so branch predictors and caches are warmer than with a real
 * mix of statements.
 */
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Threads(1)
public class ClassifierBenchmark {

    /** Typical OLTP statements; keys are the {@code stmt} parameter values. */
    static final Map<String, String> STATEMENTS = Map.of(
            "point_select_q", "SELECT id, name, email, created_at FROM users WHERE id = ?",
            "point_select_dollar", "SELECT id, name, email, created_at FROM users WHERE id = $1",
            "insert_5_values", "INSERT INTO orders (id, user_id, status, total, created_at) VALUES (?, ?, ?, ?, ?)",
            "update_by_id", "UPDATE users SET email = ?, updated_at = now() WHERE id = ?",
            "select_for_update", "SELECT balance FROM accounts WHERE id = ? FOR UPDATE",
            "join_3_tables", "SELECT o.id, o.total, u.name, p.title FROM orders o"
                    + " JOIN users u ON u.id = o.user_id JOIN products p ON p.id = o.product_id"
                    + " WHERE o.user_id = ? AND o.status = 'open' ORDER BY o.created_at DESC LIMIT 20",
            "begin", "BEGIN",
            "commit", "COMMIT",
            // "SET search_path TO app, public" is equally valid PostgreSQL, but JSqlParser 5.3 rejects the TO form;
            // the "=" form keeps the parser baseline a successful parse.
            "set_search_path", "SET search_path = app, public");

    /** The statement used for the cached-throughput benchmark. */
    static final String TYPICAL = STATEMENTS.get("point_select_q");

    /** Holds the cached classifier; kept separate so its setup does not depend on {@code stmt}. */
    @State(Scope.Benchmark)
    public static class Cached {
        SqlClassifier classifier;
        String sql;

        @Setup(Level.Trial)
        public void setup() {
            classifier = new SqlClassifier(Dialect.POSTGRESQL, Set.of(), 8L * 1024 * 1024); // driver default
            sql = TYPICAL;
            classifier.classify(sql); // seen once
            classifier.classify(sql); // cached from the second sighting
            if (classifier.cacheStats().missCount() != 2 || classifier.cachedEntries() != 1) {
                throw new IllegalStateException("expected the text cached after two misses: " + classifier.cacheStats());
            }
        }
    }

    /**
     * Statements with inlined literals (pgbench -S, ORMs without bind parameters): every text is new, as in the
     * proxy, where each is a fresh String decoded from the wire. Cache enabled, as deployed.
     */
    @State(Scope.Benchmark)
    public static class OneOff {
        SqlClassifier classifier;
        int next;

        @Setup(Level.Trial)
        public void setup() {
            classifier = new SqlClassifier(Dialect.POSTGRESQL, Set.of(), 8L * 1024 * 1024);
        }

        String text() {
            next = (next + 7919) % 1_000_000;
            return "SELECT abalance FROM pgbench_accounts WHERE aid = " + next + ";";
        }
    }

    /** One statement of {@link #STATEMENTS}, with a cache-less classifier. Only the uncached/parser benchmarks use it. */
    @State(Scope.Benchmark)
    public static class Uncached {
        @Param({"point_select_q", "point_select_dollar", "insert_5_values", "update_by_id", "select_for_update",
                "join_3_tables", "begin", "commit", "set_search_path"})
        public String stmt;

        String sql;
        SqlClassifier classifier;

        @Setup(Level.Trial)
        public void setup() {
            sql = STATEMENTS.get(stmt);
            if (sql == null) {
                throw new IllegalArgumentException("unknown stmt " + stmt + ", expected one of " + STATEMENTS.keySet());
            }
            classifier = new SqlClassifier(Dialect.POSTGRESQL, Set.of(), 0); // <= 0: no cache, every call classifies
            Classification c = classifier.classify(sql);
            if (c.kind() == StatementKind.UNPARSED || c.reason().startsWith("parsed-")) {
                // "parsed-*" would mean the JSqlParser fallback decided, i.e. not the fast path
                throw new IllegalStateException(stmt + " did not take the fast path: " + c);
            }
            if (classifier.cacheStats().requestCount() != 0) {
                throw new IllegalStateException("cache unexpectedly enabled: " + classifier.cacheStats());
            }
        }
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public Classification cachedClassify(Cached s) {
        return s.classifier.classify(s.sql);
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public Classification fastPathUncached(Uncached s) {
        return s.classifier.classify(s.sql);
    }

    /** Classifying a text with an inlined literal, never seen before (includes building the text). */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public Classification oneOffLiteralText(OneOff s) {
        return s.classifier.classify(s.text());
    }

    /** Building the text alone: the baseline to subtract from {@link #oneOffLiteralText}. */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public String oneOffTextBaseline(OneOff s) {
        return s.text();
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public Object jsqlParserBaseline(Uncached s) {
        try {
            return new CCJSqlParser(new StringProvider(s.sql)).Statements();
        } catch (Exception e) {
            return e; // BEGIN: JSqlParser throws ParseException; its cost is part of the baseline
        }
    }
}
