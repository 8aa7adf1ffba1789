package dev.sluice.proxy.mysql.shard;

import dev.sluice.core.shard.ShardMap;
import dev.sluice.core.shard.ShardingException;
import dev.sluice.proxy.mysql.My;
import java.util.List;

/**
 * The transaction state of one sharded MySQL session, as the driver keeps it (docs/sharding.md "Transactions"): a
 * transaction stays on one shard. Its first statement that names a shard pins it there; a statement that would touch
 * another shard is refused before it runs. A BEGIN sent as SQL is held back and sent to the pinned shard just before
 * the transaction's first statement. Autocommit and open transactions are also followed from the status flags of
 * the shards' replies (SET autocommit=0, a COMMIT, a rollback after a deadlock).
 */
final class PinnedTransaction {
    private final ShardMap map;
    private boolean autoCommit = true;
    private boolean sqlTransaction;
    private String heldBegin;
    private int pinned = -1;

    PinnedTransaction(ShardMap map) {
        this.map = map;
    }

    boolean inTransaction() {
        return !autoCommit || sqlTransaction;
    }

    /** The pinned shard, or -1. */
    int pinned() {
        return pinned;
    }

    /**
     * Checks {@code mask} (the shards a statement needs) against the transaction, pinning it when this is its first
     * statement on one shard. {@code pins}: false for statements any shard can answer, which choose no shard;
     * {@code sessionState}: SET … changes no data, so every shard's session takes it, in a transaction too.
     */
    void check(long mask, boolean pins, boolean sessionState) {
        if (!inTransaction() || sessionState) {
            return;
        }
        if (pinned < 0 && pins && Long.bitCount(mask) == 1) {
            pinned = Long.numberOfTrailingZeros(mask);
        }
        if (pinned < 0 ? Long.bitCount(mask) > 1 : (mask & ~(1L << pinned)) != 0) {
            List<String> others = map.names(pinned < 0 ? mask : mask & ~(1L << pinned));
            throw new ShardingException("this statement would touch shard(s) " + others + " inside a transaction "
                    + (pinned < 0 ? "(a transaction cannot span shards)" : "pinned to shard " + map.shardName(pinned))
                    + ": a transaction stays on one shard, because a commit on several shards would not be atomic; "
                    + "commit first, or keep the transaction's statements on one shard key");
        }
    }

    /** BEGIN / START TRANSACTION as SQL: held back; false when a transaction is open already. */
    boolean begin(String sql) {
        if (pinned >= 0 || heldBegin != null) {
            return false;
        }
        sqlTransaction = autoCommit;
        heldBegin = sql;
        return true;
    }

    /** The held-back BEGIN to send ahead of a statement on {@code shard}, once (null when there is none for it). */
    String takeBegin(int shard) {
        if (heldBegin == null || shard != pinned) {
            return null;
        }
        String b = heldBegin;
        heldBegin = null;
        return b;
    }

    /** COMMIT / ROLLBACK (or the pinned shard's connection was lost): the transaction ends; returns where it was. */
    int end() {
        int s = pinned;
        pinned = -1;
        heldBegin = null;
        sqlTransaction = false;
        return s;
    }

    /** A reply's final status flags from {@code shard}: autocommit, and whether its transaction is still open. */
    void noteStatus(int shard, int status) {
        if (status < 0) {
            return;
        }
        autoCommit = (status & My.STATUS_AUTOCOMMIT) != 0;
        if ((status & My.STATUS_IN_TRANS) == 0 && shard == pinned) {
            end(); // committed or rolled back there (COMMIT, an implicit commit, a rollback on error)
        } else if ((status & My.STATUS_IN_TRANS) != 0 && pinned < 0 && heldBegin == null) {
            pinned = shard; // a transaction opened there (autocommit off, or BEGIN behind a shard hint)
            sqlTransaction |= autoCommit;
        }
    }

    /** The status flags of an answer the session writes itself. */
    int statusFlags() {
        return (inTransaction() && (pinned >= 0 || heldBegin != null) ? My.STATUS_IN_TRANS : 0)
                | (autoCommit ? My.STATUS_AUTOCOMMIT : 0);
    }

    /** COM_RESET_CONNECTION: no transaction, autocommit on. */
    void reset() {
        end();
        autoCommit = true;
    }
}
