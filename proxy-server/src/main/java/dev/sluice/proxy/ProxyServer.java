package dev.sluice.proxy;

import dev.sluice.admin.AdminEndpoints;
import dev.sluice.admin.AdminJson;
import dev.sluice.admin.AdminServer;
import dev.sluice.core.config.ConfigException;
import dev.sluice.jdbc.ClusterRuntime;
import dev.sluice.proxy.alert.Alerts;
import dev.sluice.proxy.metrics.ProxyMetrics;
import dev.sluice.proxy.mysql.MySqlProxy;
import dev.sluice.proxy.net.ListenerSettings;
import dev.sluice.proxy.net.Transport;
import dev.sluice.proxy.pg.PgProxy;
import dev.sluice.proxy.shard.ShardEndpoints;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running proxy process, wired in one place: the cluster runtime (health, lag, failover), the
 * PostgreSQL or MySQL proxy routing with it (by the cluster's engine), and the admin HTTP API reading and
 * steering it.
 */
public final class ProxyServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ProxyServer.class);

    private final ClusterRuntime runtime;
    private final ShardEndpoints shards;
    private final io.netty.channel.EventLoopGroup loops; // sharded mode: shared by the outer and inner proxies
    private final PgProxy pg;
    private final MySqlProxy mysql;
    private final AdminServer admin;
    private final java.net.InetSocketAddress adminAddress;
    private final ProxyMetrics metrics;
    private final Alerts alerts;

    public ProxyServer(ProxyConfig cfg) throws Exception {
        this(cfg, false);
    }

    /** @param logRoutes log every routing decision at INFO (the demo) */
    public ProxyServer(ProxyConfig cfg, boolean logRoutes) throws Exception {
        this(cfg, logRoutes, Map.of());
    }

    /** @param extraAdmin endpoints served next to the admin API's own (the demo's), path → endpoint */
    public ProxyServer(ProxyConfig cfg, boolean logRoutes, Map<String, AdminEndpoints.Endpoint> extraAdmin) throws Exception {
        SslContext ssl = null;
        if (cfg.tlsCert() != null) {
            try {
                ssl = SslContextBuilder.forServer(cfg.tlsCert().toFile(), cfg.tlsKey().toFile()).build();
            } catch (Exception e) {
                throw new ConfigException("proxy.tls-cert / tls-key: cannot load " + cfg.tlsCert() + " and " + cfg.tlsKey()
                        + ": " + e.getMessage());
            }
        }
        boolean isPg = cfg.cluster().engine() == dev.sluice.core.config.Engine.POSTGRESQL;
        Map<String, String> users = new LinkedHashMap<>();
        cfg.users().forEach(u -> users.put(u.name(), u.secret()));
        // half the cores by default: on a 2-core machine shared with pgbench and PostgreSQL one event loop spent
        // 20 % less CPU per transaction than two (fewer wake-ups and migrations between cores)
        int threads = cfg.eventLoopThreads() > 0 ? cfg.eventLoopThreads() : Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
        if (cfg.isSharded()) {
            this.runtime = null;
            this.metrics = null;
            this.alerts = null;
            // PostgreSQL: one set of event loops for the outer listener and the shards' inner proxies, so that a statement's
            // hop from a sharded session to its shard's inner proxy (and back) stays on one thread
            this.loops = isPg ? Transport.detect().newGroup(threads) : null;
            try {
                this.shards = ShardEndpoints.start(cfg.sharded(), new ShardEndpoints.Settings(cfg.maxMessageBytes(), threads, cfg.authTimeoutMs(),
                        logRoutes, loops));
            } catch (Exception | Error e) {
                if (loops != null) {
                    loops.shutdownGracefully();
                }
                throw e;
            }
            PgProxy outerPg = null;
            MySqlProxy outerMy = null;
            try {
                if (isPg) {
                    outerPg = new PgProxy(cfg.sharded().map().database(), new ListenerSettings(cfg.listen(), cfg.auth(), users, ssl, cfg.tlsRequired(),
                            cfg.maxClientConnections(), cfg.maxMessageBytes(), threads, cfg.authTimeoutMs(), logRoutes, cfg.authFailureLimit(),
                            cfg.authFailureWindowMs()), dev.sluice.proxy.pg.shard.PgShardedSession.factory(shards), loops);
                } else {
                    outerMy = new MySqlProxy(cfg.sharded().map().database(), new ListenerSettings(cfg.listen(), cfg.auth(),
                            users, ssl, cfg.tlsRequired(), cfg.maxClientConnections(), cfg.maxMessageBytes(), threads, cfg.authTimeoutMs(), logRoutes,
                            cfg.authFailureLimit(), cfg.authFailureWindowMs()), dev.sluice.proxy.mysql.shard.ShardedMySql.of(shards, logRoutes));
                }
                this.admin = shardedAdmin(cfg, shards, extraAdmin);
            } catch (Exception | Error e) {
                if (outerPg != null) {
                    outerPg.close();
                }
                if (outerMy != null) {
                    outerMy.close();
                }
                shards.close();
                if (loops != null) {
                    loops.shutdownGracefully();
                }
                throw e;
            }
            this.pg = outerPg;
            this.mysql = outerMy;
            this.adminAddress = admin == null ? null : new java.net.InetSocketAddress(cfg.adminListen().getHostString(), admin.port());
            log.info("Sluice sharded proxy up: {} database '{}' ({} shards) on {}, admin API on {}", isPg ? "PostgreSQL" : "MySQL",
                    cfg.sharded().map().database(), shards.size(), address(), adminAddress == null ? "off" : adminAddress);
            return;
        }
        this.shards = null;
        this.loops = null;
        this.runtime = ClusterRuntime.start(cfg.cluster());
        this.metrics = new ProxyMetrics(runtime.router());
        Alerts al = null;
        try {
            if (cfg.alerts().enabled()) {
                al = new Alerts(cfg.cluster().name(), cfg.alerts(), runtime.router().events(), AdminJson.mapper());
                metrics.bindAlerts(al);
            }
            this.alerts = al;
            if (isPg) {
                this.pg = new PgProxy(cfg.cluster(), runtime.router(), runtime::probeSoon, new ListenerSettings(cfg.listen(), cfg.auth(),
                        users, ssl, cfg.tlsRequired(), cfg.maxClientConnections(), cfg.maxMessageBytes(), threads,
                        cfg.authTimeoutMs(), logRoutes, cfg.authFailureLimit(), cfg.authFailureWindowMs()), metrics);
                this.mysql = null;
                runtime.monitor().setConnectionCounter(pg::backendConnections); // the status shows the proxy's pools
                metrics.bind(pg::clientCount, pg::backendConnections);
                if (cfg.cluster().readLanes() > 0) {
                    metrics.counter("sluice.read.lane.groups", "Groups of reads sent together on read lanes", "engine", "postgresql",
                            pg, p -> p.readLaneTraffic()[0]);
                    metrics.counter("sluice.read.lane.reads", "Reads sent on read lanes", "engine", "postgresql", pg, p -> p.readLaneTraffic()[1]);
                }
            } else {
                this.pg = null;
                this.mysql = new MySqlProxy(cfg.cluster(), runtime.router(), runtime::probeSoon, new ListenerSettings(cfg.listen(),
                        cfg.auth(), users, ssl, cfg.tlsRequired(), cfg.maxClientConnections(), cfg.maxMessageBytes(),
                        threads, cfg.authTimeoutMs(), logRoutes, cfg.authFailureLimit(), cfg.authFailureWindowMs()), metrics);
                runtime.monitor().setConnectionCounter(mysql::backendConnections);
                metrics.bind(mysql::clientCount, mysql::backendConnections);
            }
            AdminServer a = null;
            if (cfg.adminListen() != null) {
                a = new AdminServer(cfg.adminListen(), cfg.adminToken(), runtime);
                if (cfg.adminTls()) {
                    try {
                        a.tls(Pem.serverContext(cfg.tlsCert(), cfg.tlsKey()));
                    } catch (java.io.IOException | java.security.GeneralSecurityException e) {
                        throw new ConfigException("proxy.admin-tls: cannot load " + cfg.tlsCert() + " and " + cfg.tlsKey() + ": " + e.getMessage());
                    }
                }
                a.addText("/metrics", ProxyMetrics.CONTENT_TYPE, metrics::scrape);
                extraAdmin.forEach(a::route);
                a.start();
            }
            this.admin = a;
            this.adminAddress = a == null ? null : new java.net.InetSocketAddress(cfg.adminListen().getHostString(), a.port());
        } catch (Exception e) {
            if (al != null) {
                al.close();
            }
            runtime.close();
            throw e;
        }
        log.info("Sluice proxy up: {} on {}, admin API on {}", isPg ? "PostgreSQL" : "MySQL", address(),
                adminAddress == null ? "off" : adminAddress);
    }

    /**
     * A sharded proxy's admin API (docs/admin-api.md, "Sharded proxies"): each shard's runtime under
     * {@code /shards/NAME} — status, drain, promote, switchover, and that shard's metrics at
     * {@code /shards/NAME/metrics} —, the shard index at the root. Null when {@code admin-listen} is off.
     */
    private static AdminServer shardedAdmin(ProxyConfig cfg, ShardEndpoints shards, Map<String, AdminEndpoints.Endpoint> extra) throws Exception {
        if (cfg.adminListen() == null) {
            return null;
        }
        Map<String, dev.sluice.jdbc.SluiceAdmin> byShard = new LinkedHashMap<>();
        shards.shards().forEach(s -> byShard.put(s.name(), s.runtime()));
        AdminServer a = new AdminServer(cfg.adminListen(), cfg.adminToken(), byShard);
        for (ShardEndpoints.Shard s : shards.shards()) {
            a.addText("/shards/" + s.name() + "/metrics", ProxyMetrics.CONTENT_TYPE, s.metrics()::scrape);
        }
        if (cfg.adminTls()) {
            try {
                a.tls(Pem.serverContext(cfg.tlsCert(), cfg.tlsKey()));
            } catch (java.io.IOException | java.security.GeneralSecurityException e) {
                throw new ConfigException("proxy.admin-tls: cannot load " + cfg.tlsCert() + " and " + cfg.tlsKey() + ": " + e.getMessage());
            }
        }
        extra.forEach(a::route);
        a.start();
        return a;
    }

    /** The PostgreSQL proxy; null when the cluster is MySQL/MariaDB. */
    public PgProxy pg() {
        return pg;
    }

    /** The MySQL proxy; null when the cluster is PostgreSQL. */
    public MySqlProxy mysql() {
        return mysql;
    }

    /** Where clients connect (either protocol). */
    public java.net.InetSocketAddress address() {
        return pg != null ? pg.address() : mysql.address();
    }

    /** The cluster runtime; null in sharded mode (see {@link #shards()}). */
    public ClusterRuntime runtime() {
        return runtime;
    }

    /** The shards (their runtimes and inner proxies) in sharded mode ({@code proxy.database}); else null. */
    public ShardEndpoints shards() {
        return shards;
    }

    /** This proxy's metrics (also served as GET /metrics on the admin API); null in sharded mode (each shard has its own). */
    public ProxyMetrics metrics() {
        return metrics;
    }

    /** The admin API's address, or null when it is off. */
    public java.net.InetSocketAddress adminAddress() {
        return adminAddress;
    }

    @Override
    public void close() {
        if (pg != null) {
            pg.close();
        } else {
            mysql.close();
        }
        if (admin != null) {
            try {
                admin.close();
            } catch (Exception e) {
                log.debug("closing the admin API: {}", e.toString());
            }
        }
        if (alerts != null) {
            alerts.close();
        }
        if (runtime != null) {
            runtime.close();
        }
        if (shards != null) {
            shards.close();
        }
        if (loops != null) {
            loops.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
