package dev.sluice.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.core.health.ClusterStatus;
import dev.sluice.testsupport.Clusters;
import dev.sluice.testsupport.DbCluster;
import dev.sluice.testsupport.DbNode;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * heartbeat-format=pt-heartbeat: Sluice reads an existing pt-heartbeat table and writes nothing. The test
 * plays pt-heartbeat (REPLACE of ts every 100 ms) with a clock three hours off the servers' and Sluice's:
 * lag must still be right, because both sides of the subtraction come from the writer's clock.
 */
class PtHeartbeatIT {
    static DbCluster cluster;
    static final AtomicBoolean writing = new AtomicBoolean(true);
    static Thread writer;

    @BeforeAll
    static void start() throws Exception {
        cluster = Clusters.startMariaDb("pt-heartbeat", 2);
        try (Connection c = cluster.connectAdmin(cluster.primary()); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE heartbeat (ts varchar(26) NOT NULL, server_id int unsigned NOT NULL PRIMARY KEY,"
                    + " file varchar(255) DEFAULT NULL, position bigint unsigned DEFAULT NULL,"
                    + " relay_master_log_file varchar(255) DEFAULT NULL, exec_master_log_pos bigint unsigned DEFAULT NULL)");
            st.execute("GRANT SELECT ON " + cluster.database() + ".heartbeat TO '" + cluster.user() + "'@'%'");
        }
        writer = new Thread(PtHeartbeatIT::playPtHeartbeat, "fake-pt-heartbeat");
        writer.setDaemon(true);
        writer.start();
        cluster.waitForReplication(Duration.ofSeconds(10));
    }

    /** What pt-heartbeat --update does, with a deliberately skewed clock. */
    static void playPtHeartbeat() {
        DateTimeFormatter f = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS");
        try (Connection c = cluster.connectAdmin(cluster.primary());
             PreparedStatement ps = c.prepareStatement("REPLACE INTO heartbeat (ts, server_id) VALUES (?, @@server_id)")) {
            while (writing.get()) {
                ps.setString(1, LocalDateTime.now().plusHours(3).format(f));
                ps.executeUpdate();
                Thread.sleep(100);
            }
        } catch (Exception e) {
            if (writing.get()) {
                throw new IllegalStateException(e);
            }
        }
    }

    @AfterAll
    static void stop() throws Exception {
        writing.set(false);
        if (writer != null) {
            writer.join(5000);
        }
        SluiceDriver.closeAll();
        if (cluster != null) {
            cluster.close();
        }
    }

    static ClusterStatus.NodeView await(SluiceAdmin admin, String node, String state, long ms) throws InterruptedException {
        long deadline = System.nanoTime() + ms * 1_000_000L;
        ClusterStatus.NodeView v = admin.clusterStatus().node(node);
        while (!v.state().equals(state) && System.nanoTime() < deadline) {
            Thread.sleep(20);
            v = admin.clusterStatus().node(node);
        }
        assertEquals(state, v.state(), node + ": " + v.reason());
        return v;
    }

    @Test
    void lagFromAnExistingPtHeartbeatTableDespiteClockSkew() throws Exception {
        String hosts = cluster.nodes().stream().map(n -> n.host() + ":" + n.port()).collect(Collectors.joining(","));
        String url = "jdbc:sluice:mariadb://" + hosts + "/" + cluster.database() + "?user=" + cluster.user()
                + "&password=" + cluster.password() + "&heartbeat-format=pt-heartbeat&heartbeat-table=heartbeat";
        DbNode r1 = cluster.replicas().get(0);
        String name = r1.host() + ":" + r1.port();
        try (Connection conn = DriverManager.getConnection(url)) {
            SluiceAdmin admin = conn.unwrap(SluiceAdmin.class);
            ClusterStatus.NodeView v = await(admin, name, "UP", 5000);
            assertNotNull(v.lagMillis(), "lag known from pt-heartbeat's ts");
            assertTrue(v.lagMillis() < 600, "a caught-up replica reads close to 0 even with a 3 h clock skew: " + v.lagMillis());
            try (Connection admin0 = cluster.connectAdmin(cluster.primary()); Statement st = admin0.createStatement()) {
                st.execute("SELECT 1");
                assertTrue(!st.executeQuery("SHOW TABLES LIKE 'sluice_heartbeat'").next(), "pt-heartbeat mode writes nothing of its own");
            }
            cluster.pauseReplay(r1);
            try {
                v = await(admin, name, "LAGGING", 4000);
                assertTrue(v.lagMillis() == null || v.lagMillis() > 1000, "dropped for lag: " + v.reason());
            } finally {
                cluster.resumeReplay(r1);
            }
            await(admin, name, "UP", 5000);
        }
    }
}
