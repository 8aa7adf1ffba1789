package dev.sluice.proxy;

import dev.sluice.proxy.pg.PgProxy;
import dev.sluice.testsupport.Clusters;
import dev.sluice.testsupport.DbCluster;
import dev.sluice.testsupport.DbNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real PostgreSQL primary with replicas and a Sluice proxy in front, for tests that drive the proxy with
 * real clients (psql, pgbench, pgjdbc, psycopg2, node-postgres) and check where statements ran by asking
 * the server itself ({@code inet_server_port()}).
 */
public final class ProxyFixture implements AutoCloseable {
    /** The client user and password every test logs in to the proxy with. */
    public static final String USER = "app";
    public static final String PASSWORD = "app-secret";
    public static final String MD5_USER = "legacy";
    public static final String MD5_PASSWORD = "legacy-secret";

    public final DbCluster cluster;
    public final ProxyServer server;
    public final Path config;
    private final Map<Integer, String> nodeByPort = new HashMap<>();

    private ProxyFixture(DbCluster cluster, ProxyServer server, Path config) {
        this.cluster = cluster;
        this.server = server;
        this.config = config;
        for (DbNode n : cluster.nodes()) {
            nodeByPort.put(n.port(), n.name());
        }
    }

    /** Starts a PG cluster with {@code replicas} replicas and a proxy; {@code proxyExtra} is appended to the proxy: section. */
    public static ProxyFixture start(String name, int replicas, String clusterExtra, String proxyExtra) throws Exception {
        return start(name, replicas, clusterExtra, proxyExtra, java.util.function.UnaryOperator.identity());
    }

    /** As above, {@code edit} rewriting the whole config file first (another admin token, say). */
    public static ProxyFixture start(String name, int replicas, String clusterExtra, String proxyExtra,
                                     java.util.function.UnaryOperator<String> edit) throws Exception {
        DbCluster c = Clusters.startPostgres(name, replicas);
        try {
            Path cfgFile = Files.createTempFile("sluice-proxy", ".yaml");
            Files.writeString(cfgFile, edit.apply(yaml(c, clusterExtra, proxyExtra)));
            ProxyServer s = new ProxyServer(ProxyConfig.load(cfgFile));
            ProxyFixture f = new ProxyFixture(c, s, cfgFile);
            f.awaitTopology(replicas);
            return f;
        } catch (Exception | Error e) {
            c.close();
            throw e;
        }
    }

    static String yaml(DbCluster c, String clusterExtra, String proxyExtra) {
        String md5 = "md5" + java.util.HexFormat.of().formatHex(md5((MD5_PASSWORD + MD5_USER).getBytes(StandardCharsets.UTF_8)));
        StringBuilder y = new StringBuilder("clusters:\n  main:\n    engine: postgresql\n    database: " + c.database()
                + "\n    user: " + c.user() + "\n    password: " + c.password() + "\n    admin-user: postgres\n"
                + "    pool-max-size: 40\n" + (clusterExtra == null ? "" : clusterExtra) + "    nodes:\n");
        for (DbNode n : c.nodes()) {
            y.append("      - { name: ").append(n.name()).append(", host: ").append(n.host()).append(", port: ").append(n.port()).append(" }\n");
        }
        y.append("proxy:\n  listen: 127.0.0.1:0\n  admin-listen: 127.0.0.1:0\n  admin-token: test-token\n  users:\n")
                .append("    - { name: ").append(USER).append(", password: \"").append(PgProxy.scramVerifier(PASSWORD)).append("\" }\n")
                .append("    - { name: ").append(MD5_USER).append(", password: \"").append(md5).append("\" }\n")
                .append(proxyExtra == null ? "" : proxyExtra);
        return y.toString();
    }

    private static byte[] md5(byte[] b) {
        try {
            return java.security.MessageDigest.getInstance("MD5").digest(b);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
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

    public int port() {
        return server.pg().address().getPort();
    }

    public String host() {
        return "127.0.0.1";
    }

    /** Node name of a server port, as returned by inet_server_port(). */
    public String node(int port) {
        String n = nodeByPort.get(port);
        if (n == null) {
            throw new AssertionError("port " + port + " is no node of the cluster " + nodeByPort);
        }
        return n;
    }

    public String primaryName() {
        return cluster.primary().name();
    }

    public List<String> replicaNames() {
        return cluster.replicas().stream().map(DbNode::name).toList();
    }

    /** A libpq connection string for the proxy. */
    public String conninfo(String extra) {
        return "host=127.0.0.1 port=" + port() + " dbname=" + cluster.database() + " user=" + USER + (extra == null ? "" : " " + extra);
    }

    public String jdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + port() + "/" + cluster.database();
    }

    /** Result of an external client run. */
    public record Run(int exit, String out, String err) {
        public List<String> lines() {
            List<String> l = new ArrayList<>();
            for (String s : out.split("\n")) {
                if (!s.isBlank()) {
                    l.add(s.strip());
                }
            }
            return l;
        }
    }

    /** Runs a client program with PGPASSWORD set, feeding {@code stdin}; fails if it runs longer than {@code timeout}. */
    public static Run run(List<String> cmd, Map<String, String> env, String stdin, Duration timeout) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().putAll(env);
        Path out = Files.createTempFile("sluice-client", ".out");
        Path err = Files.createTempFile("sluice-client", ".err");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        Process p = pb.start();
        try (var in = p.getOutputStream()) {
            if (stdin != null) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            }
        }
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(cmd + " did not finish within " + timeout + "; stderr: " + Files.readString(err));
        }
        Run r = new Run(p.exitValue(), Files.readString(out), Files.readString(err));
        Files.deleteIfExists(out);
        Files.deleteIfExists(err);
        return r;
    }

    public Map<String, String> pgEnv() {
        return Map.of("PGPASSWORD", PASSWORD, "PGCONNECT_TIMEOUT", "10");
    }

    @Override
    public void close() {
        try {
            server.close();
        } finally {
            cluster.close();
            try {
                Files.deleteIfExists(config);
            } catch (IOException ignored) {
                // temp file
            }
        }
    }
}
