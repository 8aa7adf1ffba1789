package dev.sluice.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.sluice.core.config.ClusterConfig;
import dev.sluice.core.config.NodeConfig;
import dev.sluice.core.route.NodeStatus;
import dev.sluice.core.route.Router;
import dev.sluice.core.route.Topology;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything the driver keeps per configured cluster: the router, one HikariCP pool per node (created on
 * first use), and the role probes that keep the router's topology current. Owned by one
 * {@link SluiceDriver} instance; shares nothing with other runtimes.
 */
final class ClusterRuntime implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ClusterRuntime.class);

    final ClusterConfig config;
    final Router router;
    private final Map<String, RoleProbe> probes = new LinkedHashMap<>();
    private final Map<String, HikariDataSource> pools = new ConcurrentHashMap<>();
    private final ScheduledExecutorService scheduler;
    private final ExecutorService probeWorkers;
    private final AtomicBoolean probeQueued = new AtomicBoolean();
    private volatile boolean closed;

    ClusterRuntime(ClusterConfig config) {
        this.config = config;
        this.router = new Router(config);
        for (NodeConfig n : config.nodes()) {
            probes.put(n.name(), new RoleProbe(config, n));
        }
        String id = config.name() + "-" + Integer.toHexString(System.identityHashCode(this));
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "sluice-probe-" + id));
        this.probeWorkers = Executors.newFixedThreadPool(config.nodes().size(), r -> daemon(r, "sluice-probe-worker-" + id));
        probeAll();
        scheduler.scheduleWithFixedDelay(this::probeAll, config.probeIntervalMs(), config.probeIntervalMs(), TimeUnit.MILLISECONDS);
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** Probes every node in parallel and installs the new topology. */
    void probeAll() {
        if (closed) {
            return;
        }
        probeQueued.set(false);
        try {
            List<CompletableFuture<NodeStatus>> futures = new ArrayList<>();
            for (RoleProbe p : probes.values()) {
                futures.add(CompletableFuture.supplyAsync(p::probe, probeWorkers));
            }
            List<NodeStatus> statuses = new ArrayList<>();
            for (CompletableFuture<NodeStatus> f : futures) {
                statuses.add(f.join());
            }
            Topology before = router.topology();
            Topology after = Topology.of(statuses);
            router.updateTopology(after);
            if (!sameRoles(before, after)) {
                log.info("cluster '{}' topology: {}", config.name(), after);
            }
        } catch (RuntimeException e) {
            log.warn("cluster '{}': probe round failed", config.name(), e);
        }
    }

    /** Asks for a probe round soon, e.g. after a backend connection failed; coalesces bursts. */
    void probeSoon() {
        if (!closed && probeQueued.compareAndSet(false, true)) {
            try {
                scheduler.execute(this::probeAll);
            } catch (java.util.concurrent.RejectedExecutionException ignored) {
                // shutting down
            }
        }
    }

    private static boolean sameRoles(Topology a, Topology b) {
        if (a.nodes().size() != b.nodes().size()) {
            return false;
        }
        for (int i = 0; i < a.nodes().size(); i++) {
            if (a.nodes().get(i).role() != b.nodes().get(i).role()) {
                return false;
            }
        }
        return true;
    }

    /** A backend connection to {@code node} from its pool. */
    Connection borrow(String node) throws SQLException {
        try {
            return pool(node).getConnection();
        } catch (SQLException e) {
            probeSoon();
            throw e;
        }
    }

    /** Closes a backend connection instead of returning it: its session state must not leak to the next user. */
    void evict(String node, Connection c) {
        HikariDataSource ds = pools.get(node);
        if (ds != null) {
            ds.evictConnection(c);
        }
    }

    private HikariDataSource pool(String node) {
        HikariDataSource ds = pools.computeIfAbsent(node, this::createPool);
        if (closed) {
            throw new IllegalStateException("Sluice runtime for cluster '" + config.name() + "' is closed");
        }
        return ds;
    }

    private HikariDataSource createPool(String node) {
        HikariConfig hc = new HikariConfig();
        hc.setPoolName("sluice-" + config.name() + "-" + node);
        hc.setJdbcUrl(NodeUrls.url(config, config.node(node)));
        hc.setDataSourceProperties(NodeUrls.baseProperties(config));
        if (config.user() != null) {
            hc.setUsername(config.user());
        }
        if (config.password() != null) {
            hc.setPassword(config.password());
        }
        hc.setMaximumPoolSize(config.poolMaxSize());
        hc.setMinimumIdle(Math.min(config.poolMinIdle(), config.poolMaxSize()));
        hc.setConnectionTimeout(Math.max(250, config.connectTimeoutMs()));
        // a node that is down at start must not fail the pool: the router routes around it
        hc.setInitializationFailTimeout(-1);
        return new HikariDataSource(hc);
    }

    @Override
    public void close() {
        closed = true;
        scheduler.shutdownNow();
        probeWorkers.shutdownNow();
        probes.values().forEach(RoleProbe::close);
        pools.values().forEach(HikariDataSource::close);
    }
}
