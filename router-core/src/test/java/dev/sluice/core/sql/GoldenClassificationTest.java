package dev.sluice.core.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Runs every line of the golden files {@code golden/classification-<dialect>.jsonl}. Each line is
 * {@code {"sql", "dialect", "expected", "reason", "hint"?, "effect"?}}; hint and effect are checked only when
 * present. The classifier is built with one extra primary function, {@code My_Audit_Fn}, so the files can
 * cover configured functions (and their case-insensitivity).
 */
class GoldenClassificationTest {

    static final Set<String> EXTRA_FUNCTIONS = Set.of("My_Audit_Fn");
    private static final int MIN_CASES = 50;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TestFactory
    Stream<DynamicTest> postgresql() throws IOException {
        return cases("postgresql", Dialect.POSTGRESQL);
    }

    @TestFactory
    Stream<DynamicTest> mysql() throws IOException {
        return cases("mysql", Dialect.MYSQL);
    }

    private static Stream<DynamicTest> cases(String name, Dialect dialect) throws IOException {
        String resource = "/golden/classification-" + name + ".jsonl";
        List<DynamicTest> tests = new ArrayList<>();
        SqlClassifier classifier = new SqlClassifier(dialect, EXTRA_FUNCTIONS, 1_000_000);
        try (InputStream in = GoldenClassificationTest.class.getResourceAsStream(resource)) {
            assertNotNull(in, "golden file missing: " + resource);
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            String line;
            int lineNo = 0;
            while ((line = reader.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                JsonNode node = JSON.readTree(line);
                tests.add(toTest(resource, lineNo, node, dialect, classifier));
            }
        }
        assertTrue(tests.size() >= MIN_CASES,
                resource + " has " + tests.size() + " cases, expected at least " + MIN_CASES);
        return tests.stream();
    }

    private static DynamicTest toTest(String resource, int lineNo, JsonNode node, Dialect dialect, SqlClassifier classifier) {
        String sql = node.path("sql").asText(null);
        String where = resource + ":" + lineNo + " sql=<" + sql + ">";
        return DynamicTest.dynamicTest(lineNo + ": " + abbreviate(sql), () -> {
            assertNotNull(sql, where + ": no sql");
            assertEquals(dialect.name().toLowerCase(Locale.ROOT), node.path("dialect").asText(), where + ": dialect");
            StatementKind expected = StatementKind.valueOf(node.path("expected").asText());
            Classification c = classifier.classify(sql);
            String got = " got " + c;
            assertEquals(expected, c.kind(), where + ": kind;" + got);
            assertEquals(node.path("reason").asText(), c.reason(), where + ": reason;" + got);
            if (node.hasNonNull("hint")) {
                assertEquals(RouteHint.valueOf(node.get("hint").asText()), c.hint(), where + ": hint;" + got);
            }
            if (node.hasNonNull("maxLagMillis")) {
                assertEquals(node.get("maxLagMillis").asLong(), c.maxLagMillis(), where + ": maxLagMillis;" + got);
            }
            if (node.hasNonNull("effect")) {
                assertEquals(SessionEffect.valueOf(node.get("effect").asText()), c.effect(), where + ": effect;" + got);
            }
            // A second (cached) call must agree with the first.
            assertEquals(c, classifier.classify(sql), where + ": cached result differs");
        });
    }

    private static String abbreviate(String sql) {
        if (sql == null) {
            return "<null>";
        }
        String oneLine = sql.replace('\n', ' ').replace('\r', ' ').replace('\t', ' ');
        return oneLine.length() > 80 ? oneLine.substring(0, 77) + "..." : oneLine;
    }
}
