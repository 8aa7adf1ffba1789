package dev.sluice.core.sql;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.List;
import java.util.Set;

/**
 * Coverage-guided fuzzing of the SQL classifier, the first thing that reads a client's statement text
 * (docs/fuzzing.md). Under plain {@code mvn verify} Jazzer only replays the committed corpus in
 * {@code src/test/resources/dev/sluice/core/sql/SqlClassifierFuzzTestInputs/<method>/}; with
 * {@code JAZZER_FUZZ=1} it fuzzes one method.
 *
 * <p>Input layout (both methods): one byte picks the dialect, the rest is the SQL text.
 */
class SqlClassifierFuzzTest {
    /** A statement that stalls routing this long is a finding (a normal one takes microseconds). */
    static final long MAX_NANOS_PER_CALL = 2_000_000_000L;

    private static final SqlClassifier PG = new SqlClassifier(Dialect.POSTGRESQL, Set.of("my_nextval"), 1 << 20);
    private static final SqlClassifier MYSQL = new SqlClassifier(Dialect.MYSQL, Set.of("my_nextval"), 1 << 20);
    // shared like the classifier's own (a ParserFallback starts a watchdog thread on first use)
    private static final FastPathRules[] RULES = new FastPathRules[Dialect.values().length];
    private static final ParserFallback[] FALLBACK = new ParserFallback[Dialect.values().length];

    static {
        for (Dialect d : Dialect.values()) {
            RULES[d.ordinal()] = new FastPathRules(d, new QueryRules(d, Set.of("my_nextval")));
            FALLBACK[d.ordinal()] = new ParserFallback(d);
        }
    }

    /** The public contract: never throws, never null, bounded time; a repeated text gives the same answer (cache). */
    @FuzzTest
    void classify(FuzzedDataProvider data) {
        SqlClassifier classifier = data.consumeBoolean() ? MYSQL : PG;
        String sql = data.consumeRemainingAsString();
        long t0 = System.nanoTime();
        Classification first = classifier.classify(sql);
        Classification second = classifier.classify(sql);
        long took = System.nanoTime() - t0;
        assertNotNull(first, "null classification");
        assertNotNull(first.kind(), "null kind");
        assertTrue(first.equals(second), () -> "classify is not stable: " + first + " then " + second);
        if (took > 2 * MAX_NANOS_PER_CALL) {
            fail("classifying " + sql.length() + " chars took " + took / 1_000_000 + " ms (two calls)");
        }
    }

    /**
     * The pipeline without {@link SqlClassifier}'s safety net ({@code classifyUncached} turns any exception into
     * UNPARSED and a log line, which would hide a bug from the fuzzer): the lexer's invariants, then the fast-path
     * rules, the parser fallback and the query rules on every statement, where an exception is a finding.
     */
    @FuzzTest
    void lexAndRules(FuzzedDataProvider data) {
        Dialect dialect = data.consumeBoolean() ? Dialect.MYSQL : Dialect.POSTGRESQL;
        String sql = data.consumeRemainingAsString();
        long t0 = System.nanoTime();
        SqlLexer.Result r = new SqlLexer(dialect).lex(sql);
        assertNotNull(r.hint());
        List<Token> tokens = r.tokens();
        int prevEnd = 0;
        for (Token t : tokens) {
            assertTrue(t.start() >= prevEnd && t.end() > t.start() && t.end() <= sql.length(),
                    () -> "token out of order or out of the text: " + t + " (length " + sql.length() + ")");
            prevEnd = t.end();
            boolean textless = t.type() == Token.Type.STRING || t.type() == Token.Type.QUOTED_IDENT;
            boolean hasText = t.type() != Token.Type.PARAM && !textless; // PARAM: "?" has text, "$1" has none
            assertTrue(!textless || t.text() == null, () -> "a string or quoted identifier carries text: " + t);
            assertTrue(!hasText || t.text() != null && !t.text().isEmpty(), () -> "token without text: " + t);
        }
        if (r.error() != null) {
            return; // unterminated string/comment: the classifier answers UNPARSED without looking further
        }
        assertTrue(r.statementCount() >= 0 && r.bounds().length >= 2 * r.statementCount());
        FastPathRules rules = RULES[dialect.ordinal()];
        ParserFallback fallback = FALLBACK[dialect.ordinal()];
        int prevTo = 0;
        for (int i = 0; i < r.statementCount(); i++) {
            int from = r.bounds()[2 * i];
            int to = r.bounds()[2 * i + 1];
            int p = prevTo;
            assertTrue(from >= p && to > from && to <= tokens.size(),
                    () -> "statement bounds [" + from + ", " + to + ") after " + p + " of " + tokens.size() + " tokens");
            prevTo = to;
            StatementTokens st = r.statement(sql, i);
            Classification c = rules.classify(st, 0);
            if (c == null) {
                ParserFallback.Shape shape = fallback.parse(st);
                assertNotNull(shape);
                if (shape == ParserFallback.Shape.QUERY) {
                    c = rules.queries().analyze(st, "select");
                    assertNotNull(c, "query rules gave null");
                }
            }
        }
        long took = System.nanoTime() - t0;
        if (took > MAX_NANOS_PER_CALL) {
            fail("lexing and classifying " + sql.length() + " chars took " + took / 1_000_000 + " ms");
        }
    }
}
