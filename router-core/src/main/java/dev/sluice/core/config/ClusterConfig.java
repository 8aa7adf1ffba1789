package dev.sluice.core.config;

import java.util.Collections;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Immutable, validated configuration of one cluster (a primary and its replicas). Built from YAML (see
 * {@link ConfigTree}) or from a {@code jdbc:sluice:} URL; both go through {@link #of}, so the same
 * validation applies. A reload builds a new instance and swaps it; nothing here ever changes.
 */
public final class ClusterConfig {
    private final String name;
    private final Engine engine;
    private final String database;
    private final List<NodeConfig> nodes;
    private final Map<SluiceOption, Object> options;
    private final Map<String, String> driverProperties;
    private final Map<String, String> rawOptions;

    private ClusterConfig(String name, Engine engine, String database, List<NodeConfig> nodes,
                          Map<SluiceOption, Object> options, Map<String, String> driverProperties,
                          Map<String, String> rawOptions) {
        this.rawOptions = Map.copyOf(rawOptions);
        this.name = name;
        this.engine = engine;
        this.database = database;
        this.nodes = List.copyOf(nodes);
        this.options = Collections.unmodifiableMap(options);
        this.driverProperties = Collections.unmodifiableMap(new LinkedHashMap<>(driverProperties));
    }

    /**
     * Validates and builds a cluster config.
     *
     * @param where        prefix naming the source in errors, e.g. {@code clusters.main} or {@code URL parameter}
     * @param rawOptions   option key → textual value; unknown keys are an error
     * @param driverProps  passed unchanged to the underlying driver of every node
     */
    public static ClusterConfig of(String where, String name, Engine engine, String database, List<NodeConfig> nodes,
                                   Map<String, String> rawOptions, Map<String, String> driverProps) {
        if (engine == null) {
            throw new ConfigException(where + ".engine: missing (postgresql, mysql or mariadb)");
        }
        if (nodes == null || nodes.isEmpty()) {
            throw new ConfigException(where + ".nodes: at least one node is required");
        }
        Set<String> names = new HashSet<>();
        Set<String> addresses = new HashSet<>();
        for (NodeConfig n : nodes) {
            if (!names.add(n.name())) {
                throw new ConfigException(where + ".nodes: node name '" + n.name() + "' appears twice");
            }
            if (!addresses.add(n.address().toLowerCase(java.util.Locale.ROOT))) {
                throw new ConfigException(where + ".nodes: node address '" + n.address() + "' appears twice");
            }
        }
        Map<SluiceOption, Object> opts = new EnumMap<>(SluiceOption.class);
        for (SluiceOption o : SluiceOption.values()) {
            if (o.defaultValue() != null) {
                opts.put(o, o.convert(where + "." + o.key(), o.defaultValue()));
            }
        }
        for (Map.Entry<String, String> e : rawOptions.entrySet()) {
            SluiceOption o = SluiceOption.byKey(e.getKey());
            if (o == null) {
                throw new ConfigException(where + "." + e.getKey() + ": unknown option (known: " + knownKeys() + ")");
            }
            Object v = o.convert(where + "." + o.key(), e.getValue());
            if (v != null) {
                opts.put(o, v);
            }
        }
        if ((int) opts.get(SluiceOption.POOL_MAX_SIZE) < 1) {
            throw new ConfigException(where + ".pool-max-size: must be at least 1");
        }
        for (SluiceOption o : new SluiceOption[] {SluiceOption.PROBE_INTERVAL_MS, SluiceOption.PROBE_TIMEOUT_MS,
                SluiceOption.HEARTBEAT_INTERVAL_MS}) {
            if ((int) opts.get(o) < 10) {
                throw new ConfigException(where + "." + o.key() + ": must be at least 10 ms, got " + opts.get(o));
            }
        }
        if ((int) opts.get(SluiceOption.READMIT_LAG_MS) > (int) opts.get(SluiceOption.MAX_LAG_MS)) {
            throw new ConfigException(where + ".readmit-lag-ms: must not exceed max-lag-ms (" + opts.get(SluiceOption.MAX_LAG_MS)
                    + "), got " + opts.get(SluiceOption.READMIT_LAG_MS));
        }
        if ((int) opts.get(SluiceOption.CACHE_TTL_MS) < 1) {
            throw new ConfigException(where + ".cache-ttl-ms: must be at least 1 ms, got " + opts.get(SluiceOption.CACHE_TTL_MS));
        }
        if ((int) opts.get(SluiceOption.CACHE_MAX_RESULT_BYTES) > (long) opts.get(SluiceOption.CACHE_MAX_BYTES)) {
            throw new ConfigException(where + ".cache-max-result-bytes: must not exceed cache-max-bytes (" + opts.get(SluiceOption.CACHE_MAX_BYTES)
                    + "), got " + opts.get(SluiceOption.CACHE_MAX_RESULT_BYTES));
        }
        String table = (String) opts.get(SluiceOption.HEARTBEAT_TABLE);
        if (!table.matches("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)?")) {
            throw new ConfigException(where + ".heartbeat-table: expected table or schema.table of letters, digits and _, got '" + table + "'");
        }
        if (opts.get(SluiceOption.COORDINATION_ZOOKEEPER_CONNECT) != null) {
            validateCoordination(where, opts);
        }
        return new ClusterConfig(name, engine, database == null ? "" : database, nodes, opts,
                driverProps == null ? Map.of() : driverProps, rawOptions);
    }

    private static void validateCoordination(String where, Map<SluiceOption, Object> opts) {
        if (((String) opts.get(SluiceOption.COORDINATION_ZOOKEEPER_CONNECT)).isBlank()) {
            throw new ConfigException(where + ".coordination-zookeeper-connect: empty (expected host:port[,host:port...])");
        }
        String root = (String) opts.get(SluiceOption.COORDINATION_ZOOKEEPER_ROOT);
        if (!root.matches("(/[A-Za-z0-9._-]+)+")) {
            throw new ConfigException(where + ".coordination-zookeeper-root: expected an absolute ZooKeeper path like /sluice, got '" + root + "'");
        }
        // the fail-safe must stop this instance's writes before the ensemble hands leadership (and so failover)
        // to another instance: that happens once the session has expired
        int grace = (int) opts.get(SluiceOption.COORDINATION_SESSION_GRACE_MS);
        int session = (int) opts.get(SluiceOption.COORDINATION_SESSION_TIMEOUT_MS);
        if (grace >= session) {
            throw new ConfigException(where + ".coordination-session-grace-ms: must be below coordination-session-timeout-ms ("
                    + session + "), got " + grace);
        }
        String instance = (String) opts.get(SluiceOption.COORDINATION_INSTANCE_NAME);
        if (instance != null && !instance.matches("[A-Za-z0-9._:-]{1,100}")) {
            throw new ConfigException(where + ".coordination-instance-name: letters, digits and .-_: only (1 to 100), got '" + instance + "'");
        }
    }

    /** This config with some options and driver properties replaced, validated like the original. */
    public ClusterConfig withOverrides(String where, Map<String, String> options, Map<String, String> driverProps) {
        Map<String, String> opts = new LinkedHashMap<>(rawOptions);
        opts.putAll(options);
        Map<String, String> driver = new LinkedHashMap<>(driverProperties);
        driver.putAll(driverProps);
        return of(where, name, engine, database, nodes, opts, driver);
    }

    static String knownKeys() {
        StringBuilder sb = new StringBuilder();
        for (SluiceOption o : SluiceOption.values()) {
            if (sb.length() > 0) {
                sb.append(", ");
            }
            sb.append(o.key());
        }
        return sb.toString();
    }

    public String name() {
        return name;
    }

    public Engine engine() {
        return engine;
    }

    /** True when the option was given explicitly (file, URL or override), not taken from its default. */
    public boolean isSet(SluiceOption o) {
        return rawOptions.containsKey(o.key());
    }

    public String database() {
        return database;
    }

    public List<NodeConfig> nodes() {
        return nodes;
    }

    public NodeConfig node(String nodeName) {
        for (NodeConfig n : nodes) {
            if (n.name().equals(nodeName)) {
                return n;
            }
        }
        throw new IllegalArgumentException("no node named " + nodeName + " in cluster " + name);
    }

    public Map<String, String> driverProperties() {
        return driverProperties;
    }

    public String user() {
        return (String) options.get(SluiceOption.USER);
    }

    public String password() {
        return (String) options.get(SluiceOption.PASSWORD);
    }

    public Balancing balancing() {
        return (Balancing) options.get(SluiceOption.BALANCING);
    }

    public boolean replicaReads() {
        return (Boolean) options.get(SluiceOption.REPLICA_READS);
    }

    public boolean hints() {
        return (Boolean) options.get(SluiceOption.HINTS);
    }

    @SuppressWarnings("unchecked")
    public List<String> primaryFunctions() {
        return (List<String>) options.get(SluiceOption.PRIMARY_FUNCTIONS);
    }

    public long classifierCacheChars() {
        return (Long) options.get(SluiceOption.CLASSIFIER_CACHE_CHARS);
    }

    public int poolMaxSize() {
        return (Integer) options.get(SluiceOption.POOL_MAX_SIZE);
    }

    public int readLanes() {
        return (Integer) options.get(SluiceOption.READ_LANES);
    }

    public int readLaneDepth() {
        return (Integer) options.get(SluiceOption.READ_LANE_DEPTH);
    }

    public int poolMinIdle() {
        return (Integer) options.get(SluiceOption.POOL_MIN_IDLE);
    }

    public int connectTimeoutMs() {
        return (Integer) options.get(SluiceOption.CONNECT_TIMEOUT_MS);
    }

    public int probeIntervalMs() {
        return (Integer) options.get(SluiceOption.PROBE_INTERVAL_MS);
    }

    public int probeTimeoutMs() {
        return (Integer) options.get(SluiceOption.PROBE_TIMEOUT_MS);
    }

    public int heartbeatIntervalMs() {
        return (Integer) options.get(SluiceOption.HEARTBEAT_INTERVAL_MS);
    }

    public String heartbeatTable() {
        return (String) options.get(SluiceOption.HEARTBEAT_TABLE);
    }

    /** True when reading an existing pt-heartbeat table instead of writing Sluice's own. */
    public boolean ptHeartbeat() {
        return "pt-heartbeat".equals(options.get(SluiceOption.HEARTBEAT_FORMAT));
    }

    public boolean heartbeatCreate() {
        return (Boolean) options.get(SluiceOption.HEARTBEAT_CREATE);
    }

    public int maxLagMs() {
        return (Integer) options.get(SluiceOption.MAX_LAG_MS);
    }

    public int readmitLagMs() {
        return (Integer) options.get(SluiceOption.READMIT_LAG_MS);
    }

    public int lagHoldMs() {
        return (Integer) options.get(SluiceOption.LAG_HOLD_MS);
    }

    /** primary, least-lagged or error. */
    public String lagFallback() {
        return (String) options.get(SluiceOption.LAG_FALLBACK);
    }

    /** off, heartbeat or position. */
    public String readYourWrites() {
        return (String) options.get(SluiceOption.READ_YOUR_WRITES);
    }

    public int circuitOpenMs() {
        return (Integer) options.get(SluiceOption.CIRCUIT_OPEN_MS);
    }

    public boolean failoverAuto() {
        return "auto".equals(options.get(SluiceOption.FAILOVER));
    }

    public int failoverProbes() {
        return (Integer) options.get(SluiceOption.FAILOVER_PROBES);
    }

    public int failoverMaxLagMs() {
        return (Integer) options.get(SluiceOption.FAILOVER_MAX_LAG_MS);
    }

    /** The read cache is on (docs/cache.md). */
    public boolean cacheOn() {
        return "on".equals(options.get(SluiceOption.CACHE));
    }

    @SuppressWarnings("unchecked")
    public List<String> cacheTables() {
        return (List<String>) options.get(SluiceOption.CACHE_TABLES);
    }

    public int cacheTtlMs() {
        return (Integer) options.get(SluiceOption.CACHE_TTL_MS);
    }

    public long cacheMaxBytes() {
        return (Long) options.get(SluiceOption.CACHE_MAX_BYTES);
    }

    public int cacheMaxResultBytes() {
        return (Integer) options.get(SluiceOption.CACHE_MAX_RESULT_BYTES);
    }

    /** Every write empties the cache (cache-invalidate: all) instead of invalidating the tables it names. */
    public boolean cacheInvalidateAll() {
        return "all".equals(options.get(SluiceOption.CACHE_INVALIDATE));
    }

    /** The admin user, or {@link #user()} when none is configured. */
    public String adminUser() {
        String u = (String) options.get(SluiceOption.ADMIN_USER);
        return u != null ? u : user();
    }

    public String adminPassword() {
        return options.get(SluiceOption.ADMIN_USER) != null ? (String) options.get(SluiceOption.ADMIN_PASSWORD) : password();
    }

    public String failoverHook() {
        return (String) options.get(SluiceOption.FAILOVER_HOOK);
    }

    public String replicationUser() {
        return (String) options.get(SluiceOption.REPLICATION_USER);
    }

    public String replicationPassword() {
        return (String) options.get(SluiceOption.REPLICATION_PASSWORD);
    }

    public int switchoverHoldMs() {
        return (Integer) options.get(SluiceOption.SWITCHOVER_HOLD_MS);
    }

    public String fenceCommand() {
        return (String) options.get(SluiceOption.FENCE_COMMAND);
    }

    /** {@code host:port} of the driver's status page, or null when off. */
    public String statusListen() {
        return (String) options.get(SluiceOption.STATUS_LISTEN);
    }

    public String statusToken() {
        return (String) options.get(SluiceOption.STATUS_TOKEN);
    }

    /** ZooKeeper connect string, or null: no cluster mode. */
    public String coordinationConnect() {
        return (String) options.get(SluiceOption.COORDINATION_ZOOKEEPER_CONNECT);
    }

    public String coordinationRoot() {
        return (String) options.get(SluiceOption.COORDINATION_ZOOKEEPER_ROOT);
    }

    public int coordinationSessionTimeoutMs() {
        return (Integer) options.get(SluiceOption.COORDINATION_SESSION_TIMEOUT_MS);
    }

    public int coordinationSessionGraceMs() {
        return (Integer) options.get(SluiceOption.COORDINATION_SESSION_GRACE_MS);
    }

    /** The configured instance name, or host name and process id. */
    public String coordinationInstanceName() {
        String n = (String) options.get(SluiceOption.COORDINATION_INSTANCE_NAME);
        if (n != null) {
            return n;
        }
        String host;
        try {
            host = java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            host = "localhost";
        }
        return (host + "-" + ProcessHandle.current().pid()).replaceAll("[^A-Za-z0-9._:-]", "_");
    }

    /** The options as given (file, URL, overrides), secrets included: for building a changed copy. */
    public Map<String, String> rawOptions() {
        return rawOptions;
    }

    /** For logs and the status page: everything but secrets. */
    @Override
    public String toString() {
        return "ClusterConfig{" + name + ", " + engine.configName() + ", db=" + database + ", nodes=" + nodes
                + ", balancing=" + balancing().configName() + "}";
    }
}
