package dev.sluice.proxy.pg;

import dev.sluice.core.config.ClusterConfig;
import dev.sluice.core.config.NodeConfig;
import dev.sluice.core.route.Router;
import dev.sluice.proxy.net.NodePool;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollMode;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PostgreSQL wire-protocol proxy: accepts clients, authenticates them, and routes their statements with
 * the cluster's {@link Router} over per-node backend pools. Wired by constructor; owns its event loops,
 * pools and cancel keys, so two proxies in one JVM share nothing.
 */
public final class PgProxy implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PgProxy.class);

    /** What the proxy needs from its surroundings. */
    /**
     * @param users user name → stored secret: a SCRAM-SHA-256 verifier or an md5 hash (validated here)
     */
    public record Settings(InetSocketAddress listen, String auth, Map<String, String> users, SslContext ssl,
                           boolean tlsRequired, int maxClients, int maxMessageBytes, int threads, int authTimeoutMs,
                           boolean logRoutes, int authFailureLimit, int authFailureWindowMs) {
    }

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
    private final Runnable probeSoon;
    private final CycleTimer cycleTimer;
    private final Settings settings;
    private final Map<String, ClientAuth.User> users = new java.util.HashMap<>();
    private final EventLoopGroup group;
    private final boolean ownGroup;
    private final Class<? extends Channel> channelType;
    private final Map<String, NodePool<BackendConnection>> pools = new LinkedHashMap<>();
    private final Map<Integer, FrontSession> byCancelPid = new ConcurrentHashMap<>();
    private final AtomicInteger clients = new AtomicInteger();
    private final SecureRandom random = new SecureRandom();
    private final ExecutorService blocking;
    private final Channel server;
    private volatile Map<String, String> serverParams;
    private final AuthFailureLimiter authFailures;

    /**
     * Starts listening. {@code probeSoon} asks the health monitor for an early probe round (a backend
     * connection just failed).
     */
    public PgProxy(ClusterConfig config, Router router, Runnable probeSoon, Settings settings) throws InterruptedException {
        this(config, router, probeSoon, settings, CycleTimer.NONE);
    }

    /** As above, reporting every statement cycle's duration to {@code cycleTimer} (metrics). */
    public PgProxy(ClusterConfig config, Router router, Runnable probeSoon, Settings settings, CycleTimer cycleTimer)
            throws InterruptedException {
        this(config, config.database(), null, router, probeSoon, settings, cycleTimer, null);
    }

    /**
     * As above, on {@code group}'s event loops (from {@link #newGroup}; this proxy does not shut it down): a sharded
     * proxy runs its outer listener and its shards' inner proxies on one group, so that a statement crossing from
     * the one to the other stays on one thread.
     */
    public PgProxy(ClusterConfig config, Router router, Runnable probeSoon, Settings settings, CycleTimer cycleTimer,
                   EventLoopGroup group) throws InterruptedException {
        this(config, config.database(), null, router, probeSoon, settings, cycleTimer, group);
    }

    /**
     * A listener only: clients connecting to {@code database} are authenticated here (users, TLS, failed-login limit,
     * max-client-connections) and then served by the sessions {@code sessions} makes; this proxy has no cluster,
     * router or backend pools of its own (the sharded mode's outer listener).
     */
    public PgProxy(String database, Settings settings, SessionFactory sessions) throws InterruptedException {
        this(database, settings, sessions, null);
    }

    /** As above, on {@code group}'s event loops (null: its own; a given group is not shut down by this proxy). */
    public PgProxy(String database, Settings settings, SessionFactory sessions, EventLoopGroup group) throws InterruptedException {
        this(null, database, sessions, null, () -> { }, settings, CycleTimer.NONE, group);
    }

    /** Event loops of the transport this proxy uses (epoll where available, else NIO), for {@code threads} threads. */
    public static EventLoopGroup newGroup(int threads) {
        return new MultiThreadIoEventLoopGroup(threads, Epoll.isAvailable() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
    }

    private PgProxy(ClusterConfig config, String database, SessionFactory sessions, Router router, Runnable probeSoon, Settings settings,
                    CycleTimer cycleTimer, EventLoopGroup sharedGroup) throws InterruptedException {
        this.database = database;
        this.sessions = sessions;
        this.cycleTimer = cycleTimer;
        this.config = config;
        this.router = router;
        this.probeSoon = probeSoon;
        this.settings = settings;
        this.authFailures = new AuthFailureLimiter(settings.authFailureLimit(), settings.authFailureWindowMs());
        settings.users().forEach((name, secret) -> users.put(name, ScramVerifier.looksLike(secret)
                ? new ClientAuth.User(name, ScramVerifier.parse(secret), null) : new ClientAuth.User(name, null, secret)));
        boolean epoll = Epoll.isAvailable();
        this.ownGroup = sharedGroup == null;
        this.group = ownGroup ? newGroup(settings.threads()) : sharedGroup;
        this.channelType = epoll ? EpollSocketChannel.class : NioSocketChannel.class;
        Class<? extends ServerChannel> serverType = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        this.blocking = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "sluice-proxy-held-writes");
            t.setDaemon(true);
            return t;
        });
        Map<String, String> startup = config == null ? Map.of() : Map.of("user", config.user() == null ? "postgres" : config.user(),
                "database", config.database(), "application_name", "sluice");
        for (NodeConfig n : config == null ? List.<NodeConfig>of() : config.nodes()) {
            NodePool.Connector<BackendConnection> connector = new NodePool.Connector<>() {
                @Override
                public BackendConnection newConnection(NodePool<BackendConnection> pool, long generation) {
                    return new BackendConnection(pool, startup, new BackendLogin(config.user(), config.password()), generation);
                }

                @Override
                public void initChannel(Channel ch, BackendConnection c) {
                    ch.pipeline().addLast(new PgFrameDecoder(settings.maxMessageBytes(), false), c);
                }
            };
            pools.put(n.name(), new NodePool<>(n.name(), n.host(), n.port(), config.poolMaxSize(), Math.max(250, config.connectTimeoutMs()),
                    connector, channelType, () -> router.generation(n.name())));
        }
        try {
            ServerBootstrap sb = new ServerBootstrap().group(group).channel(serverType);
            if (epoll) {
                // level-triggered: one read() per readable event; edge-triggered costs an extra read() that
                // returns EAGAIN every time, and a statement round trip is only a few small reads
                sb.childOption(EpollChannelOption.EPOLL_MODE, EpollMode.LEVEL_TRIGGERED);
            }
            this.server = sb
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.SO_KEEPALIVE, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            PgFrameDecoder decoder = new PgFrameDecoder(settings.maxMessageBytes(), true);
                            ch.pipeline().addLast("frames", decoder).addLast("startup", new PgFrontend(PgProxy.this, decoder));
                        }
                    })
                    .bind(settings.listen()).sync().channel();
        } catch (RuntimeException | InterruptedException e) {
            if (ownGroup) {
                group.shutdownGracefully();
            }
            throw e;
        }
        log.info("PostgreSQL proxy for {} listening on {} ({} transport)", config != null ? "cluster '" + config.name() + "'"
                : "database '" + database + "'", server.localAddress(), epoll ? "epoll" : "nio");
    }

    /** The address actually bound (port 0 in tests becomes a real port). */
    public InetSocketAddress address() {
        return (InetSocketAddress) server.localAddress();
    }

    public int clientCount() {
        return clients.get();
    }

    /** Backend connections open per node (in use + idle). */
    public Map<String, Integer> backendConnections() {
        Map<String, Integer> m = new LinkedHashMap<>();
        pools.forEach((k, p) -> m.put(k, p.open()));
        return m;
    }

    /** Backend connections open to {@code node} (in use + idle). */
    public int backendConnections(String node) {
        NodePool<BackendConnection> p = pools.get(node);
        return p == null ? 0 : p.open();
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
        return channelType;
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

    NodePool<BackendConnection> pool(String node) {
        NodePool<BackendConnection> p = pools.get(node);
        if (p == null) {
            throw new IllegalStateException("no pool for node " + node);
        }
        return p;
    }

    /**
     * A backend connection to any node, for a client's welcome when no server parameters are known yet: the
     * primary first, then the read candidates, then every other node, until one logs in.
     */
    void acquireAny(io.netty.channel.EventLoop loop, java.util.function.BiConsumer<BackendConnection, Throwable> callback) {
        java.util.LinkedHashSet<String> nodes = new java.util.LinkedHashSet<>();
        if (router.topology().primary() != null) {
            nodes.add(router.topology().primary());
        }
        router.topology().readCandidates().forEach(n -> nodes.add(n.name()));
        config.nodes().forEach(n -> nodes.add(n.name()));
        acquireFirst(loop, List.copyOf(nodes), 0, null, callback);
    }

    private void acquireFirst(io.netty.channel.EventLoop loop, List<String> nodes, int i, Throwable last,
                              java.util.function.BiConsumer<BackendConnection, Throwable> callback) {
        if (i >= nodes.size()) {
            callback.accept(null, new java.io.IOException("no node accepted a connection"
                    + (last == null ? "" : ": " + last.getMessage()), last));
            return;
        }
        String node = nodes.get(i);
        pool(node).acquire(loop, (c, err) -> {
            if (err == null) {
                callback.accept(c, null);
            } else {
                backendFailed(node, err);
                acquireFirst(loop, nodes, i + 1, err, callback);
            }
        });
    }

    Map<String, String> serverParams() {
        return serverParams;
    }

    void rememberServerParams(Map<String, String> params) {
        if (serverParams == null) {
            serverParams = Map.copyOf(params);
        }
    }

    boolean admitClient() {
        if (clients.incrementAndGet() > settings.maxClients()) {
            clients.decrementAndGet();
            return false;
        }
        return true;
    }

    void clientGone() {
        clients.decrementAndGet();
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
            clients.decrementAndGet();
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
        new Bootstrap().group(group).channel(channelType)
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

    /**
     * A connect or login to {@code node} failed: it leaves routing now if the failure means the node is gone (refused,
     * reset, closed). A login that is only slow (a storm of new connections on a loaded node), a full pool, or a node
     * saying it has too many connections does not take it out for everyone: the probes decide about those.
     */
    void backendFailed(String node, Throwable err) {
        if (err instanceof IOException && !String.valueOf(err.getMessage()).contains("refused the login: 53300")) {
            router.connectionFailed(node, err);
        }
        probeSoon.run();
    }

    /** A backend connection died under a session. */
    void backendLost(BackendConnection be, Throwable cause) {
        String fatal = be.fatalReason();
        // Lost without a word (crash, kill, network) or with a server-going-away FATAL (57P01 shutdown or
        // postmaster exit, 57P02 crash, 57P03 starting up): the node leaves routing until a probe readmits it.
        // A FATAL about this connection only (pg_terminate_backend, a message over max-message-bytes, auth)
        // says nothing about the node.
        if (fatal == null || (fatal.startsWith("57P0") && !fatal.contains("administrator command"))) {
            router.connectionFailed(be.node, cause);
        }
        probeSoon.run();
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        pools.values().forEach(NodePool::closeAll);
        if (ownGroup) {
            group.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
        }
        blocking.shutdownNow();
    }
}
