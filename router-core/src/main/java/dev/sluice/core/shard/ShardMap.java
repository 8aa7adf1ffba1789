package dev.sluice.core.shard;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One sharded logical database: its shards (each an ordinary cluster, so routing, lag and failover apply per
 * shard) and the placement of each table. Immutable; built and validated by {@link ShardMapParser}.
 * Sets of shards are bit masks over the shard order (bit i = shard i), hence at most 64 shards.
 */
public final class ShardMap {
    public static final int MAX_SHARDS = 64;
    /** Keyspace ids are unsigned 64-bit numbers. */
    static final Comparator<Object> KEYSPACE_ORDER = (a, b) -> Long.compareUnsigned((Long) a, (Long) b);

    /** A shard: its name, the cluster that holds it, and the keyspace-id range it owns for hash tables. */
    public record Shard(String name, String cluster, KeyRange keyspace) {
    }

    private final String database;
    private final List<Shard> shards;
    private final Map<String, TableRule> tables; // lower-case table name → rule

    ShardMap(String database, List<Shard> shards, Map<String, TableRule> tables) {
        this.database = database;
        this.shards = List.copyOf(shards);
        this.tables = Map.copyOf(tables);
    }

    public String database() {
        return database;
    }

    public List<Shard> shards() {
        return shards;
    }

    public int shardCount() {
        return shards.size();
    }

    public String shardName(int i) {
        return shards.get(i).name();
    }

    public int shardIndex(String name) {
        for (int i = 0; i < shards.size(); i++) {
            if (shards.get(i).name().equals(name)) {
                return i;
            }
        }
        return -1;
    }

    public long allShards() {
        return shards.size() == 64 ? -1L : (1L << shards.size()) - 1;
    }

    /** The rule for a table (name compared case-insensitively, without schema), or null if it is not configured. */
    public TableRule table(String name) {
        return tables.get(name.toLowerCase(Locale.ROOT));
    }

    public Map<String, TableRule> tables() {
        return tables;
    }

    /** The keyspace id of a canonical key: XXH64 of its canonical bytes, read as an unsigned 64-bit number. */
    public static long keyspaceId(KeyType type, Comparable<?> canonical) {
        return XxHash64.hash(type.canonicalBytes(canonical));
    }

    /** The shard index holding canonical key {@code v} of sharded table {@code t}, or -1 if no shard does. */
    public int shardOf(TableRule t, Comparable<?> v) {
        if (t.strategy() == TableRule.Strategy.HASH) {
            Long id = keyspaceId(t.type(), v);
            for (int i = 0; i < shards.size(); i++) {
                if (shards.get(i).keyspace().contains(id, KEYSPACE_ORDER)) {
                    return i;
                }
            }
            return -1;
        }
        Comparator<Object> cmp = valueOrder(t.type());
        for (int i = 0; i < t.ranges().size(); i++) {
            KeyRange r = t.ranges().get(i);
            if (r != null && r.contains(v, cmp)) {
                return i;
            }
        }
        return -1;
    }

    /**
     * The shards that may hold keys between {@code from} and {@code to} (null: unbounded). A hash spreads
     * neighbouring keys everywhere, so for hash tables that is every shard.
     */
    public long shardsBetween(TableRule t, Comparable<?> from, boolean fromInclusive, Comparable<?> to, boolean toInclusive) {
        if (t.strategy() == TableRule.Strategy.HASH) {
            return allShards();
        }
        Comparator<Object> cmp = valueOrder(t.type());
        long mask = 0;
        for (int i = 0; i < t.ranges().size(); i++) {
            KeyRange r = t.ranges().get(i);
            if (r != null && r.overlaps(from, fromInclusive, to, toInclusive, cmp)) {
                mask |= 1L << i;
            }
        }
        return mask;
    }

    /** The shards of a mask by name, in shard order (for messages and tests). */
    public List<String> names(long mask) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < shards.size(); i++) {
            if ((mask & (1L << i)) != 0) {
                out.add(shards.get(i).name());
            }
        }
        return out;
    }

    /**
     * Where a key of a table lives, as {@code ./sluice shard-of TABLE KEY} prints it: the shard, its cluster and why
     * (keyspace id and range for hash tables, the value range for range tables). Throws ShardingException for an
     * unknown table or a key that is not a value of the table's key type.
     */
    public String describe(String tableName, String key) {
        TableRule t = table(tableName);
        if (t == null) {
            throw new ShardingException("table " + tableName + " is not in the shard map of database " + database + " (tables: "
                    + new java.util.TreeSet<>(tables.keySet()) + ")");
        }
        switch (t.kind()) {
            case BROADCAST:
                return t.table() + " -> every shard (broadcast table): " + String.join(", ", names(allShards()));
            case HOME:
                return t.table() + " -> shard " + shardName(t.home()) + " (cluster " + shards.get(t.home()).cluster() + "; home table: all its rows)";
            default:
                break;
        }
        Comparable<?> v = t.type().coerce(key);
        if (v == null) {
            throw new ShardingException("'" + key + "' is not a value of type " + t.type().key() + " (the shard key " + t.keyColumn() + " of " + t.table() + ")");
        }
        int s = shardOf(t, v);
        String where = t.strategy() == TableRule.Strategy.HASH
                ? String.format("keyspace id 0x%016x in %s", keyspaceId(t.type(), v), shards.get(s).keyspace())
                : "range " + t.ranges().get(s);
        return t.table() + " " + t.keyColumn() + "=" + v + " -> shard " + shardName(s) + " (cluster " + shards.get(s).cluster() + "; " + where + ")";
    }

    static Comparator<Object> valueOrder(KeyType type) {
        return (a, b) -> type.compare((Comparable<?>) a, (Comparable<?>) b);
    }
}
