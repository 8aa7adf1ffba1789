package dev.sluice.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.testsupport.Clusters;
import dev.sluice.testsupport.DbCluster;
import dev.sluice.testsupport.DbNode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import picocli.CommandLine;

/** ./sluice status / promote / switchover against a real PostgreSQL cluster, from a cluster file. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CliIT {
    static DbCluster cluster;
    static Path config;

    record Run(int exit, String out) {
    }

    @BeforeAll
    static void start() throws Exception {
        cluster = Clusters.startPostgres("cli-pg", 2);
        StringBuilder y = new StringBuilder("clusters:\n  main:\n    engine: postgresql\n    database: " + cluster.database()
                + "\n    user: " + cluster.user() + "\n    password: " + cluster.password() + "\n    admin-user: postgres\n    nodes:\n");
        for (DbNode n : cluster.nodes()) {
            y.append("      - { name: ").append(n.name()).append(", host: ").append(n.host()).append(", port: ").append(n.port()).append(" }\n");
        }
        config = Files.createTempFile("sluice-cli", ".yaml");
        Files.writeString(config, y);
    }

    @AfterAll
    static void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
        Files.deleteIfExists(config);
    }

    static synchronized Run sluice(String... args) {
        PrintStream before = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            int exit = new CommandLine(new SluiceCli()).execute(args);
            return new Run(exit, buf.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(before);
        }
    }

    static boolean inRecovery(DbNode n) throws Exception {
        try (Connection c = cluster.connectAdmin(n); Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    @Test
    @Order(1)
    void statusShowsEveryNode() {
        Run r = sluice("status", "-c", config.toString());
        assertEquals(0, r.exit(), r.out());
        assertTrue(r.out().contains("primary: " + cluster.primary().name()), r.out());
        for (DbNode n : cluster.nodes()) {
            assertTrue(r.out().contains(n.name()), r.out());
        }
    }

    @Test
    @Order(2)
    void drainReachesAnotherRouterThroughThePrimary() throws Exception {
        DbNode r1 = cluster.replicas().get(0);
        // an "application" router of its own, as an in-app driver would have
        String appUrl = "jdbc:sluice:file:" + config.toAbsolutePath() + "?pool-max-size=3";
        try (java.sql.Connection app = java.sql.DriverManager.getConnection(appUrl); Statement st = app.createStatement()) {
            dev.sluice.jdbc.SluiceAdmin admin = app.unwrap(dev.sluice.jdbc.SluiceAdmin.class);
            Run r = sluice("drain", r1.name(), "-c", config.toString());
            assertEquals(0, r.exit(), r.out());
            long deadline = System.nanoTime() + 3_000_000_000L;
            while (!admin.clusterStatus().node(r1.name()).state().equals("DRAINED") && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals("DRAINED", admin.clusterStatus().node(r1.name()).state(), "the app's router follows the CLI's drain");
            for (int i = 0; i < 6; i++) {
                try (ResultSet rs = st.executeQuery("SELECT inet_server_port()")) {
                    rs.next();
                    assertTrue(rs.getInt(1) != r1.port(), "no reads on a drained replica");
                }
            }
            assertEquals(0, sluice("undrain", r1.name(), "-c", config.toString()).exit());
            deadline = System.nanoTime() + 3_000_000_000L;
            while (!admin.clusterStatus().node(r1.name()).state().equals("UP") && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals("UP", admin.clusterStatus().node(r1.name()).state());
        } finally {
            dev.sluice.jdbc.SluiceDriver.close(appUrl, null);
        }
    }

    @Test
    @Order(3)
    void promoteRefusesWhileThePrimaryLives() throws Exception {
        Run r = sluice("promote", cluster.replicas().get(0).name(), "-c", config.toString());
        assertEquals(1, r.exit(), r.out());
        assertTrue(r.out().contains("alive"), r.out());
        assertTrue(inRecovery(cluster.replicas().get(0)), "nothing promoted");
    }

    @Test
    @Order(4)
    void dryRunPrintsThePlanAndChangesNothing() throws Exception {
        DbNode target = cluster.replicas().get(1);
        Run r = sluice("switchover", "--to", target.name(), "--dry-run", "-c", config.toString());
        assertEquals(0, r.exit(), r.out());
        assertTrue(r.out().contains("candidate " + cluster.replicas().get(0).name()), r.out());
        assertTrue(r.out().contains("dry run"), r.out());
        assertTrue(inRecovery(target), "a dry run promotes nothing");
    }

    @Test
    @Order(5)
    void switchoverMovesThePrimary() throws Exception {
        DbNode target = cluster.replicas().get(1);
        Run r = sluice("switchover", "--to", target.name(), "-c", config.toString());
        assertEquals(0, r.exit(), r.out());
        assertTrue(r.out().contains("promoted " + target.name()), r.out());
        assertTrue(!inRecovery(target), "target is now writable");
        Run s = sluice("status", "-c", config.toString());
        assertTrue(s.out().contains("primary: " + target.name()), s.out());
    }

    @Test
    @Order(6)
    void badUsageExitsTwo() {
        assertEquals(2, sluice("status", "-c", "/nonexistent/cluster.yaml").exit());
        assertEquals(2, sluice("status").exit(), "missing --config is a usage error");
    }
}
