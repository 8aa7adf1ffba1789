package dev.sluice.core.shard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.core.config.ConfigException;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The hash (test vectors of docs/sharding.md), the keyspace split, range placement and configuration errors. */
class ShardMapTest {

    /** Vectors computed with the reference implementation ({@code xxhsum -H1}, xxHash 0.8) over the canonical bytes. */
    @Test
    void xxh64MatchesTheReferenceImplementation() {
        assertEquals(0xef46db3751d8e999L, XxHash64.hash(new byte[0]));
        assertEquals(0x44bc2cf5ad770999L, XxHash64.hash("abc".getBytes(StandardCharsets.UTF_8)));
        assertEquals(0x0b242d361fda71bcL, XxHash64.hash("The quick brown fox jumps over the lazy dog".getBytes(StandardCharsets.UTF_8)));
        assertEquals(0x80c2e40b8486afabL, XxHash64.hash("日本".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void keyspaceIdsOfCanonicalKeys() {
        assertEquals(0x34c96acdcadb1bbbL, ShardMap.keyspaceId(KeyType.INTEGER, 0L));
        assertEquals(0x9f1ffc793b8a47daL, ShardMap.keyspaceId(KeyType.INTEGER, 1L));
        assertEquals(0x85d136adb773c6c9L, ShardMap.keyspaceId(KeyType.INTEGER, -1L));
        assertEquals(0xa2c396223f8bdbdfL, ShardMap.keyspaceId(KeyType.INTEGER, 42L));
        assertEquals(0x461cedc7253f4a7cL, ShardMap.keyspaceId(KeyType.INTEGER, 1000L));
        assertEquals(0xca6e96e956958c0fL, ShardMap.keyspaceId(KeyType.STRING, "customer-42"));
        assertEquals(0x7599cf6a858394ddL, ShardMap.keyspaceId(KeyType.DECIMAL, KeyType.DECIMAL.coerce(new java.math.BigDecimal("1.50"))));
        assertEquals(0x1248dba9e735fa1dL, ShardMap.keyspaceId(KeyType.DATE, LocalDate.of(2024, 6, 1)));
        // the same key however it is written
        assertEquals(KeyType.INTEGER.coerce(42), KeyType.INTEGER.coerce("42"));
        assertEquals(KeyType.INTEGER.coerce(42), KeyType.INTEGER.coerce(new java.math.BigDecimal("42.0")));
        assertEquals(null, KeyType.INTEGER.coerce("4.5"));
    }

    @Test
    void evenSplitAndTheShardOfAKey() {
        ShardMap m = TestShardMaps.map();
        assertEquals("[MIN,0x5555555555555555)", m.shards().get(0).keyspace().text());
        assertEquals("[0x5555555555555555,0xaaaaaaaaaaaaaaaa)", m.shards().get(1).keyspace().text());
        assertEquals("[0xaaaaaaaaaaaaaaaa,MAX)", m.shards().get(2).keyspace().text());
        TableRule orders = m.table("ORDERS");
        assertEquals(0, m.shardOf(orders, 0L)); // 0x34c9…
        assertEquals(1, m.shardOf(orders, 1L)); // 0x9f1f…
        assertEquals(1, m.shardOf(orders, 42L)); // 0xa2c3… < 0xaaaa…
        TableRule events = m.table("events");
        assertEquals(0, m.shardOf(events, 999L));
        assertEquals(1, m.shardOf(events, 1000L));
        assertEquals(2, m.shardOf(events, Long.MAX_VALUE));
        assertEquals(0b011, m.shardsBetween(events, 10L, true, 1000L, true));
        assertEquals(0b001, m.shardsBetween(events, 10L, true, 1000L, false));
        assertEquals(0b100, m.shardsBetween(events, 5000L, true, null, false));
    }

    /** 100,000 sequential keys spread within 2% of an even third per shard. */
    @Test
    void sequentialKeysSpreadEvenly() {
        ShardMap m = TestShardMaps.map();
        TableRule orders = m.table("orders");
        int[] counts = new int[3];
        int n = 100_000;
        for (long k = 1; k <= n; k++) {
            counts[m.shardOf(orders, k)]++;
        }
        for (int c : counts) {
            double share = c / (double) n;
            assertTrue(Math.abs(share - 1.0 / 3) < 0.02, "shard share " + share + " of " + java.util.Arrays.toString(counts));
        }
    }

    /** What {@code ./sluice shard-of} prints. */
    @Test
    void describesWhereAKeyLives() {
        ShardMap m = TestShardMaps.map();
        assertEquals("orders customer_id=42 -> shard s2 (cluster c2; keyspace id 0xa2c396223f8bdbdf in [0x5555555555555555,0xaaaaaaaaaaaaaaaa))",
                m.describe("orders", "42"));
        assertEquals("events id=1500 -> shard s2 (cluster c2; range [1000,5000))", m.describe("events", "1500"));
        assertEquals("days day=2023-12-31 -> shard s1 (cluster c1; range [MIN,2024-01-01))", m.describe("days", "2023-12-31"));
        assertEquals("settings -> shard s1 (cluster c1; home table: all its rows)", m.describe("settings", ""));
        assertEquals("countries -> every shard (broadcast table): s1, s2, s3", m.describe("countries", ""));
        assertEquals("'x' is not a value of type integer (the shard key customer_id of orders)",
                assertThrows(ShardingException.class, () -> m.describe("orders", "x")).getMessage());
    }

    @Test
    void explicitKeyspacesMustTileTheKeyspace() {
        Map<String, Object> db = database(List.of(
                Map.of("name", "a", "cluster", "c1", "keyspace", "[MIN,0x8000000000000000)"),
                Map.of("name", "b", "cluster", "c2", "keyspace", "[0x8000000000000000,MAX)")), Map.of());
        ShardMap m = ShardMapParser.database("app", db, List.of("c1", "c2"), "databases.app");
        assertEquals(1, m.shardOf(m.table("t"), 1L)); // 0x9f1f… ≥ 0x8000…
        ConfigException gap = assertThrows(ConfigException.class, () -> ShardMapParser.database("app", database(List.of(
                Map.of("name", "a", "cluster", "c1", "keyspace", "[MIN,0x7000000000000000)"),
                Map.of("name", "b", "cluster", "c2", "keyspace", "[0x8000000000000000,MAX)")), Map.of()), List.of("c1", "c2"), "databases.app"));
        assertEquals("databases.app.shards: keyspaces must cover MIN to MAX without gaps or overlaps: b [0x8000000000000000,MAX) "
                + "should start at 8070450532247928832", gap.getMessage());
    }

    @Test
    void configurationErrorsNameTheKeyAndValue() {
        List<String> clusters = List.of("c1", "c2");
        List<Object> shards = List.of(Map.of("name", "a", "cluster", "c1"), Map.of("name", "b", "cluster", "c2"));
        assertError("databases.app.shards[1].cluster: 'nope' is not under clusters: (clusters: [c1, c2])",
                database(List.of(Map.of("name", "a", "cluster", "c1"), Map.of("name", "b", "cluster", "nope")), Map.of()), clusters);
        assertError("databases.app.tables.t.strategy: unknown strategy 'modulo' (hash or range)",
                database(shards, Map.of("t", Map.of("key", "id", "strategy", "modulo"))), clusters);
        assertError("databases.app.tables.t.type: unknown key type 'float' (integer, decimal, string, date)",
                database(shards, Map.of("t", Map.of("key", "id", "strategy", "hash", "type", "float"))), clusters);
        assertError("databases.app.tables.t.ranges.a: expected a half-open range like \"[MIN,1000)\", got '[MIN,10]'",
                database(shards, Map.of("t", Map.of("key", "id", "strategy", "range", "ranges", Map.of("a", "[MIN,10]", "b", "[10,MAX)")))), clusters);
        assertError("databases.app.tables.t.ranges: ranges must cover MIN to MAX without gaps or overlaps: b [20,MAX) should start at 10",
                database(shards, Map.of("t", Map.of("key", "id", "strategy", "range", "ranges", Map.of("a", "[MIN,10)", "b", "[20,MAX)")))), clusters);
        assertError("databases.app.tables.t.ranges.b: bound 'x' is not a integer value",
                database(shards, Map.of("t", Map.of("key", "id", "strategy", "range", "ranges", Map.of("a", "[MIN,10)", "b", "[10,x)")))), clusters);
        assertError("databases.app.tables.t.home: 'c' is not a shard (shards: [a, b])", database(shards, Map.of("t", Map.of("home", "c"))), clusters);
        assertError("databases.app.tables.t.key: expected the shard key column name, got nothing",
                database(shards, Map.of("t", Map.of("strategy", "hash"))), clusters);
        assertError("databases.app.shards[1].cluster: cluster 'c1' already holds shard a (each shard needs its own cluster or database)",
                database(List.of(Map.of("name", "a", "cluster", "c1"), Map.of("name", "b", "cluster", "c1")), Map.of()), clusters);
    }

    private static void assertError(String expected, Object tree, List<String> clusters) {
        ConfigException e = assertThrows(ConfigException.class, () -> ShardMapParser.database("app", tree, clusters, "databases.app"));
        assertEquals(expected, e.getMessage());
    }

    private static Map<String, Object> database(List<Object> shards, Map<String, Object> tables) {
        Map<String, Object> t = new HashMap<>(tables);
        if (t.isEmpty()) {
            t.put("t", Map.of("key", "id", "strategy", "hash"));
        }
        return Map.of("shards", shards, "tables", t);
    }
}
