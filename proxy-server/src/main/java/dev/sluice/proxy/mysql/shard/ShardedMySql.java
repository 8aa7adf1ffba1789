package dev.sluice.proxy.mysql.shard;

import dev.sluice.core.shard.ShardMap;
import dev.sluice.core.shard.ShardRouter;
import dev.sluice.proxy.mysql.My;
import dev.sluice.proxy.mysql.MySqlProxy;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.EventLoop;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * The MySQL side of a sharded proxy: what every sharded session shares (the shard map and router, where each
 * shard's inner proxy listens and how to log in to it, per-shard statement counters, the sessions by connection
 * id for KILL). It is the outer {@link MySqlProxy}'s {@link MySqlProxy.SessionFactory}: that proxy authenticates
 * clients, and each gets a {@link ShardedMySession}.
 */
public final class ShardedMySql implements MySqlProxy.SessionFactory {
    /** One shard's inner proxy. */
    public record Target(String name, InetSocketAddress address) {
    }

    final ShardRouter router;
    final ShardMap map;
    final List<Target> targets;
    final String user;
    final String secret;
    final String database;
    final boolean logRoutes;
    private final AtomicLongArray sent;
    private final Map<Integer, ShardedMySession> sessions = new ConcurrentHashMap<>();

    /**
     * @param user     the inner proxies' internal user
     * @param secret   its password (never logged)
     * @param database the logical database's name (what clients see and may USE)
     */
    public ShardedMySql(ShardRouter router, List<Target> targets, String user, String secret, String database, boolean logRoutes) {
        this.router = router;
        this.map = router.map();
        this.targets = List.copyOf(targets);
        this.user = user;
        this.secret = secret;
        this.database = database;
        this.logRoutes = logRoutes;
        this.sent = new AtomicLongArray(targets.size());
    }

    /** The session factory of a sharded proxy's outer MySQL listener, over the shards' inner proxies. */
    public static ShardedMySql of(dev.sluice.proxy.shard.ShardEndpoints shards, boolean logRoutes) {
        List<Target> targets = shards.shards().stream().map(s -> new Target(s.name(), s.address())).toList();
        return new ShardedMySql(shards.router(), targets, shards.internalUser(), shards.internalSecret(), shards.map().database(), logRoutes);
    }

    /** Statements (queries and executes) sent to each shard so far, by shard index: the per-shard counters. */
    public long[] statementsSent() {
        long[] out = new long[sent.length()];
        for (int i = 0; i < out.length; i++) {
            out[i] = sent.get(i);
        }
        return out;
    }

    void countStatement(int shard) {
        sent.incrementAndGet(shard);
    }

    /** Sharded sessions open now. */
    public int sessionCount() {
        return sessions.size();
    }

    ShardedMySession session(int id) {
        return sessions.get(id);
    }

    void closed(ShardedMySession s) {
        sessions.remove(s.id, s);
    }

    @Override
    public void serverInfo(MySqlProxy proxy, EventLoop loop, BiConsumer<String, Integer> done, Consumer<Throwable> failed) {
        learn(proxy, loop, 0, null, done, failed);
    }

    /** Logs in to the shards' inner proxies in turn until one answers: its greeting is what clients are greeted with. */
    private void learn(MySqlProxy proxy, EventLoop loop, int i, Throwable last, BiConsumer<String, Integer> done, Consumer<Throwable> failed) {
        if (i >= targets.size()) {
            failed.accept(last);
            return;
        }
        Target t = targets.get(i);
        ShardConnection.open(loop, proxy.channelType(), t.address(), i, t.name(), user, secret, My.BACKEND_BASE_CAPS, 45,
                        proxy.maxMessageBytes(), proxy.loginTimeoutMs(), c -> { })
                .whenComplete((c, err) -> {
                    if (err != null) {
                        learn(proxy, loop, i + 1, err, done, failed);
                        return;
                    }
                    done.accept(c.serverVersion, c.serverCaps);
                    c.close();
                });
    }

    @Override
    public ChannelHandler open(MySqlProxy proxy, Channel client, int connectionId, String user, int caps, int collation, String database) {
        ShardedMySession s = new ShardedMySession(this, proxy, client, connectionId, user, caps, collation);
        sessions.put(connectionId, s);
        return s;
    }
}
