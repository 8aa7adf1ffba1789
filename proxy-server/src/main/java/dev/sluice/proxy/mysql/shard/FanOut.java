package dev.sluice.proxy.mysql.shard;

import dev.sluice.proxy.mysql.My;
import dev.sluice.proxy.mysql.ReplyTracker;
import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;

/**
 * A statement that runs on several shards and answers no rows: a write without a usable key, DDL, a broadcast
 * write, session state. It runs on each shard at once (autocommit: each shard commits on its own); the client
 * gets one OK with the affected rows added up, or, if a shard failed, its error naming the shard and the shards
 * where the statement did run (as the driver reports it, docs/sharding.md "Transactions").
 */
final class FanOut {
    private final ShardedMySession s;
    private final int[] shards;
    private final String sessionState;
    private final My.Err[] errors;
    private final boolean[] ran;
    private int open;
    private long affected;
    private long insertId;

    /** @param sessionState the statement's text when it is session state (remembered for later connections), else null */
    FanOut(ShardedMySession s, int[] shards, String sessionState) {
        this.s = s;
        this.shards = shards;
        this.sessionState = sessionState;
        this.errors = new My.Err[shards.length];
        this.ran = new boolean[shards.length];
        this.open = shards.length;
    }

    /** The reply of shard {@code shard} (one of this fan-out's). */
    ShardConnection.Reply reply(int shard) {
        int k = position(shard);
        ReplyTracker t = new ReplyTracker(s.caps);
        t.start(ReplyTracker.Kind.RESULT);
        return new ShardConnection.Reply() {
            private boolean first = true;

            @Override
            public boolean packet(ShardConnection c, ByteBuf frame) {
                try {
                    if (first && My.first(frame) == 0x00) {
                        ByteBuf b = frame.duplicate().skipBytes(5);
                        affected += My.readLenenc(b);
                        long id = My.readLenenc(b);
                        if (id != 0) {
                            insertId = id;
                        }
                    }
                    first = false;
                    boolean end = t.accept(frame);
                    if (end) {
                        ReplyTracker.Outcome o = t.outcome();
                        if (o.error() != null) {
                            errors[k] = o.error();
                        } else {
                            ran[k] = true;
                        }
                        s.noteStatus(c, o.status());
                        ended();
                    }
                    return end;
                } finally {
                    frame.release();
                }
            }

            @Override
            public void lost(ShardConnection c, Throwable cause) {
                errors[k] = new My.Err(My.ER_CONNECTION_LOST, "08S01", "Lost connection to shard " + c.name + ": " + cause.getMessage());
                ended();
            }
        };
    }

    /** The statement could not even be sent to {@code shard} (its prepare failed there). */
    void failed(int shard, My.Err e) {
        errors[position(shard)] = e;
        ended();
    }

    private int position(int shard) {
        for (int i = 0; i < shards.length; i++) {
            if (shards[i] == shard) {
                return i;
            }
        }
        throw new IllegalArgumentException("shard " + shard + " is not part of this statement");
    }

    private void ended() {
        if (--open > 0) {
            return;
        }
        My.Err first = null;
        String failedOn = null;
        List<String> did = new ArrayList<>();
        for (int i = 0; i < shards.length; i++) {
            String name = s.shards.map.shardName(shards[i]);
            if (errors[i] != null && first == null) {
                first = errors[i];
                failedOn = name;
            } else if (ran[i]) {
                did.add(name);
            }
        }
        if (first == null) {
            if (sessionState != null) {
                s.remember(sessionState);
            }
            s.ok(affected, insertId);
            return;
        }
        s.error(first.code(), first.sqlState(), "shard " + failedOn + ": " + first.message()
                + (did.isEmpty() ? "" : " (the statement did run, and commit, on shard(s) " + did + ")"));
    }
}
