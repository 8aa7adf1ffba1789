package dev.sluice.core.config;

import java.util.Locale;

/**
 * Every per-cluster option, once: name, type, default and meaning. The same names are used as YAML keys
 * under {@code clusters.<name>} and as {@code jdbc:sluice:} URL parameters; docs/configuration.md is
 * generated from this catalogue ({@link OptionsDoc}) and a test keeps the two identical.
 */
public enum SluiceOption {
    USER("user", Type.STRING, null, "User name Sluice logs in with on every node of the cluster."),
    PASSWORD("password", Type.SECRET, null, "Password for `user`. Never logged or shown."),
    BALANCING("balancing", Type.BALANCING, "round-robin",
            "How autocommit reads are spread over healthy replicas: `round-robin`, `weighted-random` (by node `weight`), `least-outstanding` (fewest statements in flight) or `session` (each client session keeps the replica it first read from while that replica qualifies, as Pgpool-II does: fewer, busier server connections; sessions spread round-robin)."),
    REPLICA_READS("replica-reads", Type.BOOLEAN, "true",
            "Send autocommit reads and read-only transactions to replicas. `false` sends everything to the primary."),
    HINTS("hints", Type.BOOLEAN, "true",
            "Honour route hints in a leading comment: `/* sluice:primary */`, `/* sluice:replica */`."),
    PRIMARY_FUNCTIONS("primary-functions", Type.LIST, "",
            "Comma-separated extra function names; a read that calls one goes to the primary (built in: nextval, currval, setval, lastval, LAST_INSERT_ID, FOUND_ROWS, ROW_COUNT, GET_LOCK, RELEASE_LOCK, IS_USED_LOCK, pg_advisory_* ...)."),
    CLASSIFIER_CACHE_CHARS("classifier-cache-chars", Type.LONG, "8388608",
            "Bound of the statement-classification cache, in characters of SQL text held."),
    POOL_MAX_SIZE("pool-max-size", Type.INT, "20",
            "Maximum backend connections per node (driver: one HikariCP pool per node). Each application connection holds at most one per node it used, so keep this at least the application pool size."),
    READ_LANES("read-lanes", Type.INT, "0",
            "PostgreSQL proxy only: connections per node (and network thread) that the autocommit reads of all sessions share; reads arriving while one is busy are sent together, closed by one Sync, and answered in one flush (docs/proxy.md, \"Read lanes\"). 0: off, each session reads on connections of its own. A read on a lane waits for the reads sent before it there."),
    READ_LANE_DEPTH("read-lane-depth", Type.INT, "16",
            "Reads waiting on one read lane for its next group; beyond that, or while the lane's oldest group has run 10 ms, a session reads on its own connection."),
    POOL_MIN_IDLE("pool-min-idle", Type.INT, "0", "Idle backend connections kept open per node."),
    CONNECT_TIMEOUT_MS("connect-timeout-ms", Type.INT, "5000",
            "How long to wait for a backend connection (from the pool or a new one) before failing the statement."),
    PROBE_INTERVAL_MS("probe-interval-ms", Type.INT, "200",
            "How often each node is probed: role (primary or replica), reachability, heartbeat lag."),
    PROBE_TIMEOUT_MS("probe-timeout-ms", Type.INT, "1000",
            "Connect and query timeout of a probe; a node that does not answer in time is DOWN."),
    HEARTBEAT_INTERVAL_MS("heartbeat-interval-ms", Type.INT, "100",
            "How often the heartbeat writer updates the heartbeat row on the primary. Lag resolution is about one interval."),
    HEARTBEAT_TABLE("heartbeat-table", Type.STRING, "sluice_heartbeat",
            "Heartbeat table (optionally `schema.table`) in the cluster's database."),
    HEARTBEAT_FORMAT("heartbeat-format", Type.CHOICE, "sluice",
            "`sluice`: Sluice writes its own heartbeat row. `pt-heartbeat`: read an existing pt-heartbeat table (its `ts` column) and write nothing.",
            "sluice", "pt-heartbeat"),
    HEARTBEAT_CREATE("heartbeat-create", Type.BOOLEAN, "true",
            "Create the heartbeat table on the primary when missing (needs CREATE privilege; see docs/health.md for the DDL and grants otherwise)."),
    MAX_LAG_MS("max-lag-ms", Type.INT, "1000",
            "A replica whose heartbeat lag exceeds this (or is unknown) leaves the read set."),
    READMIT_LAG_MS("readmit-lag-ms", Type.INT, "500",
            "A dropped replica returns only when its lag is at most this ..."),
    LAG_HOLD_MS("lag-hold-ms", Type.INT, "1000",
            "... and it has been out for at least this long (hysteresis: no flapping)."),
    LAG_FALLBACK("lag-fallback", Type.CHOICE, "primary",
            "Where a read goes when no replica qualifies (lag, staleness budget, read-your-writes): `primary`, `least-lagged` replica (not for read-your-writes), or `error`.",
            "primary", "least-lagged", "error"),
    READ_YOUR_WRITES("read-your-writes", Type.CHOICE, "off",
            "After a session's write commits, its reads go only to replicas that have applied it. `heartbeat`: a replica that applied a heartbeat written after the commit (no extra queries). `position`: commit LSN / GTID compared with the replica's replay position (one extra query per write).",
            "off", "heartbeat", "position"),
    CIRCUIT_OPEN_MS("circuit-open-ms", Type.INT, "2000",
            "After a connection-class error on live traffic a node's circuit breaker opens for this long; then probes readmit it."),
    FAILOVER("failover", Type.CHOICE, "off",
            "`auto`: promote the most advanced replica when the primary is dead (see docs/failover.md). The driver's default is `off`: enable it in one place only (or use `./sluice promote`), since driver instances do not coordinate without cluster mode.",
            "off", "auto"),
    FAILOVER_PROBES("failover-probes", Type.INT, "3",
            "Consecutive failed probes of the primary before failover is considered (with the default probe interval: 600 ms)."),
    FAILOVER_MAX_LAG_MS("failover-max-lag-ms", Type.INT, "10000",
            "A replica whose last known lag before the failure exceeded this is not a failover candidate."),
    CACHE("cache", Type.CHOICE, "off",
            "Read cache (docs/cache.md). `on`: results of autocommit reads of the tables in `cache-tables` (or of statements hinted `/* sluice:cache */`) are kept in memory and served again until a write through this Sluice instance commits to a table they read, or their TTL ends. Writes made outside Sluice are bounded only by the TTL.",
            "off", "on"),
    CACHE_TABLES("cache-tables", Type.LIST, "",
            "Tables whose reads are cached when `cache` is on: names as in SQL (case-insensitive), `schema.table` to match only that schema, `*` for every table. Empty: only statements with a `/* sluice:cache */` hint. A read of several tables is cached only when all of them are listed."),
    CACHE_TTL_MS("cache-ttl-ms", Type.INT, "1000",
            "Longest a cached result is served, counted from when its data was current (a replica's lag included). Capped at `max-lag-ms`, the staleness a replica read may have; a hint `/* sluice:cache ttl=5s */` sets it per statement, within the same cap."),
    CACHE_MAX_BYTES("cache-max-bytes", Type.LONG, "67108864",
            "Bound of the read cache, in bytes of cached results (estimated for the driver's rows, exact for the proxies' wire bytes). The least valuable entries are evicted first (Caffeine's W-TinyLFU)."),
    CACHE_MAX_RESULT_BYTES("cache-max-result-bytes", Type.INT, "1048576",
            "Results larger than this are not cached."),
    CACHE_INVALIDATE("cache-invalidate", Type.CHOICE, "tables",
            "`tables`: a write invalidates the cached reads of the tables it names. `all`: every write through Sluice empties the read cache (for schemas where triggers, foreign-key cascades or views let a write change tables it does not name).",
            "tables", "all"),
    ADMIN_USER("admin-user", Type.STRING, null,
            "User for promotion, re-pointing and fencing (PostgreSQL superuser or equivalent grants; MySQL/MariaDB SUPER or REPLICA ADMIN). Defaults to `user`."),
    ADMIN_PASSWORD("admin-password", Type.SECRET, null, "Password of `admin-user`. Never logged or shown."),
    FAILOVER_HOOK("failover-hook", Type.STRING, null,
            "Command run after each promotion, the event as JSON on stdin (rejoin the old primary, update DNS, page someone). Run with `sh -c`; output and exit code in the event log (`hook` / `hook-failed`, see docs/failover.md)."),
    REPLICATION_USER("replication-user", Type.STRING, null,
            "Replication user a demoted MySQL/MariaDB primary uses to follow the new one after a switchover. Defaults to `admin-user`."),
    REPLICATION_PASSWORD("replication-password", Type.SECRET, null, "Password of `replication-user`. Never logged or shown."),
    SWITCHOVER_HOLD_MS("switchover-hold-ms", Type.INT, "10000",
            "During a planned switchover new writes wait at most this long for the new primary (then fail with a clear error)."),
    FENCE_COMMAND("fence-command", Type.STRING, null,
            "Command run to fence an old primary (instead of setting it read-only over SQL); the node's host and port in SLUICE_NODE_HOST / SLUICE_NODE_PORT."),
    STATUS_LISTEN("status-listen", Type.STRING, null,
            "Driver: `host:port` where the application serves the status page and admin API (the proxy's, docs/admin-api.md; port 0 = any free port). Unauthenticated reads: keep it on loopback or a private network."),
    STATUS_TOKEN("status-token", Type.SECRET, null,
            "Driver: bearer token the status page's actions (drain, promote, switchover) need; without it they are disabled. Never logged or shown."),
    COORDINATION_ZOOKEEPER_CONNECT("coordination-zookeeper-connect", Type.STRING, null,
            "Cluster mode (docs/cluster-mode.md): ZooKeeper connect string, e.g. `zk1:2181,zk2:2181,zk3:2181`. Set, every proxy and driver of the cluster shares one topology (primary, epoch, drained nodes) and config, and only the elected leader runs failovers. Unset (the default): a single instance, no external dependency. YAML: `coordination: { zookeeper: { connect: ... } }`."),
    COORDINATION_ZOOKEEPER_ROOT("coordination-zookeeper-root", Type.STRING, "/sluice",
            "ZooKeeper path under which Sluice keeps its znodes (`<root>/clusters/<cluster>/...`); separate Sluice deployments sharing an ensemble need different roots."),
    COORDINATION_SESSION_TIMEOUT_MS("coordination-session-timeout-ms", Type.INT, "6000",
            "ZooKeeper session timeout: how long the ensemble keeps a silent instance's session (its leadership, its registration) before giving them to others."),
    COORDINATION_SESSION_GRACE_MS("coordination-session-grace-ms", Type.INT, "1000",
            "Fail-safe: after losing its ZooKeeper connection an instance keeps routing writes for this long, then refuses them until it has reconnected and read the current epoch. Must be below `coordination-session-timeout-ms` (see docs/cluster-mode.md for the arithmetic)."),
    COORDINATION_INSTANCE_NAME("coordination-instance-name", Type.STRING, null,
            "This instance's name in cluster mode (status page, leader election). Defaults to host name and process id. Letters, digits and `.-_:` only; unique per cluster.");

    /** Value types, each with its own validation. */
    public enum Type { STRING, SECRET, BOOLEAN, INT, LONG, LIST, BALANCING, CHOICE }

    private final String key;
    private final Type type;
    private final String defaultValue;
    private final String doc;
    private final java.util.List<String> choices;

    SluiceOption(String key, Type type, String defaultValue, String doc, String... choices) {
        this.key = key;
        this.type = type;
        this.defaultValue = defaultValue;
        this.doc = doc;
        this.choices = java.util.List.of(choices);
    }

    /** The allowed values of a CHOICE option. */
    public java.util.List<String> choices() {
        return choices;
    }

    public String key() {
        return key;
    }

    public Type type() {
        return type;
    }

    /** The default as text, or null when the option has none. */
    public String defaultValue() {
        return defaultValue;
    }

    public String doc() {
        return doc;
    }

    /** Looks an option up by its key; null when there is none. */
    public static SluiceOption byKey(String key) {
        String k = key.toLowerCase(Locale.ROOT);
        for (SluiceOption o : values()) {
            if (o.key.equals(k)) {
                return o;
            }
        }
        return null;
    }

    /** Validates and converts a textual value; {@code where} names the key in the error (YAML path or URL parameter). */
    Object convert(String where, String raw) {
        String v = raw == null ? null : raw.trim();
        if (v == null) {
            return null;
        }
        switch (type) {
            case STRING:
            case SECRET:
                return raw;
            case BOOLEAN:
                if (v.equalsIgnoreCase("true")) {
                    return Boolean.TRUE;
                }
                if (v.equalsIgnoreCase("false")) {
                    return Boolean.FALSE;
                }
                throw new ConfigException(where + ": expected true or false, got '" + v + "'");
            case INT:
            case LONG:
                long n;
                try {
                    n = Long.parseLong(v);
                } catch (NumberFormatException e) {
                    throw new ConfigException(where + ": expected a number, got '" + v + "'");
                }
                if (n < 0 || (type == Type.INT && n > Integer.MAX_VALUE)) {
                    throw new ConfigException(where + ": out of range: " + v);
                }
                return type == Type.INT ? (Object) (int) n : (Object) n;
            case LIST:
                return java.util.Arrays.stream(v.split(","))
                        .map(String::trim).filter(s -> !s.isEmpty()).toList();
            case BALANCING:
                return Balancing.parse(where, v);
            case CHOICE:
                if (v.equals("false") && choices.contains("off")) {
                    return "off"; // YAML 1.1 reads an unquoted `off` as the boolean false
                }
                if (v.equals("true") && choices.contains("on")) {
                    return "on"; // … and an unquoted `on` as true
                }
                for (String c : choices) {
                    if (c.equalsIgnoreCase(v)) {
                        return c;
                    }
                }
                throw new ConfigException(where + ": expected one of " + String.join(", ", choices) + ", got '" + v + "'");
            default:
                throw new AssertionError(type);
        }
    }
}
