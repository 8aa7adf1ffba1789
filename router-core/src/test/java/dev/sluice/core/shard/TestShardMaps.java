package dev.sluice.core.shard;

import java.util.List;
import java.util.Map;

/** The shard map the golden cases use: three shards, a hash table pair, a range table, home and broadcast tables. */
final class TestShardMaps {
    private TestShardMaps() {
    }

    static Object tree() {
        return Map.of("shards", List.of(Map.of("name", "s1", "cluster", "c1"), Map.of("name", "s2", "cluster", "c2"),
                        Map.of("name", "s3", "cluster", "c3")),
                "tables", Map.of(
                        "orders", Map.of("key", "customer_id", "strategy", "hash"),
                        "customers", Map.of("key", "id", "strategy", "hash"),
                        "products", Map.of("key", "sku", "strategy", "hash", "type", "string"),
                        "events", Map.of("key", "id", "strategy", "range",
                                "ranges", Map.of("s1", "[MIN,1000)", "s2", "[1000,5000)", "s3", "[5000,MAX)")),
                        "days", Map.of("key", "day", "strategy", "range", "type", "date",
                                "ranges", Map.of("s1", "[MIN,2024-01-01)", "s2", "[2024-01-01,2025-01-01)", "s3", "[2025-01-01,MAX)")),
                        "countries", Map.of("broadcast", true),
                        "notes", Map.of("key", "k", "strategy", "hash"),
                        "settings", Map.of("home", "s1"),
                        "audit", Map.of("home", "s2")));
    }

    static ShardMap map() {
        return ShardMapParser.database("app", tree(), List.of("c1", "c2", "c3"), "databases.app");
    }
}
