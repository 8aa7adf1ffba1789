package dev.sluice.proxy.pg.shard;

import dev.sluice.core.shard.ShardPlan;

/**
 * Where one execution of a statement goes: LOCAL (answered by the session itself: a held BEGIN …, with {@code tag}
 * as its CommandComplete tag), ONE shard, MULTI (the shards of {@code mask}), or ERROR ({@code tag} says why).
 *
 * @param sessionState a MULTI of session state (SET …): run on every open shard connection and recorded for later ones
 */
record Route(Kind kind, int shard, long mask, String tag, String sql, ShardPlan plan, boolean sessionState) {
    enum Kind { LOCAL, ONE, MULTI, ERROR }

    static Route one(int shard, String sql, ShardPlan plan) {
        return new Route(Kind.ONE, shard, 1L << shard, null, sql, plan, false);
    }

    static Route local(String tag, String sql, ShardPlan plan) {
        return new Route(Kind.LOCAL, -1, 0, tag, sql, plan, false);
    }

    static Route error(String why, ShardPlan plan) {
        return new Route(Kind.ERROR, -1, 0, why, null, plan, false);
    }
}
