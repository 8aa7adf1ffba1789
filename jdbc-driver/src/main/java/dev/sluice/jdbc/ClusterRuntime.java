package dev.sluice.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.sluice.core.config.ClusterConfig;
import dev.sluice.core.coord.Coordinator;
import dev.sluice.core.failover.ClusterSync;
import dev.sluice.core.failover.Failover;
import dev.sluice.core.failover.FailoverIo;
import dev.sluice.core.failover.FailoverResult;
import dev.sluice.core.health.HealthMonitor;
import dev.sluice.core.route.Router;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything kept per configured cluster: the router, one HikariCP pool per node (created on first use),
 * and the health monitor (with failover) that keeps the router's topology current. The driver owns one per
 * URL; the proxy server starts one with {@link #start} and routes with its {@link #router()} (it never
 * touches the pools). Shares nothing with other runtimes.
 */
public final class ClusterRuntime implements AutoCloseable, SluiceAdmin {
    private static final Logger log = LoggerFactory.getLogger(ClusterRuntime.class);

    final ClusterConfig config;
    final Router router;
    final HealthMonitor monitor;
    final Failover failover;
    final Coordinator coordinator;
    private final ClusterSync sync;
    private final JdbcFailoverIo failoverIo;
    private final Map<String, HikariDataSource> pools = new ConcurrentHashMap<>();
    private volatile boolean closed;
    private volatile dev.sluice.admin.AdminServer statusServer;

    ClusterRuntime(ClusterConfig config) {
        this(config, io -> io);
    }

    /**
     * The one place a cluster's engine is wired. In cluster mode the coordinator joins before the first probe
     * round, so the router starts with the shared primary and epoch.
     *
     * @param wrapIo tests wrap the failover I/O (e.g. to stop a leader in the middle of a promotion)
     */
    ClusterRuntime(ClusterConfig config, java.util.function.UnaryOperator<FailoverIo> wrapIo) {
        this.config = config;
        this.coordinator = Coordinators.create(config);
        this.router = new Router(config, System::nanoTime, coordinator);
        this.monitor = new HealthMonitor(config, router, new JdbcProbeFactory(config));
        this.failoverIo = new JdbcFailoverIo(config);
        this.failover = new Failover(config, router, monitor, wrapIo.apply(failoverIo));
        this.sync = new ClusterSync(config, router, monitor, failover);
        monitor.setListener(sync);
        monitor.setConnectionCounter(node -> { // this runtime's pools; the proxy installs its own counter
            HikariDataSource ds = pools.get(node);
            return ds == null || ds.getHikariPoolMXBean() == null ? 0 : ds.getHikariPoolMXBean().getTotalConnections();
        });
        coordinator.start(sync, sync);
        monitor.start();
        log.info("cluster '{}' topology: {}", config.name(), router.topology());
    }

    /** Starts probing, heartbeats and (if configured) automatic failover for {@code config}. */
    public static ClusterRuntime start(ClusterConfig config) {
        return new ClusterRuntime(config);
    }

    public Router router() {
        return router;
    }

    public HealthMonitor monitor() {
        return monitor;
    }

    public ClusterConfig config() {
        return config;
    }

    @Override
    public dev.sluice.core.health.ClusterStatus clusterStatus() {
        return monitor.status();
    }

    @Override
    public void drain(String node, boolean drained) {
        String p = router.topology().primary();
        if (p == null) {
            throw new IllegalStateException("cluster '" + config.name() + "': no primary to record the drain on: "
                    + router.topology().noPrimaryReason());
        }
        try {
            failoverIo.setDrained(config.node(p), node, drained);
        } catch (SQLException e) {
            throw new IllegalStateException("cluster '" + config.name() + "': could not record the drain on " + p + ": "
                    + e.getMessage(), e);
        }
        monitor.drain(node, drained); // here at once; other routers within a few heartbeats
        if (coordinator.clustered()) {
            coordinator.publishDrained(node, drained); // cluster mode: every instance, through the shared record
        }
    }

    /** In cluster mode a follower hands promotions to the leader, which runs them (one decision, one epoch). */
    @Override
    public FailoverResult switchover(String node, boolean dryRun) {
        if (!coordinator.isLeader()) {
            return coordinator.askLeader(new Coordinator.Request(Coordinator.Request.SWITCHOVER, node, dryRun));
        }
        return failover.switchover(node, dryRun);
    }

    @Override
    public FailoverResult promote(String node, boolean force) {
        if (!coordinator.isLeader()) {
            return coordinator.askLeader(new Coordinator.Request(Coordinator.Request.PROMOTE, node, force));
        }
        return failover.promote(node, force, "requested" + (force ? " (forced)" : ""));
    }

    @Override
    public Map<String, String> sharedConfig() {
        return coordinator.sharedOptions();
    }

    /**
     * Cluster mode: sets ({@code value} non-null) or removes one shared option for every instance. The whole
     * resulting config is validated here first; an invalid change is never published.
     */
    @Override
    public Map<String, String> setSharedOption(String option, String value) {
        if (!coordinator.clustered()) {
            throw new IllegalStateException("cluster '" + config.name() + "': shared configuration needs cluster mode "
                    + "(coordination-zookeeper-connect); change the file instead");
        }
        Map<String, String> next = new java.util.TreeMap<>(coordinator.sharedOptions());
        if (value == null) {
            next.remove(option);
        } else {
            next.put(option, value);
        }
        ClusterSync.validate(config, next); // ConfigException names the option and the bad value
        coordinator.publishOptions(next);
        return next;
    }

    /** The shared options this instance has applied (they reach it through ZooKeeper, like every other's). */
    public Map<String, String> appliedSharedOptions() {
        return sync.appliedOptions();
    }

    public Coordinator coordinator() {
        return coordinator;
    }

    /**
     * Serves the status page when {@code status-listen} is set: the driver calls this for its runtimes; the
     * proxy does not (it serves its own admin-listen). Fails when the address is taken.
     */
    void startStatusServer() {
        statusServer = StatusServers.start(config, this);
        if (statusServer != null) {
            log.info("cluster '{}': status page on http://{}:{}/", config.name(), config.statusListen().substring(0,
                    config.statusListen().lastIndexOf(':')), statusServer.port());
        }
    }

    /** Where the status page is served, or null when it is not. */
    public java.net.InetSocketAddress statusAddress() {
        dev.sluice.admin.AdminServer s = statusServer;
        return s == null ? null : new java.net.InetSocketAddress(config.statusListen().substring(0, config.statusListen().lastIndexOf(':')), s.port());
    }

    /** Asks for a probe round soon, e.g. after a backend connection failed. */
    public void probeSoon() {
        monitor.probeSoon();
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
        if (statusServer != null) {
            statusServer.close();
        }
        failover.close();
        monitor.close();
        coordinator.close(); // leaves the election and deregisters: another instance leads at once
        pools.values().forEach(HikariDataSource::close);
    }
}
