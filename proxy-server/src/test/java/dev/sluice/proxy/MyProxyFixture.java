package dev.sluice.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.testsupport.Clusters;
import dev.sluice.testsupport.DbCluster;
import dev.sluice.testsupport.DbNode;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A real MariaDB primary with GTID replicas and a Sluice proxy (MySQL protocol) in front, for tests that drive
 * the proxy with real clients (the mariadb CLI, sysbench, Connector/J, MariaDB Connector/J, pymysql, node
 * mysql2) and check where statements ran by asking the server itself ({@code SELECT @@port}).
 *
 * <p>{@code -Dsluice.mysqlDirect=true} points the clients at the MariaDB primary itself, no proxy: only for
 * checking a client test against a real server (what the client sends, what it prints, how it fails). There
 * every statement runs on the primary, so the routing assertions ({@link #assertOnReadNode}, {@link #readNodes})
 * expect the primary; TLS is not configured on the cluster's servers. Tests never set it: without it they need
 * the proxy and fail when it is missing.
 */
public final class MyProxyFixture implements AutoCloseable {
    /** The client user and password every test logs in with. */
    public static final String USER = "app";
    public static final String PASSWORD = "app-secret";
    /** A user with a caching_sha2_password secret (SHA-256-crypt), for the full/fast authentication paths. */
    public static final String SHA2_USER = "app2";
    public static final String SHA2_PASSWORD = "app2-secret";
    /** A second mysql_native_password user (COM_CHANGE_USER between two users). */
    public static final String OTHER_USER = "ops";
    public static final String OTHER_PASSWORD = "ops-secret";
    public static final String DIRECT_PROPERTY = "sluice.mysqlDirect";

    public final DbCluster cluster;
    /** The proxy; null in direct mode. */
    public final ProxyServer server;
    public final Path config;
    private final InetSocketAddress address;
    private final Map<Integer, String> nodeByPort = new HashMap<>();

    private MyProxyFixture(DbCluster cluster, ProxyServer server, Path config, InetSocketAddress address) {
        this.cluster = cluster;
        this.server = server;
        this.config = config;
        this.address = address;
        for (DbNode n : cluster.nodes()) {
            nodeByPort.put(n.port(), n.name());
        }
    }

    public static MyProxyFixture start(String name, int replicas) throws Exception {
        return start(name, replicas, null, null);
    }

    /** A MariaDB cluster with {@code replicas} replicas and a proxy; the extras are appended to the cluster / proxy sections. */
    public static MyProxyFixture start(String name, int replicas, String clusterExtra, String proxyExtra) throws Exception {
        DbCluster c = Clusters.startMariaDb(name, replicas);
        try {
            if (direct()) {
                System.err.println("MyProxyFixture: DIRECT MODE (-D" + DIRECT_PROPERTY + "): clients talk to the MariaDB primary, not the proxy");
                createClientUser(c);
                return new MyProxyFixture(c, null, null, new InetSocketAddress(c.primary().host(), c.primary().port()));
            }
            Path cfgFile = Files.createTempFile("sluice-myproxy", ".yaml");
            Files.writeString(cfgFile, yaml(c, clusterExtra, proxyExtra));
            ProxyServer s = new ProxyServer(ProxyConfig.load(cfgFile));
            MyProxyFixture f;
            try {
                f = new MyProxyFixture(c, s, cfgFile, s.address());
            } catch (RuntimeException | Error e) {
                s.close();
                throw e;
            }
            f.awaitTopology(replicas);
            return f;
        } catch (Exception | Error e) {
            c.close();
            throw e;
        }
    }

    public static boolean direct() {
        return Boolean.getBoolean(DIRECT_PROPERTY);
    }

    static String yaml(DbCluster c, String clusterExtra, String proxyExtra) {
        StringBuilder y = new StringBuilder("clusters:\n  main:\n    engine: mariadb\n    database: " + c.database()
                + "\n    user: " + c.user() + "\n    password: " + c.password() + "\n    admin-user: root\n"
                + "    pool-max-size: 40\n" + (clusterExtra == null ? "" : clusterExtra) + "    nodes:\n");
        for (DbNode n : c.nodes()) {
            y.append("      - { name: ").append(n.name()).append(", host: ").append(n.host()).append(", port: ").append(n.port()).append(" }\n");
        }
        y.append("proxy:\n  listen: 127.0.0.1:0\n  admin-listen: 127.0.0.1:0\n  admin-token: test-token\n  users:\n")
                .append("    - { name: ").append(USER).append(", password: \"").append(nativePasswordHash(PASSWORD)).append("\" }\n")
                .append("    - { name: ").append(SHA2_USER).append(", password: \"").append(dev.sluice.proxy.mysql.MyAuth.sha2Hash(SHA2_PASSWORD))
                .append("\" }\n")
                .append("    - { name: ").append(OTHER_USER).append(", password: \"").append(nativePasswordHash(OTHER_PASSWORD)).append("\" }\n")
                .append(proxyExtra == null ? "" : proxyExtra);
        return y.toString();
    }

    /** mysql_native_password's stored form, as MariaDB's PASSWORD() prints it: "*" + HEX(SHA1(SHA1(password))). */
    public static String nativePasswordHash(String password) {
        return dev.sluice.proxy.mysql.MyAuth.nativeHash(password);
    }

    /** Direct mode: the client user on the servers, made from the same hash the proxy is configured with. */
    private static void createClientUser(DbCluster c) throws Exception {
        try (Connection conn = c.connectAdmin(c.primary()); Statement st = conn.createStatement()) {
            st.execute("CREATE USER '" + USER + "'@'%' IDENTIFIED BY PASSWORD '" + nativePasswordHash(PASSWORD) + "'");
            st.execute("GRANT ALL PRIVILEGES ON " + c.database() + ".* TO '" + USER + "'@'%'");
            try (ResultSet rs = st.executeQuery("SELECT PASSWORD('" + PASSWORD + "')")) {
                rs.next();
                assertEquals(rs.getString(1), nativePasswordHash(PASSWORD), "the fixture's hash is MariaDB's");
            }
        }
        c.waitForReplication(Duration.ofSeconds(30));
    }

    /** Waits until the router knows the primary and {@code replicas} replicas in its read set. */
    public void awaitTopology(int replicas) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            var t = server.runtime().router().topology();
            if (t.primary() != null && t.replicas().size() >= replicas) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("proxy never saw a primary and " + replicas + " replicas: " + server.runtime().router().topology());
    }

    public String host() {
        return address.getHostString();
    }

    public int port() {
        return address.getPort();
    }

    public String database() {
        return cluster.database();
    }

    /** jdbc:mysql: or jdbc:mariadb: URL of the proxy; {@code params} without the "?" (may be null). */
    public String jdbcUrl(String scheme, String params) {
        return "jdbc:" + scheme + "://" + host() + ":" + port() + "/" + database() + (params == null ? "" : "?" + params);
    }

    /** Node name of a server port, as {@code SELECT @@port} returns it. */
    public String node(int port) {
        String n = nodeByPort.get(port);
        if (n == null) {
            throw new AssertionError("port " + port + " is no node of the cluster " + nodeByPort);
        }
        return n;
    }

    public String node(String port) {
        return node(Integer.parseInt(port.strip()));
    }

    public DbNode nodeNamed(String name) {
        return cluster.nodes().stream().filter(n -> n.name().equals(name)).findFirst().orElseThrow();
    }

    public String primaryName() {
        return cluster.primary().name();
    }

    public List<String> replicaNames() {
        return cluster.replicas().stream().map(DbNode::name).toList();
    }

    /** Where autocommit reads must land: every replica through the proxy (the primary in direct mode). */
    public Set<String> readNodes() {
        return direct() || cluster.replicas().isEmpty() ? Set.of(primaryName()) : Set.copyOf(replicaNames());
    }

    public void assertOnPrimary(int port, String what) {
        assertEquals(primaryName(), node(port), what + ": ran on the primary");
    }

    /** An autocommit read: on a replica (on the primary in direct mode, or when there is no replica). */
    public void assertOnReadNode(int port, String what) {
        assertTrue(readNodes().contains(node(port)), what + ": ran on " + node(port) + ", expected one of " + readNodes());
    }

    /** A {@code SHOW GLOBAL STATUS} counter of one node (asked directly, as root). */
    public long globalStatus(String nodeName, String variable) throws SQLException {
        try (Connection c = cluster.connectAdmin(nodeNamed(nodeName)); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SHOW GLOBAL STATUS LIKE '" + variable + "'")) {
            return rs.next() ? rs.getLong(2) : 0;
        }
    }

    /** {@link #globalStatus} of every running node, by name. */
    public Map<String, Long> globalStatus(String variable) throws SQLException {
        Map<String, Long> m = new LinkedHashMap<>();
        for (DbNode n : cluster.nodes()) {
            if (n.isRunning()) {
                m.put(n.name(), globalStatus(n.name(), variable));
            }
        }
        return m;
    }

    /** The environment for the mariadb CLI and sysbench: the password in MYSQL_PWD. */
    public Map<String, String> cliEnv() {
        return Map.of("MYSQL_PWD", PASSWORD);
    }

    /** Runs a client program, feeding {@code stdin}; fails if it runs longer than {@code timeout}. */
    public static ProxyFixture.Run run(List<String> cmd, Map<String, String> env, String stdin, Duration timeout)
            throws IOException, InterruptedException {
        return ProxyFixture.run(cmd, env, stdin, timeout);
    }

    /**
     * A self-signed certificate (CN and subjectAltName localhost / 127.0.0.1) and PKCS#8 key in {@code dir}, as
     * the proxy's {@code tls-cert} / {@code tls-key} lines for the proxy: section.
     */
    public static String tlsProxyExtra(Path dir) throws Exception {
        String openssl = ClientTools.require("openssl", "apt-get install openssl");
        Path cert = dir.resolve("cert.pem");
        Path key = dir.resolve("key.pem");
        ProxyFixture.Run r = run(List.of(openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key.toString(),
                "-out", cert.toString(), "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"),
                Map.of(), null, Duration.ofSeconds(120));
        assertEquals(0, r.exit(), "openssl: " + r.err());
        return "  tls-cert: " + cert + "\n  tls-key: " + key + "\n";
    }

    @Override
    public void close() {
        try {
            if (server != null) {
                server.close();
            }
        } finally {
            cluster.close();
            try {
                if (config != null) {
                    Files.deleteIfExists(config);
                }
            } catch (IOException ignored) {
                // temp file
            }
        }
    }
}
