package dev.sluice.jdbc;

import dev.sluice.core.config.ClusterConfig;
import dev.sluice.core.shard.ShardMap;
import dev.sluice.core.shard.ShardRouter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Everything kept per sharded logical database: the shard map and router, one {@link ClusterRuntime} per shard
 * (its own router, pools, probes, lag tracking and failover: a shard is an ordinary cluster), and the threads
 * that run a statement on several shards at once. Owned by one driver instance; shares nothing.
 */
final class ShardedRuntime implements AutoCloseable {
    final ShardMap map;
    final ShardRouter router;
    final List<ClusterRuntime> shards;
    final dev.sluice.core.config.Engine engine;
    /**
     * Fan-out threads. Unbounded on purpose: each task blocks on one shard's connection, so the real bound is the
     * number of application connections times shards, and a bounded pool could deadlock a merge waiting on a
     * queued shard. Idle threads end after a minute.
     */
    final ExecutorService fanOut;

    ShardedRuntime(YamlConfig.ShardedConfig cfg) {
        this.map = cfg.map();
        this.engine = cfg.shards().get(0).engine();
        this.router = new ShardRouter(map, engine.dialect());
        List<ClusterRuntime> started = new ArrayList<>();
        try {
            for (ClusterConfig c : cfg.shards()) {
                started.add(new ClusterRuntime(c));
            }
        } catch (RuntimeException e) {
            started.forEach(ClusterRuntime::close);
            throw e;
        }
        this.shards = List.copyOf(started);
        AtomicInteger n = new AtomicInteger();
        this.fanOut = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "sluice-shard-" + map.database() + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public void close() {
        fanOut.shutdownNow();
        shards.forEach(ClusterRuntime::close);
    }
}
