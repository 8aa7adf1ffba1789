package dev.sluice.proxy;

import dev.sluice.core.health.ClusterStatus;
import dev.sluice.proxy.pg.PgProxy;
import dev.sluice.testsupport.Clusters;
import dev.sluice.testsupport.DbCluster;
import dev.sluice.testsupport.DbNode;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The quickstart behind {@code ./sluice demo}: a local PostgreSQL primary with two streaming replicas, the
 * proxy in front of them with its admin API, a short guided tour through the proxy (a write, reads, a
 * transaction, a lagging replica dropped and readmitted), then the proxy stays up for the user's own psql
 * until Ctrl-C, logging every routing decision. Everything is removed on exit.
 */
final class ProxyDemo {
    static final String USER = "demo";
    static final String PASSWORD = "demo";

    private final PrintStream out;
    private final int port;
    private final int adminPort;
    /** Fresh per run, printed for the operator to paste into the page: the demo's actions work, nothing is left open. */
    private final String adminToken = newToken();

    ProxyDemo(PrintStream out, int port, int adminPort) {
        this.out = out;
        this.port = port;
        this.adminPort = adminPort;
    }

    /** Runs the demo; returns after the tour when {@code exitAfterTour}, else waits until the JVM is stopped. */
    void run(boolean exitAfterTour) throws Exception {
        out.println("Starting a PostgreSQL primary and 2 streaming replicas (local processes, temporary data)...");
        DbCluster c = Clusters.startPostgres("demo-proxy", 2);
        ProxyServer server = null;
        Path cfg = null;
        try {
            cfg = Files.createTempFile("sluice-demo", ".yaml");
            Files.writeString(cfg, config(c));
            server = new ProxyServer(ProxyConfig.load(cfg), true, DemoEndpoints.of(c));
            awaitReplicas(server);
            String conn = "psql \"host=127.0.0.1 port=" + server.pg().address().getPort() + " dbname=" + c.database()
                    + " user=" + USER + " password=" + PASSWORD + "\"";
            out.println();
            out.println("== Sluice proxy for cluster 'demo': primary " + c.primary().name() + " :" + c.primary().port()
                    + ", replicas " + c.replicas().stream().map(n -> n.name() + " :" + n.port()).toList());
            out.println("   connect:  " + conn);
            if (server.adminAddress() != null) {
                out.println("   page:     http://127.0.0.1:" + server.adminAddress().getPort() + "/   (live status; delay a replica from it)");
                out.println("   token:    " + adminToken + "   (paste it into the page to drain, promote or switch over)");
                out.println("   status:   curl http://127.0.0.1:" + server.adminAddress().getPort() + "/api/status");
            }
            out.println();
            tour(server, c);
            if (exitAfterTour) {
                return;
            }
            out.println();
            out.println("The proxy keeps running. Try, in another terminal:");
            out.println("   " + conn);
            out.println("     SELECT inet_server_port();                        -- a read: one of the replicas' ports");
            out.println("     INSERT INTO demo(note) VALUES ('mine') RETURNING inet_server_port();   -- the primary");
            out.println("     BEGIN; SELECT inet_server_port(); COMMIT;         -- a transaction stays on the primary");
            if (server.adminAddress() != null) {
                out.println("   Watch it: open http://127.0.0.1:" + server.adminAddress().getPort() + "/ and delay a replica from the page");
            }
            out.println("   Lag a replica: psql -h 127.0.0.1 -p " + c.replicas().get(0).port() + " -U postgres -c 'SELECT pg_wal_replay_pause()'");
            out.println("     (within about a second reads avoid it; pg_wal_replay_resume() brings it back)");
            out.println("Every routing decision is logged below. Ctrl-C stops the proxy and removes the cluster.");
            out.println();
            // Ctrl-C ends the JVM without unwinding this thread: clean up from a shutdown hook
            ProxyServer running = server;
            Path file = cfg;
            Thread cleanup = new Thread(() -> {
                running.close();
                c.close();
                try {
                    Files.deleteIfExists(file);
                } catch (java.io.IOException ignored) {
                    // temp file
                }
                System.out.println("sluice demo: proxy stopped, cluster removed");
            }, "sluice-demo-cleanup");
            Runtime.getRuntime().addShutdownHook(cleanup);
            server = null; // the hook owns them now
            Thread.currentThread().join();
        } finally {
            if (server != null) {
                server.close();
                c.close();
            }
            if (cfg != null) {
                Files.deleteIfExists(cfg);
            }
        }
    }

    private String config(DbCluster c) {
        StringBuilder y = new StringBuilder("clusters:\n  demo:\n    engine: postgresql\n    database: " + c.database()
                + "\n    user: " + c.user() + "\n    password: " + c.password() + "\n    admin-user: postgres\n    nodes:\n");
        for (DbNode n : c.nodes()) {
            y.append("      - { name: ").append(n.name()).append(", host: ").append(n.host()).append(", port: ").append(n.port()).append(" }\n");
        }
        y.append("proxy:\n  listen: 127.0.0.1:").append(port).append("\n  admin-listen: 127.0.0.1:").append(adminPort)
                .append("\n  admin-token: ").append(adminToken)
                .append("\n  users:\n    - { name: ").append(USER).append(", password: \"").append(PgProxy.scramVerifier(PASSWORD)).append("\" }\n");
        return y.toString();
    }

    private static String newToken() {
        byte[] b = new byte[12];
        new java.security.SecureRandom().nextBytes(b);
        return java.util.HexFormat.of().formatHex(b);
    }

    private static void awaitReplicas(ProxyServer s) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (s.runtime().router().topology().replicas().size() < 2 && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
    }

    /** A few statements through the proxy (pgjdbc), each printed with the server that answered. */
    private void tour(ProxyServer s, DbCluster c) throws Exception {
        String url = "jdbc:postgresql://127.0.0.1:" + s.pg().address().getPort() + "/" + c.database();
        try (Connection conn = DriverManager.getConnection(url, USER, PASSWORD); Statement st = conn.createStatement()) {
            out.println("-- a short tour through the proxy (the routing log shows each decision and its reason):");
            st.execute("CREATE TABLE IF NOT EXISTS demo (id serial PRIMARY KEY, note text, written_on int)");
            show(st, c, "INSERT INTO demo(note, written_on) VALUES ('hello', inet_server_port()) RETURNING inet_server_port()");
            c.waitForReplication(Duration.ofSeconds(10));
            show(st, c, "SELECT inet_server_port() FROM demo LIMIT 1");
            show(st, c, "SELECT inet_server_port() FROM demo LIMIT 1");
            show(st, c, "/* sluice:primary */ SELECT inet_server_port()");
            conn.setAutoCommit(false);
            show(st, c, "SELECT inet_server_port()  -- inside a transaction");
            conn.commit();
            conn.setAutoCommit(true);
            DbNode lagging = c.replicas().get(0);
            out.println("-- pausing replay on " + lagging.name() + " (pg_wal_replay_pause): its heartbeat lag grows past max-lag-ms...");
            c.pauseReplay(lagging);
            waitState(s, lagging.name(), false);
            show(st, c, "SELECT inet_server_port()  -- " + lagging.name() + " is out of the read set");
            show(st, c, "SELECT inet_server_port()");
            c.resumeReplay(lagging);
            waitState(s, lagging.name(), true);
            out.println("-- replay resumed: " + lagging.name() + " caught up and is back in the read set");
            ClusterStatus cs = s.runtime().clusterStatus();
            cs.nodes().forEach(n -> out.printf("   %-14s %-8s %-6s lag %s%n", n.name(), n.role(), n.state(),
                    n.lagMillis() == null ? "-" : n.lagMillis() + " ms"));
        }
    }

    private void show(Statement st, DbCluster c, String sql) throws Exception {
        try (ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            int p = rs.getInt(1);
            String node = c.nodes().stream().filter(n -> n.port() == p).map(DbNode::name).findFirst().orElse("port " + p);
            out.printf("   %-70s answered by %s%n", sql, node);
        }
    }

    private static void waitState(ProxyServer s, String node, boolean inReadSet) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline && s.runtime().router().topology().replicas().contains(node) != inReadSet) {
            Thread.sleep(50);
        }
    }
}
