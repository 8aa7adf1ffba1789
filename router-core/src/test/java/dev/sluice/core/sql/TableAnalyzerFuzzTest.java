package dev.sluice.core.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Coverage-guided fuzzing of the read cache's table analysis (docs/fuzzing.md, docs/cache.md): it reads every
 * cacheable statement's text and every write's. Input layout as {@link SqlClassifierFuzzTest}'s: the SQL text,
 * then one byte picking the dialect.
 */
class TableAnalyzerFuzzTest {
    private static final TableAnalyzer PG = new TableAnalyzer(Dialect.POSTGRESQL);
    private static final TableAnalyzer MYSQL = new TableAnalyzer(Dialect.MYSQL);

    /** Never throws or stalls, answers the same twice, and never calls a read cacheable without naming its tables. */
    @FuzzTest
    void analyze(FuzzedDataProvider data) {
        TableAnalyzer a = data.consumeBoolean() ? MYSQL : PG;
        String sql = data.consumeRemainingAsString();
        long t0 = System.nanoTime();
        TableAccess first = a.analyze(sql);
        TableAccess second = a.analyze(sql);
        long took = System.nanoTime() - t0;
        assertNotNull(first);
        assertNotNull(first.normalized());
        assertEquals(first, second, "not stable");
        assertTrue(first.notCacheable() != null || !first.reads().isEmpty(), () -> "cacheable without tables: " + first);
        assertTrue(first.writesAll() || !first.writes().isEmpty() || "empty".equals(first.notCacheable()),
                () -> "a statement that names no written table yet does not invalidate everything: " + first);
        assertTrue(first.normalized().length() <= sql.length(), "normalizing never adds text");
        if (took > 2 * SqlClassifierFuzzTest.MAX_NANOS_PER_CALL) {
            fail("analysing " + sql.length() + " chars took " + took / 1_000_000 + " ms (two calls)");
        }
    }
}
