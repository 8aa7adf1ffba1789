package dev.sluice.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.core.health.ClusterStatus;
import dev.sluice.core.health.NodeState;
import dev.sluice.testsupport.Clusters;
import dev.sluice.testsupport.DbNode;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

class MariaDbHealthIT extends AbstractHealthIT {
    @BeforeAll
    static void start() {
        cluster = Clusters.startMariaDb("health-maria", 2);
    }

    @Override
    String whereSql() {
        return "@@port";
    }

    @Override
    String scheme() {
        return "mariadb";
    }

    @Override
    long backendBaseline(Connection admin) throws SQLException {
        try (Statement st = admin.createStatement();
             ResultSet rs = st.executeQuery("SELECT COALESCE(MAX(ID), 0) FROM information_schema.PROCESSLIST")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /**
     * The processlist shows no last statement for idle connections, so the writer is found by order: a new
     * runtime opens its probe connection to the primary first and the heartbeat writer's right after, so
     * the writer is the newest app-user connection (ids grow) opened after {@code baseline}.
     */
    @Override
    Long findHeartbeatWriter(Connection admin, long baseline) throws SQLException {
        try (Statement st = admin.createStatement();
             ResultSet rs = st.executeQuery("SELECT ID FROM information_schema.PROCESSLIST WHERE USER = '"
                     + cluster.user() + "' AND ID > " + baseline + " ORDER BY ID DESC LIMIT 1")) {
            return rs.next() ? rs.getLong(1) : null;
        }
    }

    @Override
    void terminateBackend(Connection admin, long id) throws SQLException {
        try (Statement st = admin.createStatement()) {
            st.execute("KILL CONNECTION " + id);
        }
    }

    @Override
    Duration budgetTestDelay() {
        return Duration.ofSeconds(2); // MASTER_DELAY 2: 1..2 s behind, never under the 300 ms budget
    }

    @Override
    String createPortLog(String name) {
        return "CREATE TABLE IF NOT EXISTS " + name + " (id int auto_increment PRIMARY KEY, port int)";
    }

    /**
     * Seconds_Behind_Master is NULL while the SQL thread is stopped: the status must say null (unknown), never
     * 0. The app user lacks SLAVE MONITOR, so this uses the harness's root login (no password on 127.0.0.1).
     */
    @Test
    @Order(7)
    void secondsBehindMasterIsNullNotZeroWhileTheSqlThreadIsStopped() throws Exception {
        DbNode r = replica1();
        try (Connection app = DriverManager.getConnection(url("&heartbeat-create=true"))) {
            ClusterStatus s = runtime(app).monitor.status();
            ClusterStatus.NodeView v = s.node(nodeName(r));
            String primaryReason = s.node(nodeName(cluster.primary())).reason();
            log("app user: %s secondsBehind=%s; primary reason: %s", nodeName(r), v.secondsBehind(), primaryReason);
            assertTrue(primaryReason.contains("not visible"), "the app user cannot see SHOW SLAVE STATUS: " + primaryReason);
            assertNull(v.secondsBehind());
        }
        try (Connection c = DriverManager.getConnection(urlAs("root", null, ""))) {
            ClusterRuntime rt = runtime(c);
            awaitAllReplicasUp(rt, 5000);
            ClusterStatus.NodeView before = rt.monitor.status().node(nodeName(r));
            String primaryReason = rt.monitor.status().node(nodeName(cluster.primary())).reason();
            assertFalse(primaryReason.contains("not visible"), primaryReason);
            assertEquals(Long.valueOf(0), before.secondsBehind(), "visible and current before: " + before);
            cluster.pauseReplay(r);
            awaitState(rt, r, NodeState.LAGGING, 3000, null);
            long end = System.currentTimeMillis() + 1000;
            int snapshots = 0;
            while (System.currentTimeMillis() < end) {
                ClusterStatus s = rt.monitor.status();
                assertNull(s.node(nodeName(r)).secondsBehind(), "SQL thread stopped: " + s.node(nodeName(r)));
                assertNotNull(s.node(nodeName(replica2())).secondsBehind(), "the running replica reports a number");
                snapshots++;
                Thread.sleep(20);
            }
            log("Seconds_Behind_Master with SQL thread stopped: null in %d snapshots; running replica: %s", snapshots,
                    rt.monitor.status().node(nodeName(replica2())).secondsBehind());
        }
    }
}
