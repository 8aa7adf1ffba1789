package dev.sluice.proxy.mysql.shard;

import dev.sluice.core.shard.ShardPlan;
import dev.sluice.core.shard.ShardingException;
import dev.sluice.proxy.mysql.My;
import dev.sluice.proxy.mysql.ReplyTracker;
import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A sharded session's prepared statements. The client sees the session's own statement ids. The text is planned
 * once at prepare (a statement sharding cannot answer fails there); the client's prepare reply comes from one
 * shard (the transaction's, else the first open one); each execute is routed with its bound parameters and the
 * statement is prepared on a shard the first time an execute goes there. A scatter execute runs the plan's
 * rewritten text (its own statement per shard) with the parameters mapped as the plan says.
 */
final class ShardedStatements {
    /** The id MariaDB clients use for "the statement prepared just before" when pipelining. */
    static final long LAST_PREPARED = 0xffffffffL;

    static final class Stmt {
        final int id;
        final String sql;
        final ShardPlan plan;
        final int numParams;
        final int numColumns;
        byte[] types;
        final List<ByteBuf> longData = new ArrayList<>();
        final boolean[] hasLongData;

        Stmt(int id, String sql, ShardPlan plan, int numParams, int numColumns) {
            this.id = id;
            this.sql = sql;
            this.plan = plan;
            this.numParams = numParams;
            this.numColumns = numColumns;
            this.hasLongData = new boolean[numParams];
        }

        void releaseLongData() {
            longData.forEach(ByteBuf::release);
            longData.clear();
            java.util.Arrays.fill(hasLongData, false);
        }
    }

    private final ShardedMySession s;
    private final Map<Integer, Stmt> byId = new HashMap<>();
    private int nextId = 1;
    private int lastPrepared;

    ShardedStatements(ShardedMySession s) {
        this.s = s;
    }

    private Stmt of(ByteBuf cmd) {
        long id = cmd.getUnsignedIntLE(cmd.readerIndex() + 5);
        return byId.get(id == LAST_PREPARED ? lastPrepared : (int) id);
    }

    // ---- COM_STMT_PREPARE ----

    void prepare(ByteBuf cmd) {
        String sql = My.text(cmd);
        ShardPlan plan;
        try {
            plan = s.shards.router.plan(sql);
        } catch (ShardingException e) {
            cmd.release();
            throw e;
        }
        if (plan.kind() == ShardPlan.Kind.TRANSACTION || "session-state".equals(plan.reason())) {
            cmd.release();
            s.refuse("transaction control and session state cannot be prepared statements on a sharded database: send them as text");
            return;
        }
        int id = nextId++;
        if (nextId <= 0) {
            nextId = 1;
        }
        int on = s.anyShard();
        long mask = 1L << on;
        s.withShards(mask, () -> {
            ShardConnection c = s.conn(on);
            c.send(cmd, s.relayReply(ReplyTracker.Kind.PREPARE, frame -> {
                if (My.first(frame) == 0x00 && My.payloadLength(frame) >= 12) {
                    frame.setIntLE(frame.readerIndex() + 5, id); // the client sees the session's id, whichever shard prepared it
                }
            }, t -> {
                if (t.error() == null) {
                    byId.put(id, new Stmt(id, sql, plan, t.numParams(), t.numColumns()));
                    lastPrepared = id;
                    c.statements.put(id, t.stmtId());
                }
            }));
            c.flush();
        }, cmd);
    }

    // ---- COM_STMT_EXECUTE ----

    void execute(ByteBuf cmd) {
        Stmt st = of(cmd);
        if (st == null) {
            long id = cmd.getUnsignedIntLE(cmd.readerIndex() + 5);
            cmd.release();
            s.error(My.ER_UNKNOWN_STMT, "HY000", "Unknown prepared statement handler (" + id + ") given to mysqld_stmt_execute");
            return;
        }
        ExecuteParams.Param[] params;
        long mask;
        List<Object> values;
        try {
            byte[] types = ExecuteParams.typesIn(cmd, st.numParams);
            if (types != null) {
                st.types = types;
                for (int i = 0; i < s.shards.targets.size(); i++) {
                    ShardConnection c = s.conn(i);
                    if (c != null) {
                        c.typesSent.remove(st.id); // new types: every other connection gets them with its next execute
                    }
                }
            }
            params = ExecuteParams.decode(cmd, st.numParams, st.types, st.hasLongData);
            values = ExecuteParams.values(params);
            mask = s.targets(st.plan, values);
        } catch (RuntimeException e) {
            cmd.release();
            st.releaseLongData();
            throw e;
        }
        int[] on = ShardedMySession.shardsOf(mask);
        if (on.length == 1) {
            s.withShards(mask, () -> prepared(s.conn(on[0]), st, false, c -> {
                sendLongData(c, st, c.statements.get(st.id));
                s.sendStatement(c, forConnection(c, st, cmd, c.statements.get(st.id)), s.relayReply(ReplyTracker.Kind.RESULT, null, t -> { }));
            }, e -> {
                cmd.release();
                s.error(e.code(), e.sqlState(), e.message());
            }), cmd);
            return;
        }
        boolean anyLongData = false;
        for (boolean b : st.hasLongData) {
            anyLongData |= b;
        }
        if (anyLongData) {
            cmd.release();
            st.releaseLongData();
            s.refuse("a parameter sent as long data (a stream or blob) in a statement that runs on several shards is not supported");
            return;
        }
        if (st.plan.read()) {
            if (st.plan.merge() == null) {
                cmd.release();
                s.refuse(st.plan.scatterError());
                return;
            }
            long[] window = Scatter.window(st.plan.merge(), values);
            boolean rewritten = st.plan.scatterSql() != null;
            s.withShards(mask, () -> {
                Scatter sc = new Scatter(s, st.plan.merge(), on, true, window[0], window[1]);
                for (int shard : on) {
                    ByteBuf mine = cmd.copy(); // each shard's execute gets its own statement id written into it
                    prepared(s.conn(shard), st, rewritten, c -> {
                        long inner = (rewritten ? c.scatterStatements : c.statements).get(st.id);
                        ByteBuf exec;
                        if (rewritten && st.plan.paramMap() != null) {
                            exec = ExecuteParams.rebuild(s.client.alloc(), inner, mine, params, st.plan.paramMap(), window[0] + Math.max(0, window[1]));
                            mine.release();
                        } else {
                            exec = forConnection(c, st, mine, inner);
                        }
                        s.sendStatement(c, exec, sc.reply(shard));
                    }, e -> {
                        mine.release();
                        sc.failed(shard, e);
                    });
                }
                cmd.release();
            }, cmd);
            return;
        }
        FanOut f = new FanOut(s, on, null);
        s.withShards(mask, () -> {
            for (int shard : on) {
                ByteBuf mine = cmd.copy();
                prepared(s.conn(shard), st, false, c -> s.sendStatement(c, forConnection(c, st, mine, c.statements.get(st.id)), f.reply(shard)), e -> {
                    mine.release();
                    f.failed(shard, e);
                });
            }
            cmd.release();
        }, cmd);
    }

    /**
     * Runs {@code then} once {@code st} (its own text, or its scatter text) is prepared on {@code c}: at once if it
     * is, else after a prepare whose reply is read here. A failed prepare answers the command with its error.
     */
    private void prepared(ShardConnection c, Stmt st, boolean scatter, Consumer<ShardConnection> then, Consumer<My.Err> failed) {
        Map<Integer, Long> ids = scatter ? c.scatterStatements : c.statements;
        if (ids.containsKey(st.id)) {
            then.accept(c);
            return;
        }
        String text = scatter ? st.plan.scatterSql() : st.sql;
        // the prepare is queued on the connection ahead of the execute sent by `then`, so `then` can run now with the
        // id filled in when the prepare's reply has come: the execute is built only then
        c.send(My.command(s.client.alloc(), My.COM_STMT_PREPARE, text), c.swallow(ReplyTracker.Kind.PREPARE, t -> {
            if (t.error() != null) {
                My.Err e = t.error();
                failed.accept(new My.Err(e.code(), e.sqlState(), "shard " + c.name + ": " + e.message()));
                return;
            }
            ids.put(st.id, t.stmtId());
            then.accept(c);
        }));
        c.flush();
    }

    /** The client's execute for connection {@code c}: its statement id, and the last types if {@code c} has none yet. */
    private static ByteBuf forConnection(ShardConnection c, Stmt st, ByteBuf exec, long innerId) {
        exec.setIntLE(exec.readerIndex() + 5, (int) innerId);
        if (st.numParams > 0 && !c.typesSent.contains(st.id)) {
            if (ExecuteParams.typesIn(exec, st.numParams) == null && st.types != null) {
                exec = ExecuteParams.withTypes(c.channel().alloc(), exec, st.numParams, st.types);
            }
            c.typesSent.add(st.id);
        }
        return exec;
    }

    private static void sendLongData(ShardConnection c, Stmt st, long innerId) {
        for (ByteBuf ld : st.longData) {
            ld.setIntLE(ld.readerIndex() + 5, (int) innerId);
            c.send(ld, null); // no reply, by the protocol
        }
        st.longData.clear();
        java.util.Arrays.fill(st.hasLongData, false);
    }

    // ---- long data, close, reset ----

    void longData(ByteBuf cmd) {
        Stmt st = of(cmd);
        if (st == null || My.payloadLength(cmd) < 7) {
            cmd.release(); // no reply to this command, by the protocol; the execute reports the unknown id
        } else {
            int param = cmd.getUnsignedShortLE(cmd.readerIndex() + 9);
            if (param < st.numParams) {
                st.hasLongData[param] = true;
            }
            st.longData.add(cmd);
        }
        s.finish();
    }

    void close(ByteBuf cmd) {
        Stmt st = of(cmd);
        cmd.release();
        if (st != null) {
            byId.remove(st.id);
            st.releaseLongData();
            for (int i = 0; i < s.shards.targets.size(); i++) {
                ShardConnection c = s.conn(i);
                if (c == null || !c.usable()) {
                    continue;
                }
                for (Map<Integer, Long> ids : List.of(c.statements, c.scatterStatements)) {
                    Long inner = ids.remove(st.id);
                    if (inner != null) {
                        c.send(My.seal(My.start(c.channel().alloc(), 0).writeByte(My.COM_STMT_CLOSE).writeIntLE(inner.intValue())), null);
                    }
                }
                c.typesSent.remove(st.id);
                c.flush();
            }
        }
        s.finish(); // no reply, by the protocol
    }

    void reset(ByteBuf cmd) {
        Stmt st = of(cmd);
        cmd.release();
        if (st == null) {
            s.error(My.ER_UNKNOWN_STMT, "HY000", "Unknown prepared statement handler given to mysqld_stmt_reset");
            return;
        }
        st.releaseLongData(); // nothing else to reset: no cursors are opened on a sharded database
        s.ok(0, 0);
    }

    /** A shard connection died: its statement ids are gone with it. */
    void lost(ShardConnection c) {
        c.statements.clear();
        c.scatterStatements.clear();
    }

    void clear() {
        byId.values().forEach(Stmt::releaseLongData);
        byId.clear();
    }
}
