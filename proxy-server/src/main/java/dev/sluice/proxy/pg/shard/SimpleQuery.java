package dev.sluice.proxy.pg.shard;

import dev.sluice.core.shard.ShardPlan;
import dev.sluice.core.shard.ShardingException;
import dev.sluice.proxy.pg.Pg;
import java.util.List;

/**
 * A simple-protocol Query in a sharded session (the counterpart of {@link ExtendedProtocol}): planned by its text,
 * answered by the proxy (an error, a held-back BEGIN …), relayed to one shard, or run on several and merged.
 */
final class SimpleQuery {
    private SimpleQuery() {
    }

    /** False when it cannot start yet (a run is in flight, or a shard link is being opened): it is retried then. */
    static boolean run(PgShardedSession s, String sql) {
        if (s.current != null) {
            return false;
        }
        ShardPlan plan;
        try {
            plan = s.router.plan(sql);
        } catch (ShardingException e) {
            s.writeError(Pg.FEATURE_NOT_SUPPORTED, e.getMessage());
            s.client.write(Pg.readyForQuery(s.client.alloc(), s.chooser.txStatus()));
            return true;
        }
        Route r = s.chooser.route(sql, plan, List.of());
        switch (r.kind()) {
            case ERROR -> {
                s.writeError(Pg.FEATURE_NOT_SUPPORTED, r.tag());
                s.client.write(Pg.readyForQuery(s.client.alloc(), s.chooser.txStatus()));
            }
            case LOCAL -> {
                s.client.write(Wire.commandComplete(s.client.alloc(), s.chooser.runLocal(r)));
                s.client.write(Pg.readyForQuery(s.client.alloc(), s.chooser.txStatus()));
            }
            case ONE -> {
                ShardLink l = s.link(r.shard());
                if (l == null) {
                    return false;
                }
                RelayRun run = s.startRelay(l, r);
                l.write(Pg.query(l.channel().alloc(), sql));
                l.parsed.remove("");
                run.expectCycleEnd();
                l.flush();
            }
            case MULTI -> {
                List<ShardLink> ls = s.links(r.mask());
                if (ls == null) {
                    return false;
                }
                s.startMulti(ls, r, null, null, true, true, true);
            }
            default -> throw new IllegalStateException();
        }
        return true;
    }
}
