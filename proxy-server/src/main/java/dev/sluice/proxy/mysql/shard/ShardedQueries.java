package dev.sluice.proxy.mysql.shard;

import dev.sluice.core.shard.ShardPlan;
import dev.sluice.core.shard.ShardingException;
import dev.sluice.core.sql.StatementKind;
import dev.sluice.proxy.mysql.My;
import dev.sluice.proxy.mysql.ReplyTracker;
import io.netty.buffer.ByteBuf;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a sharded session does with COM_QUERY text: KILL and USE itself; transaction control by the session's
 * {@link PinnedTransaction}; everything else by its {@code ShardPlan} — one shard relayed, a read on several merged
 * ({@link Scatter}), a write on several run on each ({@link FanOut}).
 */
final class ShardedQueries {
    private static final Logger log = LoggerFactory.getLogger(ShardedQueries.class);
    private static final Logger routes = LoggerFactory.getLogger("dev.sluice.routes");
    private static final Pattern KILL = Pattern.compile("(?is)\\s*KILL\\s+(?:(?:HARD|SOFT)\\s+)?(QUERY\\s+(?:ID\\s+)?|CONNECTION\\s+)?(\\d+)\\s*;?\\s*");
    private static final Pattern USE = Pattern.compile("(?is)\\s*USE\\s+`?([^`;\\s]+)`?\\s*;?\\s*");

    private final ShardedMySession s;

    ShardedQueries(ShardedMySession s) {
        this.s = s;
    }

    void query(ByteBuf cmd, String sql) {
        Matcher k = KILL.matcher(sql);
        if (k.matches()) {
            cmd.release();
            java.math.BigInteger target = new java.math.BigInteger(k.group(2));
            if (target.bitLength() > 31) {
                s.error(My.ER_NO_SUCH_THREAD, "HY000", "Unknown thread id: " + k.group(2));
                return;
            }
            kill(target.intValue(), k.group(1) != null && k.group(1).toUpperCase(Locale.ROOT).startsWith("QUERY"));
            return;
        }
        Matcher u = USE.matcher(sql);
        if (u.matches()) {
            cmd.release();
            useDatabase(u.group(1));
            return;
        }
        ShardPlan plan;
        try {
            plan = s.shards.router.plan(sql);
        } catch (ShardingException e) {
            cmd.release();
            throw e;
        }
        if (plan.kind() == ShardPlan.Kind.TRANSACTION) {
            transactionControl(cmd, sql);
            return;
        }
        long mask;
        try {
            mask = s.targets(plan, List.of());
        } catch (ShardingException e) {
            cmd.release();
            throw e;
        }
        logRoute(plan, mask, sql);
        boolean sessionState = "session-state".equals(plan.reason());
        if (Long.bitCount(mask) == 1) {
            int shard = Long.numberOfTrailingZeros(mask);
            s.withShards(mask, () -> s.relay(s.conn(shard), cmd, ReplyTracker.Kind.RESULT, true, t -> {
                if (sessionState && t.error() == null) {
                    s.remember(sql);
                }
            }), cmd);
        } else if (plan.read()) {
            if (plan.merge() == null) {
                cmd.release();
                throw new ShardingException(plan.scatterError());
            }
            String scatterSql = plan.scatterSql() != null ? plan.scatterSql() : sql;
            cmd.release();
            long[] window = Scatter.window(plan.merge(), List.of());
            s.withShards(mask, () -> {
                Scatter sc = new Scatter(s, plan.merge(), ShardedMySession.shardsOf(mask), false, window[0], window[1]);
                for (int shard : ShardedMySession.shardsOf(mask)) {
                    s.sendStatement(s.conn(shard), My.command(s.client.alloc(), My.COM_QUERY, scatterSql), sc.reply(shard));
                }
            }, null);
        } else {
            FanOut f = new FanOut(s, ShardedMySession.shardsOf(mask), sessionState ? sql : null);
            s.withShards(mask, () -> {
                for (int shard : ShardedMySession.shardsOf(mask)) {
                    s.sendStatement(s.conn(shard), cmd.retainedDuplicate(), f.reply(shard));
                }
                cmd.release();
            }, cmd);
        }
    }

    private void transactionControl(ByteBuf cmd, String sql) {
        StatementKind k = s.shards.router.classify(sql).kind();
        if (k == StatementKind.BEGIN || k == StatementKind.BEGIN_READ_ONLY || k == StatementKind.BEGIN_READ_WRITE) {
            cmd.release();
            if (!s.tx.begin(sql)) { // held back: sent with the transaction's first statement, to that statement's shard
                s.error(1400, "25001", "a transaction is already open (Sluice holds one transaction per session, on one shard)");
                return;
            }
            s.ok(0, 0);
            return;
        }
        if (k == StatementKind.COMMIT || k == StatementKind.ROLLBACK) {
            int pinned = s.tx.end();
            if (pinned < 0) {
                cmd.release();
                s.ok(0, 0);
                return;
            }
            s.withShards(1L << pinned, () -> s.relay(s.conn(pinned), cmd, ReplyTracker.Kind.RESULT, true, t -> { }), cmd);
            return;
        }
        if (s.tx.pinned() >= 0) {
            int pinned = s.tx.pinned();
            s.withShards(1L << pinned, () -> s.relay(s.conn(pinned), cmd, ReplyTracker.Kind.RESULT, true, t -> { }), cmd);
        } else if (!s.inTransaction()) { // e.g. SET TRANSACTION for the next transaction: every shard's session
            long all = s.shards.map.allShards();
            FanOut f = new FanOut(s, ShardedMySession.shardsOf(all), null);
            s.withShards(all, () -> {
                for (int shard : ShardedMySession.shardsOf(all)) {
                    s.sendStatement(s.conn(shard), cmd.retainedDuplicate(), f.reply(shard));
                }
                cmd.release();
            }, cmd);
        } else {
            cmd.release();
            s.refuse("'" + sql.strip() + "' before the transaction has chosen its shard: run a statement that touches the shard first");
        }
    }

    void useDatabase(String db) {
        if (db.equalsIgnoreCase(s.shards.database)) {
            s.ok(0, 0); // the logical database: each shard's connection is on its own database already
        } else {
            s.refuse("this proxy serves the sharded database '" + s.shards.database + "': each shard is its own database, so USE " + db
                    + " cannot be followed; connect to the database you want instead");
        }
    }

    private void logRoute(ShardPlan plan, long mask, String sql) {
        if (s.shards.logRoutes) {
            routes.info("{} -> shards {}  [{}]  {}", s.user, s.shards.map.names(mask), plan.reason(), abbreviate(sql));
        } else if (log.isDebugEnabled()) {
            log.debug("{}: {} -> shards {} ({})", s.user, abbreviate(sql), s.shards.map.names(mask), plan.reason());
        }
    }

    private static String abbreviate(String sql) {
        String s = sql.replaceAll("\\s+", " ").strip();
        return s.length() <= 90 ? s : s.substring(0, 87) + "...";
    }

    void kill(int target, boolean queryOnly) {
        ShardedMySession t = s.shards.session(target);
        if (t == null) {
            s.error(My.ER_NO_SUCH_THREAD, "HY000", "Unknown thread id: " + target);
            return;
        }
        if (!t.user.equals(s.user)) {
            s.error(1095, "HY000", "You are not owner of thread " + target);
            return;
        }
        t.onLoop(() -> {
            t.killQueries();
            if (!queryOnly) {
                t.client.close();
            }
        });
        s.ok(0, 0);
    }
}
