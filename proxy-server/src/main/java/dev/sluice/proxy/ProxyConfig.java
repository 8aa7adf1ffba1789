package dev.sluice.proxy;

import dev.sluice.core.config.ClusterConfig;
import dev.sluice.core.config.ConfigException;
import dev.sluice.core.config.ConfigTree;
import dev.sluice.core.config.SluiceOption;
import dev.sluice.proxy.alert.AlertSettings;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The proxy's validated, immutable configuration: the {@code proxy:} section of the cluster file plus the
 * cluster it serves. Errors name the key and the bad value (never a secret).
 */
public record ProxyConfig(ClusterConfig cluster, InetSocketAddress listen, String auth, List<UserEntry> users,
                          Path tlsCert, Path tlsKey, boolean tlsRequired, InetSocketAddress adminListen,
                          String adminToken, int maxClientConnections, int maxMessageBytes, int eventLoopThreads,
                          int authTimeoutMs, AlertSettings alerts, int authFailureLimit, int authFailureWindowMs,
                          boolean adminTls, List<String> warnings, Sharded sharded) {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ProxyConfig.class);

    /** A client user: its name and stored secret (SCRAM verifier or md5 hash). */
    public record UserEntry(String name, String secret) {
        @Override
        public String toString() {
            return "UserEntry[" + name + "]";
        }
    }

    /**
     * Sharded mode ({@code proxy.database}): the logical database's shard map and each shard's cluster, in shard
     * order (all of one engine). {@link #cluster()} is then the first shard's cluster (its engine is every shard's).
     */
    public record Sharded(dev.sluice.core.shard.ShardMap map, List<ClusterConfig> shards) {
    }

    /** True in sharded mode ({@code proxy.database}). */
    public boolean isSharded() {
        return sharded != null;
    }

    /** Without the admin token (the record's own toString would print it into any log that prints this). */
    @Override
    public String toString() {
        return "ProxyConfig[" + (sharded != null ? "database=" + sharded.map().database() : "cluster=" + cluster.name()) + ", listen=" + listen + ", auth=" + auth + ", users=" + users
                + ", tls=" + (tlsCert != null) + ", adminListen=" + adminListen + ", adminToken=" + (adminToken == null ? "none" : "***")
                + ", alerts=" + alerts + "]";
    }

    /** Reads the file's clusters and its {@code proxy:} section. */
    public static ProxyConfig load(Path file) {
        Object tree;
        try {
            tree = new com.fasterxml.jackson.databind.ObjectMapper(new com.fasterxml.jackson.dataformat.yaml.YAMLFactory())
                    .readValue(Files.readAllBytes(file), Object.class);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new ConfigException(file + ": no such file");
        } catch (java.io.IOException e) {
            throw new ConfigException(file + ": cannot read YAML: " + e.getMessage());
        }
        Map<String, ClusterConfig> clusters = ConfigTree.clusters(tree, file.toString());
        Object section = tree instanceof Map<?, ?> m ? m.get("proxy") : null;
        ProxyConfig c = of(clusters, tree, section, file + ": proxy");
        String readable = worldReadable(file);
        if (readable != null) {
            List<String> w = new ArrayList<>(c.warnings());
            w.add(0, readable);
            c = c.withWarnings(w);
        }
        c.warnings().forEach(w -> log.warn("{}", w));
        return c;
    }

    /** A warning when others may read the file (it holds the backend password and the admin token); null otherwise. */
    static String worldReadable(Path file) {
        try {
            java.util.Set<java.nio.file.attribute.PosixFilePermission> p = Files.getPosixFilePermissions(file);
            if (p.contains(java.nio.file.attribute.PosixFilePermission.OTHERS_READ)) {
                return file + " is readable by every user of this machine (mode "
                        + java.nio.file.attribute.PosixFilePermissions.toString(p) + ") and holds secrets (backend password, "
                        + "admin token): chmod o-r " + file;
            }
        } catch (UnsupportedOperationException | java.io.IOException e) {
            // not a POSIX file system (Windows): nothing to say
        }
        return null;
    }

    ProxyConfig withWarnings(List<String> w) {
        return new ProxyConfig(cluster, listen, auth, users, tlsCert, tlsKey, tlsRequired, adminListen, adminToken,
                maxClientConnections, maxMessageBytes, eventLoopThreads, authTimeoutMs, alerts, authFailureLimit,
                authFailureWindowMs, adminTls, List.copyOf(w), sharded);
    }

    static ProxyConfig of(Map<String, ClusterConfig> clusters, Object section, String where) {
        return of(clusters, null, section, where);
    }

    /** @param root the whole file's tree (for its {@code databases:} section), or null */
    @SuppressWarnings("unchecked")
    static ProxyConfig of(Map<String, ClusterConfig> clusters, Object root, Object section, String where) {
        Map<String, Object> m = section == null ? Map.of() : section instanceof Map<?, ?> mm ? (Map<String, Object>) mm : null;
        if (m == null) {
            throw new ConfigException(where + ": expected a map of options");
        }
        Map<ProxyOption, Object> v = new EnumMap<>(ProxyOption.class);
        for (Map.Entry<String, Object> e : m.entrySet()) {
            ProxyOption o = ProxyOption.byKey(e.getKey());
            if (o == null) {
                throw new ConfigException(where + "." + e.getKey() + ": unknown option (known: "
                        + java.util.Arrays.stream(ProxyOption.values()).map(ProxyOption::key).toList() + ")");
            }
            v.put(o, e.getValue());
        }
        String clusterName = str(v, ProxyOption.CLUSTER);
        String databaseName = str(v, ProxyOption.DATABASE);
        ClusterConfig cluster;
        Sharded sharded = null;
        if (databaseName != null) {
            if (clusterName != null) {
                throw new ConfigException(where + ".database: '" + databaseName + "' and " + where.substring(where.lastIndexOf(' ') + 1)
                        + ".cluster: '" + clusterName + "' both given; a proxy serves either one cluster or one sharded database");
            }
            sharded = sharded(clusters, root, databaseName, where);
            cluster = sharded.shards().get(0);
        } else if (clusterName == null) {
            if (clusters.size() != 1) {
                throw new ConfigException(where + ".cluster: the file has clusters " + clusters.keySet() + "; say which one to serve"
                        + " (or proxy.database: a sharded database of the databases: section)");
            }
            cluster = clusters.values().iterator().next();
        } else {
            cluster = clusters.get(clusterName);
            if (cluster == null) {
                throw new ConfigException(where + ".cluster: '" + clusterName + "' is not in the file (has " + clusters.keySet() + ")");
            }
        }
        boolean pg = cluster.engine() == dev.sluice.core.config.Engine.POSTGRESQL;
        cluster = failoverDefault(cluster);
        String auth = v.get(ProxyOption.AUTH) == null ? (pg ? "scram-sha-256" : "password")
                : String.valueOf(v.get(ProxyOption.AUTH)).toLowerCase(java.util.Locale.ROOT);
        List<String> auths = pg ? List.of("scram-sha-256", "md5", "trust") : List.of("password", "trust");
        if (!auths.contains(auth)) {
            throw new ConfigException(where + ".auth: expected " + String.join(", ", auths) + " for a " + cluster.engine().name().toLowerCase()
                    + " cluster, got '" + auth + "'");
        }
        List<UserEntry> users = users(v.get(ProxyOption.USERS), where + ".users", pg);
        if (!auth.equals("trust") && users.isEmpty()) {
            throw new ConfigException(where + ".users: auth is " + auth + " but no users are configured");
        }
        Path cert = path(v, ProxyOption.TLS_CERT, where);
        Path key = path(v, ProxyOption.TLS_KEY, where);
        if ((cert == null) != (key == null)) {
            throw new ConfigException(where + ": tls-cert and tls-key go together (one is missing)");
        }
        boolean tlsRequired = bool(v, ProxyOption.TLS_REQUIRED, where);
        if (tlsRequired && cert == null) {
            throw new ConfigException(where + ".tls-required: true but no tls-cert is configured");
        }
        String listenAt = str(v, ProxyOption.LISTEN);
        InetSocketAddress listen = address(listenAt != null ? listenAt : pg ? "127.0.0.1:6432" : "127.0.0.1:6033", where + ".listen");
        if (auth.equals("trust") && !loopback(listen)) {
            throw new ConfigException(where + ".auth: trust (no password) is only accepted when listen is a loopback address; "
                    + "listen is " + listen.getHostString() + ": use scram-sha-256 with users, or listen on 127.0.0.1");
        }
        String admin = str(v, ProxyOption.ADMIN_LISTEN); // "false" too: YAML 1.1 reads an unquoted off as a boolean
        InetSocketAddress adminListen = admin.equalsIgnoreCase("off") || admin.equals("false") ? null : address(admin, where + ".admin-listen");
        String adminToken = str(v, ProxyOption.ADMIN_TOKEN);
        if (adminToken != null && adminToken.isBlank()) {
            throw new ConfigException(where + ".admin-token: empty; set a token, or leave the key out to disable the mutating endpoints");
        }
        boolean adminTls = bool(v, ProxyOption.ADMIN_TLS, where);
        if (adminTls && cert == null) {
            throw new ConfigException(where + ".admin-tls: true but no tls-cert/tls-key is configured (the admin API uses the same pair)");
        }
        List<String> warnings = new ArrayList<>();
        if (adminListen != null && !loopback(adminListen)) {
            if (adminToken == null) {
                warnings.add(where + ".admin-listen: " + adminListen.getHostString() + " is not a loopback address and no admin-token is set: "
                        + "the status page, /api/status and /metrics are open to anyone who can reach the port (the mutating endpoints stay disabled)");
            } else if (!adminTls) {
                warnings.add(where + ".admin-listen: " + adminListen.getHostString() + " is not a loopback address and admin-tls is off: "
                        + "the admin token crosses the network in clear text; set admin-tls: true");
            }
        }
        return new ProxyConfig(cluster, listen, auth, users, cert, key, tlsRequired, adminListen, adminToken,
                integer(v, ProxyOption.MAX_CLIENT_CONNECTIONS, where, 1), integer(v, ProxyOption.MAX_MESSAGE_BYTES, where, 1024),
                integer(v, ProxyOption.EVENT_LOOP_THREADS, where, 0), integer(v, ProxyOption.AUTH_TIMEOUT_MS, where, 1),
                alerts(v, where), integer(v, ProxyOption.AUTH_FAILURE_LIMIT, where, 0),
                integer(v, ProxyOption.AUTH_FAILURE_WINDOW_MS, where, 1), adminTls, List.copyOf(warnings), sharded);
    }

    /** The proxy is the one place that sees every client: automatic failover is on unless the file says otherwise. */
    private static ClusterConfig failoverDefault(ClusterConfig c) {
        return c.isSet(SluiceOption.FAILOVER) ? c : c.withOverrides("proxy default", Map.of(SluiceOption.FAILOVER.key(), "auto"), Map.of());
    }

    /** The sharded database {@code name} of the file's {@code databases:} section, each shard's cluster in shard order. */
    private static Sharded sharded(Map<String, ClusterConfig> clusters, Object root, String name, String where) {
        Map<String, dev.sluice.core.shard.ShardMap> dbs = root == null ? Map.of()
                : dev.sluice.core.shard.ShardMapParser.allFromRoot(root, clusters.keySet(), where.substring(0, Math.max(0, where.lastIndexOf(':'))));
        dev.sluice.core.shard.ShardMap map = dbs.get(name);
        if (map == null) {
            throw new ConfigException(where + ".database: '" + name + "' is not under databases: in the file"
                    + (dbs.isEmpty() ? " (it has no databases: section)" : " (has " + dbs.keySet() + ")"));
        }
        List<ClusterConfig> shards = new ArrayList<>();
        for (dev.sluice.core.shard.ShardMap.Shard s : map.shards()) {
            ClusterConfig c = failoverDefault(clusters.get(s.cluster()));
            if (c.engine().dialect() != (shards.isEmpty() ? c : shards.get(0)).engine().dialect()) {
                throw new ConfigException(where + ".database: '" + name + "': shard " + s.name() + " is " + c.engine().name().toLowerCase(java.util.Locale.ROOT)
                        + " but shard " + map.shardName(0) + " is " + shards.get(0).engine().name().toLowerCase(java.util.Locale.ROOT)
                        + " (all shards of a database share one engine)");
            }
            shards.add(c);
        }
        return new Sharded(map, List.copyOf(shards));
    }

    /** 127.0.0.0/8, ::1, or a name resolving to one of them; a wildcard (0.0.0.0, ::) is not loopback. */
    static boolean loopback(InetSocketAddress a) {
        return a.getAddress() != null && a.getAddress().isLoopbackAddress();
    }

    private static AlertSettings alerts(Map<ProxyOption, Object> v, String where) {
        Object raw = v.get(ProxyOption.ALERT_WEBHOOKS);
        List<?> list = raw == null || "".equals(raw) ? List.of() : raw instanceof List<?> l ? l : List.of(raw);
        List<java.net.URI> hooks = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            // the URL itself is not echoed: webhook URLs often carry a token
            String at = where + "." + ProxyOption.ALERT_WEBHOOKS.key() + "[" + i + "]";
            try {
                java.net.URI u = new java.net.URI(String.valueOf(list.get(i)).trim());
                if (u.getScheme() == null || !List.of("http", "https").contains(u.getScheme().toLowerCase(java.util.Locale.ROOT))
                        || u.getHost() == null) {
                    throw new ConfigException(at + ": expected an http:// or https:// URL with a host");
                }
                hooks.add(u);
            } catch (java.net.URISyntaxException e) {
                throw new ConfigException(at + ": not a valid URL (" + e.getReason() + ")");
            }
        }
        String command = str(v, ProxyOption.ALERT_COMMAND);
        if (command != null && command.isBlank()) {
            throw new ConfigException(where + "." + ProxyOption.ALERT_COMMAND.key() + ": empty; leave it out for no command");
        }
        return new AlertSettings(hooks, command, integer(v, ProxyOption.ALERT_DEDUP_MS, where, 0),
                integer(v, ProxyOption.ALERT_TIMEOUT_MS, where, 100));
    }

    private static String str(Map<ProxyOption, Object> v, ProxyOption o) {
        Object x = v.get(o);
        return x == null ? o.defaultValue() : String.valueOf(x);
    }

    private static boolean bool(Map<ProxyOption, Object> v, ProxyOption o, String where) {
        String s = str(v, o);
        if (!s.equalsIgnoreCase("true") && !s.equalsIgnoreCase("false")) {
            throw new ConfigException(where + "." + o.key() + ": expected true or false, got '" + s + "'");
        }
        return Boolean.parseBoolean(s);
    }

    private static int integer(Map<ProxyOption, Object> v, ProxyOption o, String where, int min) {
        String s = str(v, o);
        try {
            int n = Integer.parseInt(s.trim());
            if (n < min) {
                throw new ConfigException(where + "." + o.key() + ": must be at least " + min + ", got " + n);
            }
            return n;
        } catch (NumberFormatException e) {
            throw new ConfigException(where + "." + o.key() + ": expected a number, got '" + s + "'");
        }
    }

    private static Path path(Map<ProxyOption, Object> v, ProxyOption o, String where) {
        String s = str(v, o);
        if (s == null) {
            return null;
        }
        Path p = Path.of(s);
        if (!Files.isReadable(p)) {
            throw new ConfigException(where + "." + o.key() + ": " + s + " is not a readable file");
        }
        return p;
    }

    static InetSocketAddress address(String s, String where) {
        return ConfigTree.address(s, where);
    }

    @SuppressWarnings("unchecked")
    private static List<UserEntry> users(Object raw, String where, boolean pg) {
        List<UserEntry> out = new ArrayList<>();
        if (raw == null || "".equals(raw)) {
            return out;
        }
        if (!(raw instanceof List<?> list)) {
            throw new ConfigException(where + ": expected a list of {name, password}");
        }
        for (int i = 0; i < list.size(); i++) {
            if (!(list.get(i) instanceof Map<?, ?> u)) {
                throw new ConfigException(where + "[" + i + "]: expected {name, password}");
            }
            Object name = u.get("name");
            Object secret = u.get("password");
            for (Object k : u.keySet()) {
                if (!k.equals("name") && !k.equals("password")) {
                    throw new ConfigException(where + "[" + i + "]." + k + ": unknown key (expected name, password)");
                }
            }
            if (name == null) {
                throw new ConfigException(where + "[" + i + "].name: missing");
            }
            String s = secret == null ? null : String.valueOf(secret);
            if (!pg && (s == null || !(dev.sluice.proxy.mysql.MySqlProxy.validSecret(s)))) {
                throw new ConfigException(where + "[" + i + "] (" + name + ").password: expected a mysql_native_password hash (* and 40 hex "
                        + "digits) or a SHA-256-crypt string ($5$...) (plaintext passwords are not accepted; make one with ./sluice passwd --mysql)");
            }
            if (pg && (s == null || !(s.startsWith("SCRAM-SHA-256$") || s.matches("md5[0-9a-f]{32}")))) {
                throw new ConfigException(where + "[" + i + "] (" + name + ").password: expected a SCRAM-SHA-256 verifier or an md5 hash"
                        + " (plaintext passwords are not accepted; make one with ./sluice passwd)");
            }
            out.add(new UserEntry(String.valueOf(name), s));
        }
        return List.copyOf(out);
    }
}
