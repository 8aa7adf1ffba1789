package dev.sluice.proxy.net;

import dev.sluice.core.config.ClusterConfig;
import dev.sluice.core.config.NodeConfig;
import dev.sluice.core.route.Router;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Function;

/** One {@link NodePool} per node of a cluster, all of one protocol and one kind of connection. */
public final class NodePools<C extends PooledConnection> {
    private final Map<String, NodePool<C>> pools;

    private NodePools(Map<String, NodePool<C>> pools) {
        this.pools = pools;
    }

    /**
     * A pool per node of {@code config} (pool-max-size, connect-timeout-ms of at least 250 ms), never reusing a
     * connection older than the node's last DOWN in {@code router}; {@code connectors} makes each node's connections.
     */
    public NodePools(ClusterConfig config, Router router, Class<? extends Channel> channelType,
                     Function<NodeConfig, NodePool.Connector<C>> connectors) {
        this(new LinkedHashMap<>());
        for (NodeConfig n : config.nodes()) {
            pools.put(n.name(), new NodePool<>(n.name(), n.host(), n.port(), config.poolMaxSize(), Math.max(250, config.connectTimeoutMs()),
                    connectors.apply(n), channelType, () -> router.generation(n.name())));
        }
    }

    /** No pools: a proxy without a cluster of its own. */
    public static <C extends PooledConnection> NodePools<C> none() {
        return new NodePools<>(Collections.emptyMap());
    }

    /** {@code node}'s pool; an unknown node is a bug (a node name from elsewhere than this cluster's router). */
    public NodePool<C> get(String node) {
        NodePool<C> p = pools.get(node);
        if (p == null) {
            throw new IllegalStateException("no pool for node " + node);
        }
        return p;
    }

    /** {@link NodePool#acquire} on {@code node}'s pool (an {@link AnyNode.Source}). */
    public void acquire(String node, EventLoop loop, BiConsumer<C, Throwable> callback) {
        get(node).acquire(loop, callback);
    }

    /** Connections open per node (in use + idle), in configuration order. */
    public Map<String, Integer> open() {
        Map<String, Integer> m = new LinkedHashMap<>();
        pools.forEach((k, p) -> m.put(k, p.open()));
        return m;
    }

    /** Connections open to {@code node} (in use + idle); 0 for a node without a pool here. */
    public int open(String node) {
        NodePool<C> p = pools.get(node);
        return p == null ? 0 : p.open();
    }

    /** Closes every idle connection (on shutdown). */
    public void closeAll() {
        pools.values().forEach(NodePool::closeAll);
    }
}
