package dev.sluice.proxy.pg;

import dev.sluice.core.config.ClusterConfig;
import dev.sluice.core.config.NodeConfig;
import dev.sluice.core.route.Router;
import dev.sluice.proxy.net.AnyNode;
import dev.sluice.proxy.net.AuthFailureLimiter;
import dev.sluice.proxy.net.BackendHealth;
import dev.sluice.proxy.net.ClientAdmission;
import dev.sluice.proxy.net.CycleTimer;
import dev.sluice.proxy.net.DaemonThreads;
import dev.sluice.proxy.net.Listener;
import dev.sluice.proxy.net.ListenerSettings;
import dev.sluice.proxy.net.NodePool;
import dev.sluice.proxy.net.NodePools;
import dev.sluice.proxy.net.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.ssl.SslContext;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PostgreSQL wire-protocol proxy: accepts clients, authenticates them, and routes their statements with
 * the cluster's {@link Router} over per-node backend pools. Wired by constructor; owns its event loops,
 * pools and cancel keys, so two proxies in one JVM share nothing.
 */
public final class PgProxy implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PgProxy.class);

    /** A SCRAM-SHA-256 verifier for {@code password}, in PostgreSQL's format (for the users list). */
    public static String scramVerifier(String password) {
        return ScramVerifier.create(password, 4096, new SecureRandom()).encode();
    }

    /**
     * Makes the session of each authenticated client when this proxy only listens and authenticates (the outer
     * listener of a sharded database), instead of routing over a cluster of its own.
     */
    @FunctionalInterface
    public interface SessionFactory {
        /** A session for {@code client}; it must call {@link PgProxy#sessionClosed} when its channel closes. */
        FrontSession open(PgProxy proxy, Channel client, String user, Map<String, String> startupParams, int cancelPid, int cancelKey);
    }

    private final ClusterConfig config;
    private final String database;
    private final SessionFactory sessions;
    private final Router router;
    private final CycleTimer cycleTimer;
    private final ListenerSettings settings;
    private final Map<String, ClientAuth.User> users = new java.util.HashMap<>();
    private final Transport transport = Transport.detect();
    private final NodePools<BackendConnection> pools;
    private final ReadLanes readLanes;
    private final BackendHealth health;
    private final AnyNode anyNode;
    private final Map<Integer, FrontSession> byCancelPid = new ConcurrentHashMap<>();
    private final ClientAdmission admission;
    private final SecureRandom random = new SecureRandom();
    private final ExecutorService blocking;
    private final Listener listener;
    private volatile Map<String, String> serverParams;
    private final AuthFailureLimiter authFailures;

    /**
     * Starts listening. {@code probeSoon} asks the health monitor for an early probe round (a backend
     * connection just failed).
     */
    public PgProxy(ClusterConfig config, Router router, Runnable probeSoon, ListenerSettings settings) throws InterruptedException {
        this(config, router, probeSoon, settings, CycleTimer.NONE);
    }

    /** As above, reporting every statement cycle's duration to {@code cycleTimer} (metrics). */
    public PgProxy(ClusterConfig config, Router router, Runnable probeSoon, ListenerSettings settings, CycleTimer cycleTimer)
            throws InterruptedException {
        this(config, config.database(), null, router, probeSoon, settings, cycleTimer, null);
    }

    /**
     * As above, on {@code group}'s event loops (from {@link Transport#newGroup}; this proxy does not shut it down): a sharded
     * proxy runs its outer listener and its shards' inner proxies on one group, so that a statement crossing from
     * the one to the other stays on one thread.
     */
    public PgProxy(ClusterConfig config, Router router, Runnable probeSoon, ListenerSettings settings, CycleTimer cycleTimer,
                   EventLoopGroup group) throws InterruptedException {
        this(config, config.database(), null, router, probeSoon, settings, cycleTimer, group);
    }

    /**
     * A listener only: clients connecting to {@code database} are authenticated here (users, TLS, failed-login limit,
     * max-client-connections) and then served by the sessions {@code sessions} makes; this proxy has no cluster,
     * router or backend pools of its own (the sharded mode's outer listener).
     */
    public PgProxy(String database, ListenerSettings settings, SessionFactory sessions) throws InterruptedException {
        this(database, settings, sessions, null);
    }

    /** As above, on {@code group}'s event loops (null: its own; a given group is not shut down by this proxy). */
    public PgProxy(String database, ListenerSettings settings, SessionFactory sessions, EventLoopGroup group) throws InterruptedException {
        this(null, database, sessions, null, () -> { }, settings, CycleTimer.NONE, group);
    }

    private PgProxy(ClusterConfig config, String database, SessionFactory sessions, Router router, Runnable probeSoon, ListenerSettings settings,
                    CycleTimer cycleTimer, EventLoopGroup sharedGroup) throws InterruptedException {
        this.database = database;
        this.sessions = sessions;
        this.cycleTimer = cycleTimer;
        this.config = config;
        this.router = router;
        this.settings = settings;
        this.admission = new ClientAdmission(settings.maxClients());
        this.authFailures = new AuthFailureLimiter(settings.authFailureLimit(), settings.authFailureWindowMs());
        settings.users().forEach((name, secret) -> users.put(name, ScramVerifier.looksLike(secret)
                ? new ClientAuth.User(name, ScramVerifier.parse(secret), null) : new ClientAuth.User(name, null, secret)));
        this.blocking = DaemonThreads.cachedPool("sluice-proxy-held-writes");
        // a node saying it has too many connections (53300) is busy, not gone
        this.health = new BackendHealth(router, probeSoon, m -> m.contains("refused the login: 53300"));
        if (config == null) {
            this.pools = NodePools.none();
            this.anyNode = null;
        } else {
            Map<String, String> startup = Map.of("user", config.user() == null ? "postgres" : config.user(),
                    "database", config.database(), "application_name", "sluice");
            this.pools = new NodePools<>(config, router, transport.channelType(), n -> new NodePool.Connector<>() {
                @Override
                public BackendConnection newConnection(NodePool<BackendConnection> pool, long generation) {
                    return new BackendConnection(pool, startup, new BackendLogin(config.user(), config.password()), generation);
                }

                @Override
                public void initChannel(Channel ch, BackendConnection c) {
                    ch.pipeline().addLast(new PgFrameDecoder(settings.maxMessageBytes(), false), c);
                }
            });
            this.anyNode = new AnyNode(router, config.nodes().stream().map(NodeConfig::name).toList(), health);
        }
        this.readLanes = config != null && config.readLanes() > 0 ? new ReadLanes(this, config.readLanes(), config.readLaneDepth()) : null;
        this.listener = new Listener(transport, sharedGroup, settings.threads(), settings.listen(), ch -> {
            PgFrameDecoder decoder = new PgFrameDecoder(settings.maxMessageBytes(), true);
            ch.pipeline().addLast("frames", decoder).addLast("startup", new PgFrontend(this, decoder));
        });
        log.info("PostgreSQL proxy for {} listening on {} ({} transport)", config != null ? "cluster '" + config.name() + "'"
                : "database '" + database + "'", listener.address(), transport.name());
    }

    /** The address actually bound (port 0 in tests becomes a real port). */
    public InetSocketAddress address() {
        return listener.address();
    }

    public int clientCount() {
        return admission.count();
    }

    /** Backend connections open per node (in use + idle). */
    public Map<String, Integer> backendConnections() {
        return pools.open();
    }

    /** Backend connections open to {@code node} (in use + idle). */
    public int backendConnections(String node) {
        return pools.open(node);
    }

    // ---- for the sessions ----

    Router router() {
        return router;
    }

    CycleTimer cycleTimer() {
        return cycleTimer;
    }

    /** True when every routing decision is logged at INFO (logger {@code dev.sluice.routes}; the demo turns it on). */
    boolean logRoutes() {
        return settings.logRoutes();
    }

    String database() {
        return database;
    }

    /** The socket channel class this proxy's event loops use (epoll or NIO), for connections a session opens itself. */
    public Class<? extends Channel> channelType() {
        return transport.channelType();
    }

    /** The largest protocol message accepted (max-message-bytes). */
    public int maxMessageBytes() {
        return settings.maxMessageBytes();
    }

    /** True when every routing decision is logged at INFO (the demo). */
    public boolean logsRoutes() {
        return settings.logRoutes();
    }

    SslContext sslContext() {
        return settings.ssl();
    }

    int authTimeoutMs() {
        return settings.authTimeoutMs();
    }

    /** Failed logins per client address (auth-failure-limit). */
    AuthFailureLimiter authFailures() {
        return authFailures;
    }

    boolean tlsRequired() {
        return settings.tlsRequired();
    }

    ExecutorService blocking() {
        return blocking;
    }

    /** The shared read lanes, or null when {@code read-lanes} is 0. */
    ReadLanes readLanes() {
        return readLanes;
    }

    /** Over all read lanes since start: groups sent, and the client cycles in them ({0, 0} when off). */
    public long[] readLaneTraffic() {
        return readLanes == null ? new long[2] : readLanes.sent();
    }

    /** Read lanes open (0 when off). */
    public int readLaneCount() {
        return readLanes == null ? 0 : readLanes.count();
    }

    NodePool<BackendConnection> pool(String node) {
        return pools.get(node);
    }

    /**
     * A backend connection to any node, for a client's welcome when no server parameters are known yet: the
     * primary first, then the read candidates, then every other node, until one logs in.
     */
    void acquireAny(EventLoop loop, BiConsumer<BackendConnection, Throwable> callback) {
        anyNode.acquire(pools::acquire, loop, callback);
    }

    Map<String, String> serverParams() {
        return serverParams;
    }

    void rememberServerParams(Map<String, String> params) {
        if (serverParams == null) {
            serverParams = Map.copyOf(params);
        }
    }

    /** Clients counted against max-client-connections. */
    ClientAdmission admission() {
        return admission;
    }

    ClientAuth newAuth(String user) {
        return new ClientAuth(settings.auth(), user, users.get(user), random);
    }

    FrontSession newSession(Channel ch, String user, Map<String, String> params) {
        while (true) {
            int pid = random.nextInt(Integer.MAX_VALUE);
            int key = random.nextInt();
            FrontSession s = sessions != null ? sessions.open(this, ch, user, params, pid, key) : new ClientSession(this, ch, user, params, pid, key);
            if (byCancelPid.putIfAbsent(pid, s) == null) {
                return s;
            }
        }
    }

    /** A session's client channel closed: its cancel key goes, and it no longer counts against max-client-connections. */
    public void sessionClosed(FrontSession s) {
        if (byCancelPid.remove(s.cancelPid, s)) {
            admission.release();
        }
    }

    void cancelRequest(int pid, int key) {
        FrontSession s = byCancelPid.get(pid);
        if (s != null && s.cancelKey == key) {
            s.cancel();
        } else {
            log.info("cancel request with an unknown key ignored");
        }
    }

    /** Sends the backend's own cancel key to its node, on a connection of its own (as the protocol wants). */
    void cancel(BackendConnection be) {
        NodePool<BackendConnection> p = pool(be.node);
        new Bootstrap().group(listener.group()).channel(transport.channelType())
                .handler(new io.netty.channel.ChannelInboundHandlerAdapter())
                .connect(p.host(), p.port()).addListener((io.netty.channel.ChannelFutureListener) f -> {
                    if (f.isSuccess()) {
                        f.channel().writeAndFlush(Pg.cancelRequest(f.channel().alloc(), be.pid, be.key))
                                .addListener(w -> f.channel().close());
                    } else {
                        log.warn("could not send a cancel request to node {}: {}", be.node, f.cause().toString());
                    }
                });
    }

    /** A connect or login to {@code node} failed: see {@link BackendHealth#connectFailed}. */
    void backendFailed(String node, Throwable err) {
        health.connectFailed(node, err);
    }

    /** A backend connection died under a session. */
    void backendLost(BackendConnection be, Throwable cause) {
        String fatal = be.fatalReason();
        // Lost without a word (crash, kill, network) or with a server-going-away FATAL (57P01 shutdown or
        // postmaster exit, 57P02 crash, 57P03 starting up): the node leaves routing until a probe readmits it.
        // A FATAL about this connection only (pg_terminate_backend, a message over max-message-bytes, auth)
        // says nothing about the node.
        health.lost(be.node, cause, fatal == null || (fatal.startsWith("57P0") && !fatal.contains("administrator command")));
    }

    @Override
    public void close() {
        listener.stopAccepting();
        pools.closeAll();
        listener.stopLoops();
        blocking.shutdownNow();
    }
}
