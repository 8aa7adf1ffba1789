package dev.sluice.coord.zk;

import dev.sluice.core.config.ClusterConfig;
import dev.sluice.core.coord.CoordinationStatus;
import dev.sluice.core.coord.Coordinator;
import dev.sluice.core.coord.SharedTopology;
import dev.sluice.core.failover.FailoverResult;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.curator.framework.recipes.nodes.PersistentNode;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cluster mode on ZooKeeper through Apache Curator. Per cluster, under {@code <root>/clusters/<name>/}:
 *
 * <ul>
 *   <li>{@code topology}: the {@link SharedTopology} JSON, changed only by versioned setData (compare-and-set),
 *       so epoch and primary always change together;</li>
 *   <li>{@code config}: shared option overrides;</li>
 *   <li>{@code leader/}: a {@link LeaderLatch}; the leader runs failovers, switchovers and forwarded requests;</li>
 *   <li>{@code instances/<name>}: one ephemeral znode per live instance (a {@link PersistentNode}, re-created
 *       after a session loss) with the epoch and primary it routes by;</li>
 *   <li>{@code requests/}: admin requests for the leader ({@link ZkRequests}).</li>
 * </ul>
 *
 * A {@link CuratorCache} on the cluster's path delivers every change to the {@link Listener} within
 * milliseconds. Fail-safe: when the connection is SUSPENDED or LOST, writes stay allowed for
 * {@code coordination-session-grace-ms}, then are refused until the instance has reconnected and re-read the
 * shared record. Each instance owns its own client: nothing is static.
 */
public final class ZkCoordinator implements Coordinator {
    private static final Logger log = LoggerFactory.getLogger(ZkCoordinator.class);

    private final String cluster;
    private final String name;
    private final String connect;
    private final String base;
    private final String topologyPath;
    private final String configPath;
    private final String instancesPath;
    private final String requestsPath;
    private final long graceNanos;
    private final int sessionTimeoutMs;
    private final CuratorFramework client;
    private final LeaderLatch latch;
    private final PersistentNode registration;
    private final CuratorCache cache;
    private final ZkRequests requests;
    /** One thread: listener calls arrive in order, and never on Curator's own event thread. */
    private final ScheduledExecutorService events;
    private volatile Listener listener;
    private volatile SharedTopology current;
    private volatile Map<String, String> options = Map.of();
    private volatile boolean synced;
    private volatile long downSinceNanos; // 0 while connected or before the first sync
    private volatile boolean everSynced;
    private volatile String sessionState = "CONNECTING";
    private volatile long appliedEpoch;
    private volatile String appliedPrimary;

    public ZkCoordinator(ClusterConfig config) {
        this.cluster = config.name();
        this.name = config.coordinationInstanceName();
        this.connect = config.coordinationConnect();
        this.base = ZKPaths.makePath(config.coordinationRoot(), "clusters", cluster);
        this.topologyPath = base + "/topology";
        this.configPath = base + "/config";
        this.instancesPath = base + "/instances";
        this.requestsPath = base + "/requests";
        this.sessionTimeoutMs = config.coordinationSessionTimeoutMs();
        this.graceNanos = TimeUnit.MILLISECONDS.toNanos(config.coordinationSessionGraceMs());
        this.client = CuratorFrameworkFactory.builder().connectString(connect)
                .sessionTimeoutMs(sessionTimeoutMs)
                .connectionTimeoutMs(Math.min(sessionTimeoutMs, 5000))
                .retryPolicy(new ExponentialBackoffRetry(100, 3, 1000))
                .build();
        this.latch = new LeaderLatch(client, base + "/leader", name);
        this.registration = new PersistentNode(client, CreateMode.EPHEMERAL, false, instancesPath + "/" + name, instanceJson());
        this.cache = CuratorCache.build(client, base);
        ScheduledThreadPoolExecutor ex = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "sluice-coord-" + cluster + "-" + name);
            t.setDaemon(true);
            return t;
        });
        ex.setRemoveOnCancelPolicy(true);
        this.events = ex;
        this.requests = new ZkRequests(client, requestsPath, name, this::isLeader, cluster);
    }

    @Override
    public boolean clustered() {
        return true;
    }

    @Override
    public String instanceName() {
        return name;
    }

    /**
     * Connects and joins the election; waits up to the session timeout for the first sync, so a starting
     * instance normally knows the shared primary before its first probe round. Without ZooKeeper it still
     * starts, refusing writes (fail-safe) until it can sync.
     */
    @Override
    public void start(Listener l, RequestHandler handler) {
        this.listener = l;
        requests.setHandler(handler);
        client.getConnectionStateListenable().addListener((c, state) -> stateChanged(state), events);
        latch.addListener(new LeaderLatchListener() {
            @Override
            public void isLeader() {
                publishSelf();
                event("leader", name + " is the leader (runs failovers and switchovers)");
                requests.becameLeader();
            }

            @Override
            public void notLeader() {
                publishSelf();
                event("leader-lost", name + " is no longer the leader");
            }
        }, events);
        cache.listenable().addListener(CuratorCacheListener.builder()
                .forCreatesAndChanges((old, data) -> changed(data))
                .build(), events);
        client.start();
        cache.start();
        registration.start();
        try {
            latch.start();
        } catch (Exception e) {
            throw new IllegalStateException("cluster '" + cluster + "': could not join the leader election: " + e.getMessage(), e);
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(sessionTimeoutMs);
        while (!synced && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20); // start-up only: bounded by the session timeout
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (!synced) {
            log.warn("cluster '{}': instance {} could not reach ZooKeeper at {} within {} ms: writes are refused until it can",
                    cluster, name, connect, sessionTimeoutMs);
        }
    }

    private void stateChanged(ConnectionState state) {
        sessionState = state.name();
        switch (state) {
            case CONNECTED, RECONNECTED -> resync();
            case SUSPENDED, LOST, READ_ONLY -> {
                if (synced || (everSynced && downSinceNanos == 0)) {
                    downSinceNanos = System.nanoTime();
                    long grace = TimeUnit.NANOSECONDS.toMillis(graceNanos);
                    event("zookeeper-" + state.name().toLowerCase(java.util.Locale.ROOT),
                            "connection to ZooKeeper " + state.name() + ": writes continue for " + grace + " ms, then stop until it is back");
                    events.schedule(() -> {
                        if (!synced) {
                            event("writes-refused", writesRefusedReason());
                        }
                    }, grace + 1, TimeUnit.MILLISECONDS);
                }
                synced = false;
            }
            default -> {
            }
        }
    }

    /** (Re)connected: read the shared record and config before allowing writes again. */
    private void resync() {
        try {
            for (String p : new String[] {instancesPath, requestsPath}) {
                if (client.checkExists().forPath(p) == null) {
                    try {
                        client.create().creatingParentsIfNeeded().forPath(p);
                    } catch (KeeperException.NodeExistsException e) {
                        // another instance made it
                    }
                }
            }
            applyTopology(read(topologyPath));
            ZkJson.SharedConfig c = ZkJson.config(read(configPath));
            if (c != null) {
                applyOptions(c.options());
            }
            boolean wasDown = downSinceNanos != 0;
            downSinceNanos = 0;
            synced = true;
            everSynced = true;
            publishSelf();
            if (wasDown) {
                event("zookeeper-resynced", "reconnected; shared epoch " + (current == null ? "none yet" : current.epoch())
                        + ": writes allowed again");
            }
        } catch (Exception e) {
            log.warn("cluster '{}': resync with ZooKeeper failed ({}); retrying", cluster, e.toString());
            if (client.getZookeeperClient().isConnected()) {
                events.schedule(this::resync, 200, TimeUnit.MILLISECONDS);
            }
        }
    }

    private byte[] read(String path) throws Exception {
        try {
            return client.getData().forPath(path);
        } catch (KeeperException.NoNodeException e) {
            return null;
        }
    }

    private void changed(ChildData data) {
        String p = data.getPath();
        try {
            if (p.equals(topologyPath)) {
                applyTopology(data.getData());
            } else if (p.equals(configPath)) {
                ZkJson.SharedConfig c = ZkJson.config(data.getData());
                applyOptions(c == null ? Map.of() : c.options());
            } else if (ZKPaths.getPathAndNode(p).getPath().equals(requestsPath)) {
                requests.seen(p, data.getData());
            }
        } catch (RuntimeException e) {
            log.warn("cluster '{}': ignoring unreadable znode {}: {}", cluster, p, e.toString());
        }
    }

    private void applyTopology(byte[] data) {
        SharedTopology t = ZkJson.topology(data);
        if (t == null) {
            return;
        }
        SharedTopology cur = current;
        if (cur == null || t.epoch() >= cur.epoch()) { // records never go back; a late cache event is dropped
            current = t;
            Listener l = listener;
            if (l != null) {
                l.topologyChanged(t);
            }
        }
    }

    private void applyOptions(Map<String, String> o) {
        options = Map.copyOf(o);
        Listener l = listener;
        if (l != null) {
            l.optionsChanged(options);
        }
    }

    @Override
    public SharedTopology current() {
        return current;
    }

    @Override
    public SharedTopology seed(String primary, long epoch) {
        try {
            SharedTopology t = new SharedTopology(primary, null, epoch, Set.of(), name);
            client.create().creatingParentsIfNeeded().forPath(topologyPath, ZkJson.write(t));
            log.info("cluster '{}': {} seeded the shared topology: primary {}, epoch {}", cluster, name, primary, epoch);
            return t;
        } catch (KeeperException.NodeExistsException e) {
            try {
                return ZkJson.topology(read(topologyPath));
            } catch (Exception r) {
                return null;
            }
        } catch (Exception e) {
            log.warn("cluster '{}': could not seed the shared topology: {}", cluster, e.toString());
            return null;
        }
    }

    @Override
    public SharedTopology tryPublishPromotion(long expectedEpoch, String newPrimary) {
        if (!synced) {
            return null;
        }
        try {
            Stat stat = new Stat();
            SharedTopology cur;
            try {
                cur = ZkJson.topology(client.getData().storingStatIn(stat).forPath(topologyPath));
            } catch (KeeperException.NoNodeException e) {
                SharedTopology first = new SharedTopology(newPrimary, null, expectedEpoch + 1, Set.of(), name);
                client.create().creatingParentsIfNeeded().forPath(topologyPath, ZkJson.write(first));
                return first;
            }
            if (cur == null || cur.epoch() != expectedEpoch) {
                return null;
            }
            String previous = newPrimary.equals(cur.primary()) ? cur.previous() : cur.primary();
            SharedTopology next = new SharedTopology(newPrimary, previous, expectedEpoch + 1, cur.drained(), name);
            client.setData().withVersion(stat.getVersion()).forPath(topologyPath, ZkJson.write(next));
            log.info("cluster '{}': {} published epoch {}: primary {}", cluster, name, next.epoch(), newPrimary);
            return next;
        } catch (KeeperException.BadVersionException | KeeperException.NodeExistsException e) {
            return null; // someone else changed it first: the compare-and-set lost
        } catch (Exception e) {
            log.warn("cluster '{}': could not publish the promotion of {}: {}", cluster, newPrimary, e.toString());
            return null;
        }
    }

    @Override
    public void publishDrained(String node, boolean drained) {
        for (int attempt = 0; attempt < 10; attempt++) {
            try {
                Stat stat = new Stat();
                SharedTopology cur = ZkJson.topology(client.getData().storingStatIn(stat).forPath(topologyPath));
                Set<String> d = new HashSet<>(cur.drained());
                if (!(drained ? d.add(node) : d.remove(node))) {
                    return;
                }
                SharedTopology next = new SharedTopology(cur.primary(), cur.previous(), cur.epoch(), d, name);
                client.setData().withVersion(stat.getVersion()).forPath(topologyPath, ZkJson.write(next));
                return;
            } catch (KeeperException.BadVersionException e) {
                // a concurrent change (a promotion, another drain): read again
            } catch (KeeperException.NoNodeException e) {
                throw new IllegalStateException("cluster '" + cluster + "': no shared topology yet (no primary seen): cannot record the drain");
            } catch (Exception e) {
                throw new IllegalStateException("cluster '" + cluster + "': could not record the drain in ZooKeeper: " + e.getMessage(), e);
            }
        }
        throw new IllegalStateException("cluster '" + cluster + "': the shared topology kept changing: drain not recorded, retry");
    }

    @Override
    public Map<String, String> sharedOptions() {
        return options;
    }

    @Override
    public void publishOptions(Map<String, String> o) {
        byte[] json = ZkJson.write(new ZkJson.SharedConfig(o, name));
        try {
            try {
                client.setData().forPath(configPath, json);
            } catch (KeeperException.NoNodeException e) {
                client.create().creatingParentsIfNeeded().forPath(configPath, json);
            }
        } catch (Exception e) {
            throw new IllegalStateException("cluster '" + cluster + "': could not publish the config to ZooKeeper: " + e.getMessage(), e);
        }
    }

    @Override
    public boolean isLeader() {
        return synced && latch.hasLeadership();
    }

    @Override
    public FailoverResult askLeader(Request r) {
        return requests.ask(r);
    }

    @Override
    public boolean writesAllowed() {
        if (synced) {
            return true;
        }
        long down = downSinceNanos;
        return down != 0 && System.nanoTime() - down < graceNanos;
    }

    @Override
    public String writesRefusedReason() {
        if (writesAllowed()) {
            return null;
        }
        if (!everSynced) {
            return "not connected to ZooKeeper (" + connect + ") yet: cluster mode refuses writes until it knows the shared epoch";
        }
        long down = downSinceNanos;
        long ms = down == 0 ? 0 : TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - down);
        return "ZooKeeper connection " + sessionState + " for " + ms + " ms (more than coordination-session-grace-ms "
                + TimeUnit.NANOSECONDS.toMillis(graceNanos) + "): another instance may be promoting; writes resume once "
                + "reconnected and resynced with the shared epoch";
    }

    @Override
    public void reportApplied(long epoch, String primary) {
        appliedEpoch = epoch;
        appliedPrimary = primary;
        publishSelf();
    }

    private byte[] instanceJson() {
        return ZkJson.write(new CoordinationStatus.Instance(name, appliedEpoch, appliedPrimary, isLeader(), writesAllowed()));
    }

    private void publishSelf() {
        try {
            registration.setData(instanceJson());
        } catch (Exception e) {
            log.debug("cluster '{}': could not update registration: {}", cluster, e.toString());
        }
    }

    @Override
    public CoordinationStatus status() {
        List<CoordinationStatus.Instance> list = new ArrayList<>();
        String leader = null;
        boolean selfListed = false;
        for (ChildData d : cache.stream().filter(d -> ZKPaths.getPathAndNode(d.getPath()).getPath().equals(instancesPath)).toList()) {
            CoordinationStatus.Instance i;
            try {
                i = ZkJson.instance(d.getData());
            } catch (RuntimeException e) {
                continue;
            }
            if (i == null) {
                continue;
            }
            if (i.name().equals(name)) { // our own entry as we know it now, not as last written
                i = new CoordinationStatus.Instance(name, appliedEpoch, appliedPrimary, isLeader(), writesAllowed());
                selfListed = true;
            }
            if (i.leader()) {
                leader = i.name();
            }
            list.add(i);
        }
        if (!selfListed) {
            list.add(new CoordinationStatus.Instance(name, appliedEpoch, appliedPrimary, isLeader(), writesAllowed()));
            if (isLeader()) {
                leader = name;
            }
        }
        list.sort(java.util.Comparator.comparing(CoordinationStatus.Instance::name));
        SharedTopology t = current;
        return new CoordinationStatus("zookeeper", name, leader, list, sessionState, writesAllowed(), writesRefusedReason(),
                t == null ? appliedEpoch : t.epoch());
    }

    private void event(String type, String message) {
        Listener l = listener;
        if (l != null) {
            l.coordinationEvent(type, message);
        }
    }

    @Override
    public void close() {
        requests.close();
        for (AutoCloseable c : new AutoCloseable[] {latch, registration, cache, client}) {
            try {
                c.close();
            } catch (Exception e) {
                log.debug("cluster '{}': closing {}: {}", cluster, c.getClass().getSimpleName(), e.toString());
            }
        }
        events.shutdownNow();
    }
}
