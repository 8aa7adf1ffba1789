package dev.sluice.jdbc;

import dev.sluice.core.shard.ShardMap;
import dev.sluice.core.sql.Classification;
import dev.sluice.core.sql.StatementKind;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * The transaction state of one sharded connection. A transaction stays on one shard: its first statement pins it
 * to the shard it ran on, and a statement that would touch another shard fails with SQLState {@code 0A000} naming
 * both, before it runs — Sluice never commits one transaction on several shards (without two-phase commit that
 * would not be atomic). A {@code BEGIN} sent as SQL is held back and sent to the shard of the transaction's
 * first statement.
 */
final class ShardTransaction {
    private static final String NOT_SUPPORTED = ShardedConnection.NOT_SUPPORTED;

    private final ShardMap map;
    private final SluiceConnection[] shards;
    private boolean autoCommit = true;
    private boolean sqlTransaction; // BEGIN/START TRANSACTION ran as SQL with autocommit on
    private String pendingBegin; // that BEGIN's text, until the transaction's shard is known
    private int txShard = -1;
    private List<String> lastShards = List.of();

    ShardTransaction(ShardMap map, SluiceConnection[] shards) {
        this.map = map;
        this.shards = shards;
    }

    /** The pinned shard, or -1. */
    int shard() {
        return txShard;
    }

    List<String> lastShards() {
        return lastShards;
    }

    boolean autoCommit() {
        return autoCommit;
    }

    void autoCommit(boolean on) {
        autoCommit = on;
        end();
    }

    boolean inTransaction() {
        return !autoCommit || sqlTransaction;
    }

    /** Where a statement that any shard can answer goes: the transaction's shard, else the first one. */
    int anyShard() {
        return txShard >= 0 ? txShard : 0;
    }

    /**
     * A statement is about to run on {@code mask}: inside a transaction the first one pins the shard (sending a
     * held-back BEGIN there) and any other shard is refused. {@code pins}: false for statements any shard can
     * answer (no table, broadcast reads), which do not choose the transaction's shard.
     */
    void touch(long mask, boolean pins) throws SQLException {
        lastShards = map.names(mask);
        if (!inTransaction()) {
            return;
        }
        if (txShard < 0 && pins && Long.bitCount(mask) == 1) {
            txShard = Long.numberOfTrailingZeros(mask);
        }
        if (txShard < 0 ? Long.bitCount(mask) > 1 : (mask & ~(1L << txShard)) != 0) {
            List<String> others = map.names(txShard < 0 ? mask : mask & ~(1L << txShard));
            throw new SQLException("Sluice: this statement would touch shard(s) " + others + " inside a transaction "
                    + (txShard < 0 ? "(a transaction cannot span shards)" : "pinned to shard " + map.shardName(txShard))
                    + ": a transaction stays on one shard, because a commit on several shards would not be atomic; "
                    + "commit first, or keep the transaction's statements on one shard key", NOT_SUPPORTED);
        }
        if (pendingBegin != null && txShard >= 0) {
            String begin = pendingBegin;
            pendingBegin = null;
            try (Statement s = shards[txShard].createStatement()) {
                s.execute(begin);
            }
        }
    }

    /** BEGIN, COMMIT, ROLLBACK, SAVEPOINT … sent as SQL. */
    void statement(String sql, Classification c) throws SQLException {
        StatementKind k = c.kind();
        if (k == StatementKind.BEGIN || k == StatementKind.BEGIN_READ_ONLY || k == StatementKind.BEGIN_READ_WRITE) {
            if (txShard >= 0 || pendingBegin != null) {
                throw new SQLException("Sluice: a transaction is already open", "25001");
            }
            sqlTransaction = autoCommit;
            pendingBegin = sql; // sent with the transaction's first statement, to that statement's shard
            lastShards = List.of();
            return;
        }
        if (k == StatementKind.COMMIT || k == StatementKind.ROLLBACK) {
            int s = txShard;
            end();
            lastShards = s < 0 ? List.of() : List.of(map.shardName(s));
            if (s >= 0) {
                try (Statement st = shards[s].createStatement()) {
                    st.execute(sql);
                }
            }
            return;
        }
        if (txShard >= 0) {
            lastShards = List.of(map.shardName(txShard));
            try (Statement st = shards[txShard].createStatement()) {
                st.execute(sql);
            }
        } else if (!inTransaction()) { // e.g. SET TRANSACTION for the next transaction: every shard's session
            lastShards = map.names(map.allShards());
            for (SluiceConnection shard : shards) {
                try (Statement st = shard.createStatement()) {
                    st.execute(sql);
                }
            }
        } else {
            throw new SQLException("Sluice: '" + sql.strip() + "' before the transaction has chosen its shard: run a statement "
                    + "that touches the shard first", NOT_SUPPORTED);
        }
    }

    void end() {
        txShard = -1;
        pendingBegin = null;
        sqlTransaction = false;
    }

}
