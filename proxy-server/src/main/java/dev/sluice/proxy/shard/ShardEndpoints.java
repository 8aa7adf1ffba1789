package dev.sluice.proxy.shard;

import dev.sluice.core.config.ClusterConfig;
import dev.sluice.core.config.Engine;
import dev.sluice.core.shard.ShardMap;
import dev.sluice.core.shard.ShardRouter;
import dev.sluice.jdbc.ClusterRuntime;
import dev.sluice.proxy.ProxyConfig;
import dev.sluice.proxy.metrics.ProxyMetrics;
import dev.sluice.proxy.mysql.MyAuth;
import dev.sluice.proxy.mysql.MySqlProxy;
import dev.sluice.proxy.net.ListenerSettings;
import dev.sluice.proxy.pg.PgProxy;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The shards of a sharded proxy (docs/sharding.md, "Through the proxies"): for each shard a {@link ClusterRuntime}
 * (health, lag, failover of that shard) and an <em>inner</em> single-cluster proxy of the shard's engine on an
 * ephemeral loopback port, which does the read/write split, read-your-writes and failover within the shard. The
 * outer listener's sessions are protocol clients of these inner proxies and only choose shards.
 *
 * <p>The inner proxies accept one user, {@link #INTERNAL_USER}, with a random secret made here at startup: it is never
 * logged or written anywhere, and lives only in this object (a cheap method, md5 / mysql_native_password, since the
 * hop never leaves the loopback interface and every session logs in once per shard).
 */
public final class ShardEndpoints implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ShardEndpoints.class);
    public static final String INTERNAL_USER = "sluice_shard";

    /**
     * One shard.
     *
     * @param index    its position in the shard map (bit {@code 1L << index} in a ShardPlan's shard masks)
     * @param name     its name in the shard map
     * @param cluster  its cluster's configuration
     * @param runtime  its cluster runtime (router, health monitor, failover)
     * @param address  where its inner proxy listens (loopback, ephemeral port)
     * @param database the database name the inner proxy serves (the cluster's)
     * @param metrics  its inner proxy's metrics (statement latency per node, routing counters)
     */
    public record Shard(int index, String name, ClusterConfig cluster, ClusterRuntime runtime, InetSocketAddress address,
                        String database, ProxyMetrics metrics) {
    }

    /**
     * What the inner proxies take from the outer one's settings.
     *
     * @param pgGroup PostgreSQL: the event loops the inner proxies share with the outer listener (null: their own)
     */
    public record Settings(int maxMessageBytes, int threads, int authTimeoutMs, boolean logRoutes, io.netty.channel.EventLoopGroup pgGroup) {
        /** Inner proxies with event loops of their own. */
        public Settings(int maxMessageBytes, int threads, int authTimeoutMs, boolean logRoutes) {
            this(maxMessageBytes, threads, authTimeoutMs, logRoutes, null);
        }
    }

    private final ShardMap map;
    private final ShardRouter router;
    private final Engine engine;
    private final String secret;
    private final List<Shard> shards;
    private final List<AutoCloseable> closers = new ArrayList<>();

    private ShardEndpoints(ProxyConfig.Sharded cfg, Settings settings) throws Exception {
        this.map = cfg.map();
        this.engine = cfg.shards().get(0).engine();
        this.router = new ShardRouter(map, engine.dialect());
        byte[] raw = new byte[24];
        new SecureRandom().nextBytes(raw);
        this.secret = HexFormat.of().formatHex(raw);
        List<Shard> started = new ArrayList<>();
        try {
            for (int i = 0; i < cfg.shards().size(); i++) {
                started.add(startShard(i, cfg.shards().get(i), settings));
            }
        } catch (Exception | Error e) {
            close();
            throw e;
        }
        this.shards = List.copyOf(started);
    }

    /** Starts every shard's runtime and inner proxy; on failure, stops what had started and throws. */
    public static ShardEndpoints start(ProxyConfig.Sharded cfg, Settings settings) throws Exception {
        return new ShardEndpoints(cfg, settings);
    }

    private Shard startShard(int i, ClusterConfig c, Settings s) throws Exception {
        ClusterRuntime rt = ClusterRuntime.start(c);
        closers.add(rt);
        ProxyMetrics metrics = new ProxyMetrics(rt.router());
        InetSocketAddress loopback = new InetSocketAddress("127.0.0.1", 0);
        InetSocketAddress bound;
        if (engine == Engine.POSTGRESQL) {
            PgProxy p = new PgProxy(c, rt.router(), rt::probeSoon, new ListenerSettings(loopback, "md5",
                    Map.of(INTERNAL_USER, pgMd5(secret, INTERNAL_USER)), null, false, Integer.MAX_VALUE, s.maxMessageBytes(), s.threads(),
                    s.authTimeoutMs(), s.logRoutes(), 0, 60_000), metrics, s.pgGroup());
            closers.add(0, p); // proxies close before their runtimes
            rt.monitor().setConnectionCounter(p::backendConnections);
            bound = p.address();
        } else {
            MySqlProxy p = new MySqlProxy(c, rt.router(), rt::probeSoon, new ListenerSettings(loopback, "password",
                    Map.of(INTERNAL_USER, MyAuth.nativeHash(secret)), null, false, Integer.MAX_VALUE, s.maxMessageBytes(), s.threads(),
                    s.authTimeoutMs(), s.logRoutes(), 0, 60_000), metrics);
            closers.add(0, p);
            rt.monitor().setConnectionCounter(p::backendConnections);
            bound = p.address();
        }
        String name = map.shardName(i);
        log.info("shard {} of database '{}': cluster '{}', inner proxy on {}", name, map.database(), c.name(), bound);
        return new Shard(i, name, c, rt, bound, c.database(), metrics);
    }

    /** PostgreSQL's stored md5 form: "md5" + md5(password + user), hex. */
    static String pgMd5(String password, String user) {
        try {
            byte[] d = MessageDigest.getInstance("MD5").digest((password + user).getBytes(StandardCharsets.UTF_8));
            return "md5" + HexFormat.of().formatHex(d);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public ShardMap map() {
        return map;
    }

    /** The shard router of this database (plans cached by SQL text; thread-safe). */
    public ShardRouter router() {
        return router;
    }

    public Engine engine() {
        return engine;
    }

    public List<Shard> shards() {
        return shards;
    }

    public Shard shard(int index) {
        return shards.get(index);
    }

    public int size() {
        return shards.size();
    }

    /** The inner proxies' user name. */
    public String internalUser() {
        return INTERNAL_USER;
    }

    /** The inner proxies' password for {@link #internalUser()} (never log it). */
    public String internalSecret() {
        return secret;
    }

    @Override
    public String toString() {
        return "ShardEndpoints[" + map.database() + ", shards=" + (shards == null ? "starting" : shards.stream().map(Shard::name).toList()) + "]";
    }

    @Override
    public void close() {
        for (AutoCloseable c : closers) {
            try {
                c.close();
            } catch (Exception e) {
                log.debug("closing {}: {}", c, e.toString());
            }
        }
        closers.clear();
    }
}
