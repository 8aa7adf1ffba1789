package dev.sluice.core.shard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.core.sql.Dialect;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The executable specification of shard routing: every line of {@code golden/sharding-<dialect>.jsonl} is
 * {@code {sql, params?, shards, plan, shardSql?, paramMap?, scatterError?}} or {@code {sql, params?, error}},
 * checked against {@link ShardRouter} over {@link TestShardMaps#map()} (s1..s3; orders/customers hash on an
 * integer key, products hash on a string, events range on integer, days range on date, countries broadcast,
 * settings home s1, audit home s2).
 */
class GoldenShardingTest {
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
        String resource = "/golden/sharding-" + name + ".jsonl";
        ShardMap map = TestShardMaps.map();
        ShardRouter router = new ShardRouter(map, dialect);
        List<DynamicTest> tests = new ArrayList<>();
        try (InputStream in = GoldenShardingTest.class.getResourceAsStream(resource)) {
            assertNotNull(in, "golden file missing: " + resource);
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            String line;
            int no = 0;
            while ((line = r.readLine()) != null) {
                no++;
                if (line.isBlank()) {
                    continue;
                }
                JsonNode c = JSON.readTree(line);
                String where = resource + ":" + no + " <" + c.get("sql").asText() + ">";
                tests.add(DynamicTest.dynamicTest(no + ": " + c.get("sql").asText(), () -> check(router, map, c, where)));
            }
        }
        assertTrue(tests.size() >= 60, resource + " has only " + tests.size() + " cases");
        return tests.stream();
    }

    private static void check(ShardRouter router, ShardMap map, JsonNode c, String where) {
        String sql = c.get("sql").asText();
        List<Object> params = new ArrayList<>();
        if (c.has("params")) {
            c.get("params").forEach(p -> params.add(p.isNumber() ? (Object) p.asLong() : p.asText()));
        }
        if (c.has("error")) {
            ShardingException e = assertThrows(ShardingException.class, () -> router.plan(sql).targets(map, params), where);
            assertEquals(c.get("error").asText(), e.getMessage(), where);
            return;
        }
        ShardPlan p = router.plan(sql);
        List<String> shards = new ArrayList<>();
        c.get("shards").forEach(s -> shards.add(s.asText()));
        assertEquals(shards, map.names(p.targets(map, params)), where + ": shards");
        assertEquals(c.get("plan").asText(), p.describe(), where + ": plan");
        assertEquals(c.path("shardSql").asText(null), p.scatterSql(), where + ": shard SQL");
        if (c.has("paramMap")) {
            List<Integer> expected = new ArrayList<>();
            c.get("paramMap").forEach(i -> expected.add(i.asInt()));
            assertEquals(expected, java.util.Arrays.stream(p.paramMap()).boxed().toList(), where + ": parameter map");
        }
        assertEquals(c.path("scatterError").asText(null), p.scatterError(), where + ": scatter error");
        assertEquals(p, router.plan(sql), where + ": cached plan differs");
    }
}
