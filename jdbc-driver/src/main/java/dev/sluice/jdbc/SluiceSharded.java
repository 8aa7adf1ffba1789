package dev.sluice.jdbc;

import java.util.List;

/**
 * Sharding facts of a connection to a sharded database ({@code conn.unwrap(SluiceSharded.class)}) or of a
 * statement on one.
 */
public interface SluiceSharded {
    /** The database's shards, in configuration order. */
    List<String> shards();

    /** One shard's cluster: status, drain, switchover, exactly as for an unsharded cluster. */
    SluiceAdmin shard(String name);

    /** The shard the open transaction is pinned to, or null. */
    String transactionShard();

    /** The shards the last statement ran on (of this statement, or of any statement of this connection). */
    List<String> lastShards();
}
