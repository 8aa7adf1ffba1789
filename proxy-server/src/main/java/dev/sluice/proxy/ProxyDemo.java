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
 * The quickstart behind {@code ./sluice demo}, for one engine: a local PostgreSQL primary with two streaming
 * replicas (or MariaDB with two GTID replicas), the proxy in front of them with its admin API, a short guided
 * tour through the proxy (a write, reads, a transaction, a lagging replica dropped and readmitted), then the
 * proxy stays up for the user's own psql / mariadb client until Ctrl-C, logging every routing decision.
 * Everything is removed on exit.
 */
final class ProxyDemo {
    static final String USER = "demo";
    static final String PASSWORD = "demo";

    private final boolean pg;
    private final String label;
    private final String where;
    private final PrintStream out;
    private final int port;
    private final int adminPort;
    /** Fresh per run, printed for the operator to paste into the page: the demo's actions work, nothing is left open. */
    private final String adminToken = newToken();

    private DbCluster cluster;
    private ProxyServer server;
    private Path cfg;

    ProxyDemo(boolean pg, PrintStream out, int port, int adminPort) {
        this.pg = pg;
        this.label = pg ? "PostgreSQL" : "MariaDB";
        this.where = pg ? "inet_server_port()" : "@@port";
        this.out = out;
        this.port = port;
        this.adminPort = adminPort;
    }

    /** Starts the cluster and the proxy, prints how to connect, and runs the tour. */
    void start() throws Exception {
        out.println("Starting a " + label + " primary and 2 " + (pg ? "streaming" : "GTID") + " replicas (local processes, temporary data)...");
        cluster = pg ? Clusters.startPostgres("demo-proxy", 2) : Clusters.startMariaDb("demo-mysql", 2);
        try {
            cfg = Files.createTempFile("sluice-demo", ".yaml");
            Files.writeString(cfg, config(cluster));
            server = new ProxyServer(ProxyConfig.load(cfg), true, DemoEndpoints.of(cluster));
            awaitReplicas(server);
            out.println();
            out.println("== Sluice " + (pg ? "PostgreSQL" : "MySQL") + " proxy for " + label + " cluster 'demo': primary "
                    + cluster.primary().name() + " :" + cluster.primary().port()
                    + ", replicas " + cluster.replicas().stream().map(n -> n.name() + " :" + n.port()).toList());
            out.println("   connect:  " + connectCommand());
            if (server.adminAddress() != null) {
                out.println("   page:     http://127.0.0.1:" + server.adminAddress().getPort() + "/   (live status; delay a replica from it)");
                out.println("   token:    " + adminToken + "   (paste it into the page to drain, promote or switch over)");
                out.println("   status:   curl http://127.0.0.1:" + server.adminAddress().getPort() + "/api/status");
            }
            out.println();
            tour(server, cluster);
        } catch (Exception | Error e) {
            close();
            throw e;
        }
    }

    String connectCommand() {
        int p = server.address().getPort();
        return pg ? "psql \"host=127.0.0.1 port=" + p + " dbname=" + cluster.database() + " user=" + USER + " password=" + PASSWORD + "\""
                : "mariadb -h 127.0.0.1 -P " + p + " -u " + USER + " -p" + PASSWORD + " " + cluster.database();
    }

    /** What to try by hand while the proxy keeps running. */
    void printHints() {
        out.println("Try the " + label + " proxy, in another terminal:");
        out.println("   " + connectCommand());
        out.println("     SELECT " + where + ";                        -- a read: one of the replicas' ports");
        out.println("     INSERT INTO demo(note) VALUES ('mine') RETURNING " + where + ";   -- the primary");
        out.println("     BEGIN; SELECT " + where + "; COMMIT;         -- a transaction stays on the primary");
        if (server.adminAddress() != null) {
            out.println("   Watch it: open http://127.0.0.1:" + server.adminAddress().getPort() + "/ and delay a replica from the page");
        }
        if (pg) {
            out.println("   Lag a replica: psql -h 127.0.0.1 -p " + cluster.replicas().get(0).port() + " -U postgres -c 'SELECT pg_wal_replay_pause()'");
            out.println("     (within about a second reads avoid it; pg_wal_replay_resume() brings it back)");
        } else {
            out.println("   Lag a replica: mariadb -h 127.0.0.1 -P " + cluster.replicas().get(0).port() + " -u root -e 'STOP SLAVE SQL_THREAD'");
            out.println("     (within about a second reads avoid it; START SLAVE SQL_THREAD brings it back)");
        }
    }

    /** Stops the proxy, removes the cluster. */
    void close() {
        if (server != null) {
            server.close();
            server = null;
        }
        if (cluster != null) {
            cluster.close();
            cluster = null;
        }
        try {
            if (cfg != null) {
                Files.deleteIfExists(cfg);
            }
        } catch (java.io.IOException ignored) {
            // temp file
        }
    }

    private String config(DbCluster c) {
        StringBuilder y = new StringBuilder("clusters:\n  demo:\n    engine: " + (pg ? "postgresql" : "mariadb") + "\n    database: "
                + c.database() + "\n    user: " + c.user() + "\n    password: " + c.password() + "\n"
                + (pg ? "    admin-user: postgres\n" : "") + "    nodes:\n");
        for (DbNode n : c.nodes()) {
            y.append("      - { name: ").append(n.name()).append(", host: ").append(n.host()).append(", port: ").append(n.port()).append(" }\n");
        }
        y.append("proxy:\n  listen: 127.0.0.1:").append(port).append("\n  admin-listen: 127.0.0.1:").append(adminPort)
                .append("\n  admin-token: ").append(adminToken)
                .append("\n  users:\n    - { name: ").append(USER).append(", password: \"").append(pg ? PgProxy.scramVerifier(PASSWORD) : dev.sluice.proxy.mysql.MyAuth.nativeHash(PASSWORD)).append("\" }\n");
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
        String url = (pg ? "jdbc:postgresql" : "jdbc:mariadb") + "://127.0.0.1:" + s.address().getPort() + "/" + c.database();
        try (Connection conn = DriverManager.getConnection(url, USER, PASSWORD); Statement st = conn.createStatement()) {
            out.println("-- a short tour through the proxy (the routing log shows each decision and its reason):");
            st.execute("CREATE TABLE IF NOT EXISTS demo (id " + (pg ? "serial" : "int auto_increment") + " PRIMARY KEY, note text, written_on int)");
            show(st, c, "INSERT INTO demo(note, written_on) VALUES ('hello', " + where + ") RETURNING " + where);
            c.waitForReplication(Duration.ofSeconds(10));
            show(st, c, "SELECT " + where + " FROM demo LIMIT 1");
            show(st, c, "SELECT " + where + " FROM demo LIMIT 1");
            show(st, c, "/* sluice:primary */ SELECT " + where);
            conn.setAutoCommit(false);
            show(st, c, "SELECT " + where + "  -- inside a transaction");
            conn.commit();
            conn.setAutoCommit(true);
            DbNode lagging = c.replicas().get(0);
            out.println("-- pausing replay on " + lagging.name() + (pg ? " (pg_wal_replay_pause)" : " (STOP SLAVE SQL_THREAD)")
                    + ": its heartbeat lag grows past max-lag-ms...");
            c.pauseReplay(lagging);
            waitState(s, lagging.name(), false);
            show(st, c, "SELECT " + where + "  -- " + lagging.name() + " is out of the read set");
            show(st, c, "SELECT " + where);
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
