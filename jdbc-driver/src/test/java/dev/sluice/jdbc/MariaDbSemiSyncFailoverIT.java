package dev.sluice.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.testsupport.Clusters;
import dev.sluice.testsupport.DbCluster;
import dev.sluice.testsupport.DbNode;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * kill -9 of a <b>semi-synchronous</b> MariaDB primary under a write loop with {@code failover=auto}: a commit
 * is acknowledged only once a replica has the event in its relay log; Sluice picks the replica that received
 * most (Gtid_IO_Pos), applies its relay log (MASTER_GTID_WAIT) and promotes it, so no acknowledged write may be
 * lost.
 */
class MariaDbSemiSyncFailoverIT {
    @AfterEach
    void closeRuntimes() throws Exception {
        SluiceDriver.closeAll();
    }

    /** Starts a cluster whose primary waits for a semi-sync ack (10 s timeout) from one of its replicas. */
    private static DbCluster semiSyncCluster(String name) throws Exception {
        DbCluster cluster = Clusters.startMariaDb(name, 2);
        try (Connection c = cluster.connectAdmin(cluster.primary()); Statement st = c.createStatement()) {
            st.execute("SET GLOBAL rpl_semi_sync_master_enabled = ON");
            st.execute("SET GLOBAL rpl_semi_sync_master_timeout = 10000");
        }
        for (DbNode r : cluster.replicas()) {
            try (Connection c = cluster.connectAdmin(r); Statement st = c.createStatement()) {
                st.execute("SET GLOBAL rpl_semi_sync_slave_enabled = ON");
                st.execute("STOP SLAVE IO_THREAD");
                st.execute("START SLAVE IO_THREAD");
            }
        }
        try (Connection c = cluster.connectAdmin(cluster.primary()); Statement st = c.createStatement()) {
            System.out.printf("[sync-failover] MariaDB semi-sync: %s, wait point %s%n", awaitSemiSync(st, 2),
                    variable(st, "rpl_semi_sync_master_wait_point"));
        }
        return cluster;
    }

    private static String awaitSemiSync(Statement st, int clients) throws Exception {
        long deadline = System.nanoTime() + 10_000_000_000L;
        String status = null;
        int n = -1;
        while (System.nanoTime() < deadline) {
            status = status(st, "Rpl_semi_sync_master_status");
            n = Integer.parseInt(status(st, "Rpl_semi_sync_master_clients"));
            if ("ON".equals(status) && n == clients) {
                break;
            }
            Thread.sleep(50);
        }
        assertEquals("ON", status, "Rpl_semi_sync_master_status");
        assertEquals(clients, n, "semi-sync replicas connected");
        String no = status(st, "Rpl_semi_sync_master_no_tx");
        assertEquals("0", no, "no transaction committed without a replica's ack");
        return "semi-sync " + status + ", " + n + " clients, yes_tx " + status(st, "Rpl_semi_sync_master_yes_tx") + ", no_tx " + no;
    }

    private static String status(Statement st, String name) throws SQLException {
        try (ResultSet rs = st.executeQuery("SHOW GLOBAL STATUS LIKE '" + name + "'")) {
            return rs.next() ? rs.getString(2) : null;
        }
    }

    private static String variable(Statement st, String name) throws SQLException {
        try (ResultSet rs = st.executeQuery("SHOW GLOBAL VARIABLES LIKE '" + name + "'")) {
            return rs.next() ? rs.getString(2) : null;
        }
    }

    /** {Gtid_IO_Pos, @@gtid_slave_pos} of a replica. */
    private static String[] positions(DbCluster cluster, DbNode r) throws SQLException {
        try (Connection c = cluster.connectAdmin(r); Statement st = c.createStatement()) {
            String io;
            try (ResultSet rs = st.executeQuery("SHOW SLAVE STATUS")) {
                rs.next();
                io = rs.getString("Gtid_IO_Pos");
            }
            try (ResultSet rs = st.executeQuery("SELECT @@gtid_slave_pos")) {
                rs.next();
                return new String[] {io, rs.getString(1)};
            }
        }
    }

    /** Sequence number of a single-domain GTID position such as {@code 0-1-272}. */
    private static long seq(String gtid) {
        return Long.parseLong(gtid.substring(gtid.lastIndexOf('-') + 1));
    }

    @Test
    void noAcknowledgedWriteIsLost() throws Exception {
        try (DbCluster cluster = semiSyncCluster("semisync-maria")) {
            PostgresSyncFailoverIT.killUnderWritesLosesNothing(cluster, "mariadb", "root", "MariaDB semi-sync", () -> {
                try (Connection c = cluster.connectAdmin(cluster.primary()); Statement st = c.createStatement()) {
                    return awaitSemiSync(st, 2); // still on right before the kill: no silent fallback to async
                }
            }, null);
        }
    }

    /**
     * The hard case: replica1 (first in configuration order) stops its IO thread before the kill, replica2
     * acknowledges alone and has its SQL thread stopped, so the acknowledged tail exists only in replica2's relay
     * log. Sluice must choose replica2 (most received by Gtid_IO_Pos), apply its relay log and promote it.
     */
    @Test
    void noAcknowledgedWriteIsLostWhenTheTailIsOnlyInARelayLog() throws Exception {
        try (DbCluster cluster = semiSyncCluster("semisync-maria-tail")) {
            DbNode r1 = cluster.replicas().get(0);
            DbNode r2 = cluster.replicas().get(1);
            PostgresSyncFailoverIT.killUnderWritesLosesNothing(cluster, "mariadb", "root", "MariaDB semi-sync, tail only in relay log",
                    () -> {
                        try (Connection c = cluster.connectAdmin(r1); Statement st = c.createStatement()) {
                            st.execute("STOP SLAVE IO_THREAD");
                        }
                        cluster.pauseReplay(r2); // STOP SLAVE SQL_THREAD: receives and acknowledges, does not apply
                        Thread.sleep(700); // writes go on, acknowledged by replica2 alone
                        String state;
                        try (Connection c = cluster.connectAdmin(cluster.primary()); Statement st = c.createStatement()) {
                            state = awaitSemiSync(st, 1);
                        }
                        String[] p1 = positions(cluster, r1);
                        String[] p2 = positions(cluster, r2);
                        assertTrue(seq(p1[0]) < seq(p2[0]), "replica1 received " + p1[0] + " < replica2 " + p2[0]);
                        assertTrue(seq(p2[1]) < seq(p2[0]), "replica2 applied " + p2[1] + " < received " + p2[0]);
                        return state + "; replica1 received " + p1[0] + "; replica2 received " + p2[0] + ", applied " + p2[1];
                    }, AbstractFailoverIT.name(r2));
        }
    }
    /**
     * A delayed replica acknowledges: replica2 has {@code MASTER_DELAY = 2} (its IO thread receives and acknowledges
     * at once, its SQL thread applies 2 s late), replica1 is current but its IO thread stops 150 ms before the kill.
     * The acknowledged tail of those 150 ms is only in replica2's relay log. Its apply lag (2 s) exceeds
     * {@code failover-max-lag-ms} (1 s here; 10 s by default), yet promoting replica1 instead loses acknowledged
     * commits.
     */
    @Test
    void noAcknowledgedWriteIsLostWhenTheTailIsOnADelayedReplica() throws Exception {
        try (DbCluster cluster = semiSyncCluster("semisync-maria-delay")) {
            DbNode r1 = cluster.replicas().get(0);
            DbNode r2 = cluster.replicas().get(1);
            cluster.setApplyDelay(r2, java.time.Duration.ofSeconds(2));
            try (Connection c = cluster.connectAdmin(cluster.primary()); Statement st = c.createStatement()) {
                awaitSemiSync(st, 2);
            }
            PostgresSyncFailoverIT.killUnderWritesLosesNothing(cluster, "mariadb", "root",
                    "MariaDB semi-sync, tail only on a delayed replica", () -> {
                        Thread.sleep(2_500); // replica2's apply lag (2 s) is known to Sluice
                        try (Connection c = cluster.connectAdmin(r1); Statement st = c.createStatement()) {
                            st.execute("STOP SLAVE IO_THREAD");
                        }
                        Thread.sleep(150);
                        String state;
                        try (Connection c = cluster.connectAdmin(cluster.primary()); Statement st = c.createStatement()) {
                            state = awaitSemiSync(st, 1);
                        }
                        String[] p1 = positions(cluster, r1);
                        String[] p2 = positions(cluster, r2);
                        assertTrue(seq(p1[0]) < seq(p2[0]), "replica1 received " + p1[0] + " < replica2 " + p2[0]);
                        return state + "; replica1 received " + p1[0] + "; replica2 received " + p2[0] + ", applied " + p2[1];
                    }, null, "&failover-max-lag-ms=1000");
        }
    }
}
