package dev.sluice.core.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SqlClassifierTest {

    /** Hang guard only, not a benchmark: every pathological input must come back well within this. */
    // a hang takes minutes (nested CASE in JSqlParser); 15 s leaves room for a cold JIT on a loaded 2-core machine
    private static final Duration GUARD = Duration.ofSeconds(15);

    private static SqlClassifier pg() {
        return new SqlClassifier(Dialect.POSTGRESQL, Set.of(), 1_000_000);
    }

    @Test
    void textsAreCachedFromTheirSecondSighting() {
        SqlClassifier c = pg();
        Classification first = c.classify("SELECT * FROM t WHERE id = $1");
        assertEquals(0, c.cacheStats().hitCount());
        assertEquals(first, c.classify("SELECT * FROM t WHERE id = $1"));
        assertEquals(0, c.cacheStats().hitCount(), "seen once: not cached yet");
        assertEquals(first, c.classify("SELECT * FROM t WHERE id = $1"));
        assertEquals(1, c.cacheStats().hitCount());
        assertEquals(2, c.cacheStats().missCount());
        assertEquals(1, c.cacheStats().hitCount());
    }

    @Test
    void oneOffTextsDoNotFillTheCache() {
        SqlClassifier c = pg();
        for (int i = 0; i < 1000; i++) {
            assertEquals(StatementKind.READ, c.classify("SELECT abalance FROM pgbench_accounts WHERE aid = " + i).kind());
        }
        assertEquals(0, c.cacheStats().hitCount());
        assertEquals(1000, c.cacheStats().missCount(), "first sightings skip the lookup but still count as misses");
        assertTrue(c.cacheStats().evictionCount() == 0 && c.cachedEntries() < 10, "unique texts stay out of the cache: " + c.cachedEntries());
    }

    @Test
    void hugeStatementsAreNotCached() {
        SqlClassifier c = pg();
        String huge = "SELECT " + "1 + ".repeat(SqlClassifier.MAX_CACHED_CHARS / 4) + "1";
        assertEquals(StatementKind.READ, c.classify(huge).kind());
        assertEquals(StatementKind.READ, c.classify(huge).kind());
        assertEquals(0, c.cacheStats().hitCount());
        assertEquals(0, c.cacheStats().missCount());
    }

    @Test
    void disabledCacheStillClassifies() {
        SqlClassifier c = new SqlClassifier(Dialect.MYSQL, null, 0);
        assertEquals(StatementKind.WRITE, c.classify("UPDATE t SET a = 1").kind());
        assertEquals(0, c.cacheStats().requestCount());
    }

    @Test
    void twoInstancesShareNothing() {
        SqlClassifier a = pg();
        SqlClassifier b = pg();
        a.classify("SELECT 1");
        a.classify("SELECT 1");
        a.classify("SELECT 1");
        a.classify("FOO");
        assertEquals(1, a.cacheStats().hitCount());
        assertEquals(0, b.cacheStats().requestCount());
        assertEquals(1, a.unparsedCount());
        assertEquals(0, b.unparsedCount());
        b.classify("SELECT 1");
        assertEquals(1, b.cacheStats().missCount());
        // Configured functions are per instance too.
        SqlClassifier withFn = new SqlClassifier(Dialect.POSTGRESQL, Set.of("audit"), 1000);
        assertEquals(StatementKind.SESSION_READ, withFn.classify("SELECT audit(1)").kind());
        assertEquals(StatementKind.READ, a.classify("SELECT audit(1)").kind());
    }

    @Test
    void unparsedCountCountsEveryUnparsedCall() {
        SqlClassifier c = pg();
        c.classify("FOO BAR");
        c.classify("FOO BAR"); // cached, still counted
        c.classify("SELECT 'unterminated");
        c.classify("SELECT 1");
        c.classify(null);
        assertEquals(3, c.unparsedCount());
    }

    @Test
    void nullAndBlankAreEmpty() {
        SqlClassifier c = pg();
        assertEquals(StatementKind.EMPTY, c.classify(null).kind());
        assertEquals(StatementKind.EMPTY, c.classify("  ").kind());
    }

    @Test
    void pathologicalInputsDoNotHang() {
        assertTimeoutPreemptively(GUARD, () -> {
            for (Dialect d : Dialect.values()) {
                SqlClassifier c = new SqlClassifier(d, Set.of(), 1_000_000);
                StringBuilder cases = new StringBuilder("SELECT ");
                for (int i = 0; i < 200; i++) {
                    cases.append("CASE WHEN a = ").append(i).append(" THEN ");
                }
                cases.append("1");
                for (int i = 0; i < 200; i++) {
                    cases.append(" ELSE 0 END");
                }
                assertEquals(StatementKind.READ, c.classify(cases.toString()).kind());
                assertEquals(StatementKind.READ, c.classify("(" + cases + ")").kind());
                // Nested CASE with a syntax error, in a statement only the parser fallback can judge: JSqlParser's
                // lookahead is exponential here (about 90 s at depth 8 unguarded).
                StringBuilder bad = new StringBuilder("UPSERT INTO t SELECT ");
                for (int i = 0; i < 12; i++) {
                    bad.append("CASE WHEN a = ").append(i).append(" THEN ");
                }
                bad.append("1 +");
                for (int i = 0; i < 12; i++) {
                    bad.append(" ELSE 0 END");
                }
                assertEquals(StatementKind.UNPARSED, c.classify(bad.toString()).kind());
                assertEquals(StatementKind.UNPARSED, c.classify("(".repeat(1 << 20)).kind());
                assertEquals(StatementKind.UNPARSED, c.classify("(".repeat(2000)).kind());
                assertEquals(StatementKind.EMPTY, c.classify(";".repeat(100_000)).kind());
                assertEquals(StatementKind.WRITE, c.classify("SELECT 1;".repeat(50_000) + "DELETE FROM t").kind());
                assertEquals(StatementKind.READ, c.classify("EXPLAIN ANALYZE ".repeat(10_000) + "SELECT 1").kind());
                // Nested statements recurse; the nesting bound turns deep ones into UNPARSED.
                assertEquals(StatementKind.UNPARSED,
                        c.classify("COPY (".repeat(10_000) + "SELECT 1" + ") TO STDOUT".repeat(10_000)).kind());
                assertEquals(StatementKind.UNPARSED, c.classify("'".repeat(100_001)).kind());
                assertEquals(StatementKind.READ, c.classify("SELECT " + "/* x */".repeat(100_000) + "1").kind());
            }
        });
    }
}
