package dev.sluice.proxy.pg.shard;

import dev.sluice.proxy.pg.FrontSession;
import dev.sluice.proxy.pg.Pg;
import dev.sluice.proxy.pg.PgProxy;
import dev.sluice.proxy.shard.ShardEndpoints;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import java.util.Map;

/** A client of a sharded PostgreSQL database (placeholder until the sharded session lands). */
public final class PgShardedSession extends FrontSession {
    private final PgProxy proxy;
    private final Channel client;

    private PgShardedSession(PgProxy proxy, Channel client, int pid, int key) {
        super(pid, key);
        this.proxy = proxy;
        this.client = client;
    }

    /** The session factory of a sharded proxy's outer listener. */
    public static PgProxy.SessionFactory factory(ShardEndpoints shards) {
        return (proxy, ch, user, params, pid, key) -> new PgShardedSession(proxy, ch, pid, key);
    }

    @Override
    public void start() {
        client.writeAndFlush(Pg.error(client.alloc(), "FATAL", Pg.FEATURE_NOT_SUPPORTED, "sharded sessions are not built yet"))
                .addListener(f -> client.close());
    }

    @Override
    public void cancel() {
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        proxy.sessionClosed(this);
    }
}
