package dev.sluice.proxy.pg.shard;

import dev.sluice.core.shard.ShardMap;
import dev.sluice.core.shard.ShardPlan;
import dev.sluice.core.shard.ShardRouter;
import dev.sluice.core.shard.ShardingException;
import dev.sluice.core.sql.StatementKind;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sharded session's routing and transaction state: which shards one execution goes to, with its parameter
 * values, and the transaction's shard. A transaction stays on one shard: BEGIN (and SAVEPOINT … before any
 * statement) is held back and sent to the shard of the transaction's first statement, which pins it; a statement
 * needing another shard is an ERROR route (0A000) before it runs. Statements any shard answers run on the
 * transaction's shard, or — while none is pinned — outside the transaction, without pinning it.
 */
final class ShardChooser {
    private static final Logger routes = LoggerFactory.getLogger("dev.sluice.routes");

    private final ShardRouter router;
    private final ShardMap map;
    private final ShardLink[] links;
    private final String user;
    private final boolean logRoutes;
    /** BEGIN (and SAVEPOINT …) not sent yet: they go to the shard of the transaction's first statement. */
    private final List<String> held = new ArrayList<>();
    private int pinned = -1;
    private int lastUsed = -1;

    ShardChooser(ShardRouter router, ShardLink[] links, String user, boolean logRoutes) {
        this.router = router;
        this.map = router.map();
        this.links = links;
        this.user = user;
        this.logRoutes = logRoutes;
    }

    /** Where one execution of {@code sql} goes, with these parameter values (index 0 = $1). */
    Route route(String sql, ShardPlan plan, List<Object> params) {
        if (plan.kind() == ShardPlan.Kind.TRANSACTION) {
            return transaction(sql, plan);
        }
        long mask;
        try {
            mask = plan.targets(map, params);
        } catch (ShardingException e) {
            return Route.error(e.getMessage(), plan);
        }
        boolean state = plan.kind() == ShardPlan.Kind.FIXED && "session-state".equals(plan.reason());
        Route r;
        if (mask == 0) {
            r = Route.one(anyShard(), sql, plan);
        } else if (state) {
            if (inTransaction()) {
                r = pinned >= 0 ? Route.one(pinned, sql, plan) : Route.local("SET", sql, plan);
            } else {
                r = new Route(Route.Kind.MULTI, -1, openMask(), null, sql, plan, true);
            }
        } else if (Long.bitCount(mask) == 1) {
            int s = Long.numberOfTrailingZeros(mask);
            r = pinned >= 0 && s != pinned ? Route.error("this transaction is on shard " + map.shardName(pinned) + "; the statement needs shard "
                    + map.shardName(s) + " (a transaction stays on one shard: commit first, or route it by the same key)", plan)
                    : Route.one(s, sql, plan);
        } else if (inTransaction()) {
            r = Route.error("a transaction stays on one shard" + (pinned >= 0 ? " (this one is on " + map.shardName(pinned) + ")" : "")
                    + "; the statement needs shards " + map.names(mask) + ": run it outside the transaction, or route it by the shard key", plan);
        } else if (plan.scatterError() != null || plan.read() && plan.merge() == null) {
            r = Route.error(plan.scatterError() != null ? plan.scatterError() : "this read cannot be merged across shards", plan);
        } else {
            r = new Route(Route.Kind.MULTI, -1, mask, null, sql, plan, false);
        }
        if (logRoutes) {
            routes.info("{}: {} -> {} ({})", user, sql, r.kind() == Route.Kind.ONE ? map.shardName(r.shard())
                    : r.kind() == Route.Kind.MULTI ? map.names(r.mask()) : r.kind(), plan.reason());
        }
        return r;
    }

    /** BEGIN is held until the transaction's first statement; COMMIT/ROLLBACK go to its shard (answered here when there is none). */
    private Route transaction(String sql, ShardPlan plan) {
        StatementKind kind = router.classify(sql).kind();
        switch (kind) {
            case BEGIN, BEGIN_READ_ONLY, BEGIN_READ_WRITE -> {
                // in a transaction already: PostgreSQL warns and carries on; so does the shard that has it
                return pinned >= 0 ? Route.one(pinned, sql, plan) : Route.local("BEGIN", sql, plan);
            }
            case COMMIT, ROLLBACK -> {
                if (pinned >= 0) {
                    return Route.one(pinned, sql, plan);
                }
                if (!held.isEmpty() || !sql.toUpperCase(Locale.ROOT).contains("PREPARED")) {
                    return Route.local(kind == StatementKind.COMMIT ? "COMMIT" : "ROLLBACK", sql, plan);
                }
                return Route.one(anyShard(), sql, plan); // COMMIT PREPARED: the client names a shard by hint
            }
            default -> { // SAVEPOINT, RELEASE, SET TRANSACTION …
                if (pinned >= 0) {
                    return Route.one(pinned, sql, plan);
                }
                return held.isEmpty() ? Route.one(anyShard(), sql, plan) : Route.local(firstWord(sql), sql, plan);
            }
        }
    }

    private static String firstWord(String sql) {
        String s = sql.strip();
        int end = 0;
        while (end < s.length() && Character.isLetter(s.charAt(end))) {
            end++;
        }
        return s.substring(0, end).toUpperCase(Locale.ROOT);
    }

    /** Runs a LOCAL route (held transaction control); returns its CommandComplete tag. */
    String runLocal(Route r) {
        switch (r.tag()) {
            case "BEGIN" -> {
                if (held.isEmpty() && pinned < 0) {
                    held.add(r.sql());
                }
            }
            case "COMMIT", "ROLLBACK" -> held.clear();
            default -> held.add(r.sql());
        }
        return r.tag();
    }

    /**
     * Route {@code r} starts to run on {@code link}: the held BEGIN … to send there first when it is the transaction's
     * first statement (the transaction is pinned there then), else an empty list.
     */
    List<String> starting(ShardLink link, Route r) {
        lastUsed = link.shard;
        if (r == null || held.isEmpty() || pinned >= 0 || r.plan() == null || r.plan().kind() == ShardPlan.Kind.ANY) {
            return List.of();
        }
        pinned = link.shard;
        List<String> out = List.copyOf(held);
        held.clear();
        return out;
    }

    /** A cycle ended on {@code link} (null: in the session): the transaction follows what the shard says. */
    void cycleEnded(ShardLink link) {
        if (link != null && link.txStatus != 'I' && pinned < 0) {
            pinned = link.shard;
        }
        if (pinned >= 0 && (links[pinned] == null || links[pinned].txStatus == 'I')) {
            pinned = -1;
        }
    }

    /** The connection of {@code shard} is gone: true when the transaction was on it (it is lost). */
    boolean lost(int shard) {
        if (pinned == shard) {
            pinned = -1;
            return true;
        }
        return false;
    }

    boolean inTransaction() {
        return pinned >= 0 || !held.isEmpty();
    }

    int pinned() {
        return pinned;
    }

    /** The transaction status the client sees: the pinned shard's, or 'T' while BEGIN is held. */
    char txStatus() {
        if (pinned >= 0 && links[pinned] != null) {
            return links[pinned].txStatus;
        }
        return held.isEmpty() ? 'I' : 'T';
    }

    /** A shard for statements any shard answers: the transaction's, else the last used, else an open one, else the first. */
    int anyShard() {
        if (pinned >= 0) {
            return pinned;
        }
        if (lastUsed >= 0 && links[lastUsed] != null && links[lastUsed].usable()) {
            return lastUsed;
        }
        for (ShardLink l : links) {
            if (l != null && l.usable()) {
                return l.shard;
            }
        }
        return 0;
    }

    /** The shards with an open connection (the first when there is none): where session state runs now. */
    private long openMask() {
        long m = 0;
        for (ShardLink l : links) {
            if (l != null && l.usable()) {
                m |= 1L << l.shard;
            }
        }
        return m == 0 ? 1 : m;
    }
}
