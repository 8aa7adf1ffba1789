package dev.sluice.proxy.mysql;

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
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.handler.ssl.SslContext;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The MySQL/MariaDB wire-protocol proxy: accepts clients, authenticates them, and routes their commands with
 * the cluster's {@link Router} over per-node backend pools. Backend connections are pooled per set of
 * reply-shaping client flags and collation, since their replies are relayed to clients byte for byte. Wired
 * by constructor; owns its event loops, pools and connection ids, so two proxies in one JVM share nothing.
 */
public final class MySqlProxy implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MySqlProxy.class);

    /** Backend connections are shared only between clients with the same reply-shaping flags and collation. */
    record PoolKey(int caps, int collation) {
    }

    /**
     * Serves authenticated clients when this proxy only listens and authenticates (the outer listener of a sharded
     * database, dev.sluice.proxy.mysql.shard), instead of routing over a cluster of its own.
     */
    public interface SessionFactory {
        /** Learns the server version and capabilities to greet clients with; {@code done} may run on any thread. */
        void serverInfo(MySqlProxy proxy, EventLoop loop, java.util.function.BiConsumer<String, Integer> done, java.util.function.Consumer<Throwable> failed);

        /** The handler for an authenticated client; it must call {@link MySqlProxy#sessionEnded()} once when its channel closes. */
        io.netty.channel.ChannelHandler open(MySqlProxy proxy, Channel client, int connectionId, String user, int caps, int collation,
                                             String database);
    }

    private final ClusterConfig config;
    private final String database;
    private final SessionFactory sessions;
    private final Router router;
    private final CycleTimer cycleTimer;
    private final ListenerSettings settings;
    private final Map<String, MyClientAuth.User> users = new HashMap<>();
    private final Map<String, byte[]> fastAuthCache = new ConcurrentHashMap<>();
    private final MyAuth.RsaKeys rsa;
    private final Transport transport = Transport.detect();
    private final Map<PoolKey, NodePools<MyBackend>> pools = new ConcurrentHashMap<>();
    private final BackendHealth health;
    private final AnyNode anyNode;
    private final Map<Integer, MySession> byId = new ConcurrentHashMap<>();
    private final AtomicInteger nextId = new AtomicInteger(1);
    private final ClientAdmission admission;
    private final SecureRandom random = new SecureRandom();
    private final ExecutorService blocking;
    private final AuthFailureLimiter authFailures;
    private final Listener listener;
    private volatile String serverVersion;
    private volatile int serverCaps;

    /** A mysql_native_password hash ({@code *HEX}) or a SHA-256-crypt string: what a configured user's password may be. */
    public static boolean validSecret(String s) {
        return MyAuth.looksNative(s) || MyAuth.looksSha2(s);
    }

    public MySqlProxy(ClusterConfig config, Router router, Runnable probeSoon, ListenerSettings settings) throws InterruptedException {
        this(config, router, probeSoon, settings, CycleTimer.NONE);
    }

    /** As above, reporting every statement's round trip on a node to {@code cycleTimer} (metrics). */
    public MySqlProxy(ClusterConfig config, Router router, Runnable probeSoon, ListenerSettings settings, CycleTimer cycleTimer)
            throws InterruptedException {
        this(config, config.database(), null, router, probeSoon, settings, cycleTimer);
    }

    /**
     * A listener only: clients are authenticated here (users, TLS, failed-login limit, max-client-connections) and
     * then served by the handlers {@code sessions} makes; no cluster, router or backend pools of its own.
     */
    public MySqlProxy(String database, ListenerSettings settings, SessionFactory sessions) throws InterruptedException {
        this(null, database, sessions, null, () -> { }, settings, CycleTimer.NONE);
    }

    private MySqlProxy(ClusterConfig config, String database, SessionFactory sessions, Router router, Runnable probeSoon, ListenerSettings settings,
                       CycleTimer cycleTimer) throws InterruptedException {
        this.database = database;
        this.sessions = sessions;
        this.cycleTimer = cycleTimer;
        this.config = config;
        this.router = router;
        this.settings = settings;
        this.admission = new ClientAdmission(settings.maxClients());
        this.authFailures = new AuthFailureLimiter(settings.authFailureLimit(), settings.authFailureWindowMs());
        settings.users().forEach((name, secret) -> users.put(name, new MyClientAuth.User(name, secret)));
        this.rsa = MyAuth.RsaKeys.generate(random);
        this.blocking = DaemonThreads.cachedPool("sluice-mysql-held-writes");
        // "Too many connections" (1040) says the node is busy, not gone
        this.health = new BackendHealth(router, probeSoon, m -> m.contains(": 1040 "));
        this.anyNode = config == null ? null : new AnyNode(router, config.nodes().stream().map(NodeConfig::name).toList(), health);
        this.listener = new Listener(transport, null, settings.threads(), settings.listen(), ch -> {
            MyFrameDecoder decoder = new MyFrameDecoder(settings.maxMessageBytes(), true);
            MyFrontend frontend = new MyFrontend(this, decoder);
            if (settings.ssl() != null) {
                ch.pipeline().addLast("tls-start", new MyTlsStart(settings.ssl(), frontend));
            }
            ch.pipeline().addLast("frames", decoder).addLast("handshake", frontend);
        });
        log.info("MySQL proxy for {} listening on {} ({} transport)", config != null ? "cluster '" + config.name() + "'"
                : "database '" + database + "'", listener.address(), transport.name());
    }

    public InetSocketAddress address() {
        return listener.address();
    }

    public int clientCount() {
        return admission.count();
    }

    /** Backend connections open per node (in use + idle, all pools). */
    public Map<String, Integer> backendConnections() {
        Map<String, Integer> m = new LinkedHashMap<>();
        if (config == null) {
            return m;
        }
        config.nodes().forEach(n -> m.put(n.name(), 0));
        pools.values().forEach(byNode -> byNode.open().forEach((k, open) -> m.merge(k, open, Integer::sum)));
        return m;
    }

    /** Backend connections open to {@code node} (in use + idle, all pools). */
    public int backendConnections(String node) {
        return backendConnections().getOrDefault(node, 0);
    }

    // ---- for the sessions ----

    Router router() {
        return router;
    }

    CycleTimer cycleTimer() {
        return cycleTimer;
    }

    boolean logRoutes() {
        return settings.logRoutes();
    }

    SslContext sslContext() {
        return settings.ssl();
    }

    boolean tlsRequired() {
        return settings.tlsRequired();
    }

    public int maxMessageBytes() {
        return settings.maxMessageBytes();
    }

    int authTimeoutMs() {
        return settings.authTimeoutMs();
    }

    AuthFailureLimiter authFailures() {
        return authFailures;
    }

    ExecutorService blocking() {
        return blocking;
    }

    String database() {
        return database;
    }

    SessionFactory sessions() {
        return sessions;
    }

    /** The socket channel class of this proxy's event loops (epoll or NIO), for connections a session opens itself. */
    public Class<? extends Channel> channelType() {
        return transport.channelType();
    }

    /** How long a login may take (auth-timeout-ms), also the limit for a session's own connections to come up. */
    public int loginTimeoutMs() {
        return settings.authTimeoutMs();
    }

    /** A sharded session's client channel closed: it no longer counts against max-client-connections. */
    public void sessionEnded() {
        admission.release();
    }

    /** The version and capabilities to greet with, learned by a {@link SessionFactory}. */
    void learned(String version, int caps) {
        if (serverVersion == null) {
            serverCaps = caps;
            serverVersion = version;
        }
    }

    /** The backend's version string, shown to clients as the server's (drivers pick features by it); null until learned. */
    String serverVersion() {
        return serverVersion;
    }

    /** Capabilities the backends offer: clients are offered no more than these. */
    int serverCaps() {
        return serverCaps;
    }

    MyClientAuth newAuth(String host) {
        return new MyClientAuth(users, settings.trust(), rsa, random, fastAuthCache, host);
    }

    NodePool<MyBackend> pool(PoolKey key, String node) {
        return pools(key).get(node);
    }

    private NodePools<MyBackend> pools(PoolKey key) {
        return pools.computeIfAbsent(key, this::newPools);
    }

    private NodePools<MyBackend> newPools(PoolKey key) {
        int caps = My.BACKEND_BASE_CAPS | (key.caps() & My.RELAY_CAPS);
        return new NodePools<>(config, router, transport.channelType(), (NodeConfig n) -> new NodePool.Connector<MyBackend>() {
            @Override
            public MyBackend newConnection(NodePool<MyBackend> pool, long generation) {
                return new MyBackend(pool, generation, caps, key.collation(),
                        new MyBackendLogin(n.name(), config.user(), config.password(), config.database(), caps, key.collation()));
            }

            @Override
            public void initChannel(Channel ch, MyBackend c) {
                ch.pipeline().addLast(new MyFrameDecoder(settings.maxMessageBytes(), false), c);
            }
        });
    }

    /** A backend connection to any node (primary first), e.g. to learn the server's version before the first greeting. */
    void acquireAny(PoolKey key, EventLoop loop, BiConsumer<MyBackend, Throwable> callback) {
        anyNode.acquire(pools(key)::acquire, loop, (c, err) -> {
            if (err == null) {
                learned(c);
            }
            callback.accept(c, err);
        });
    }

    void learned(MyBackend c) {
        if (serverVersion == null && c.serverVersion != null) {
            serverCaps = c.serverCaps;
            serverVersion = c.serverVersion;
        }
    }

    /** Clients counted against max-client-connections. */
    ClientAdmission admission() {
        return admission;
    }

    /** A connection id for a new client: what it sees as its thread id, and what KILL takes. */
    int newConnectionId() {
        while (true) {
            int id = nextId.getAndIncrement() & 0x7fffffff;
            if (id != 0 && !byId.containsKey(id)) {
                return id;
            }
        }
    }

    void register(MySession s) {
        byId.put(s.id, s);
    }

    void sessionClosed(MySession s) {
        if (byId.remove(s.id, s)) {
            admission.release();
        }
    }

    MySession session(int id) {
        return byId.get(id);
    }

    /** KILL QUERY for a backend's running statement, on a connection of its own (the busy one cannot take it). */
    void killQuery(MyBackend be) {
        PoolKey key = new PoolKey(be.caps & My.RELAY_CAPS, be.collation);
        NodePool<MyBackend> p = pool(key, be.node);
        p.acquire(listener.group().next(), (c, err) -> {
            if (err != null) {
                log.warn("could not kill a query on node {}: {}", be.node, err.getMessage());
                return;
            }
            c.channel().eventLoop().execute(() -> {
                c.send(My.command(c.channel().alloc(), My.COM_QUERY, "KILL QUERY " + be.threadId), ReplyTracker.Kind.RESULT, true, t -> {
                    if (t.error != null) {
                        log.info("KILL QUERY {} on node {}: {}", be.threadId, be.node, t.error);
                    }
                    c.resetAndRelease(true);
                });
                c.channel().flush();
            });
        });
    }

    /** A connect or login to {@code node} failed: see {@link BackendHealth#connectFailed}. */
    void backendFailed(String node, Throwable err) {
        health.connectFailed(node, err);
    }

    /** A backend connection died under a session. Returns true when that took the node out of routing. */
    boolean backendLost(MyBackend be, Throwable cause) {
        // an ERR the server sent before closing (KILL CONNECTION, wait_timeout) says nothing about the node;
        // silence (crash, kill -9, network) or a shutdown does
        String fatal = be.fatalReason();
        return health.lost(be.node, cause, fatal == null || fatal.contains("1053") || fatal.contains("shutdown"));
    }

    @Override
    public void close() {
        listener.stopAccepting();
        pools.values().forEach(NodePools::closeAll);
        listener.stopLoops();
        blocking.shutdownNow();
    }
}
