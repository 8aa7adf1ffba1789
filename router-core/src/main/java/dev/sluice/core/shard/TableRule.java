package dev.sluice.core.shard;

import java.util.List;

/**
 * How one table is placed. {@code SHARDED}: rows partitioned by {@code keyColumn}, by hash of the key into
 * the shards' keyspace ranges or by the table's own value {@code ranges} (one per shard, in shard order;
 * null where a shard holds none of this table). {@code HOME}: the whole table on the shard {@code home}.
 * {@code BROADCAST}: a full copy on every shard; writes go to all of them.
 */
public record TableRule(String table, Kind kind, String keyColumn, Strategy strategy, KeyType type,
                        List<KeyRange> ranges, int home) {

    public enum Kind { SHARDED, HOME, BROADCAST }

    public enum Strategy { HASH, RANGE }

    public boolean sharded() {
        return kind == Kind.SHARDED;
    }

    /**
     * Tables with the same placement function put equal keys on the same shard, so a join on their keys runs
     * shard-locally (co-location). Hash tables of one key type share one; range tables must have equal ranges.
     */
    public String family() {
        return strategy == Strategy.HASH ? "hash:" + type.key() : "range:" + type.key() + ":" + ranges;
    }
}
