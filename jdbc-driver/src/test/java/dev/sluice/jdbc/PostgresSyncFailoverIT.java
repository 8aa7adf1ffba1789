package dev.sluice.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.core.health.ClusterStatus;
import dev.sluice.testsupport.Clusters;
import dev.sluice.testsupport.DbCluster;
import dev.sluice.testsupport.DbNode;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import dev.sluice.testsupport.TcpRelay;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * kill -9 of a <b>synchronous</b> PostgreSQL primary ({@code synchronous_standby_names = 'ANY 1 (*)'},
 * {@code synchronous_commit = on}) under a write loop with {@code failover=auto}: a commit is acknowledged only
 * once a standby has flushed it, and Sluice promotes the replica that received most, so not one acknowledged
 * write may be lost.
 */
class PostgresSyncFailoverIT {
    @AfterEach
    void closeRuntimes() throws Exception {
        SluiceDriver.closeAll();
    }

    /** Starts a cluster whose primary commits synchronously with ANY 1 of its standbys. */
    private static DbCluster syncCluster(String name) throws Exception {
        DbCluster cluster = Clusters.startPostgres(name, 2);
        try (Connection c = cluster.connectAdmin(cluster.primary()); Statement st = c.createStatement()) {
            st.execute("ALTER SYSTEM SET synchronous_standby_names = 'ANY 1 (*)'");
            st.execute("ALTER SYSTEM SET synchronous_commit = 'on'"); // the harness runs with synchronous_commit = off
            st.execute("SELECT pg_reload_conf()");
            awaitSyncStandbys(st, 2);
        }
        // the application user's sessions really commit synchronously
        try (Connection c = DriverManager.getConnection(cluster.primary().jdbcUrl(), cluster.user(), cluster.password());
             Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SHOW synchronous_commit")) {
            rs.next();
            assertEquals("on", rs.getString(1));
        }
        return cluster;
    }

    private static String awaitSyncStandbys(Statement st, int n) throws Exception {
        long deadline = System.nanoTime() + 10_000_000_000L;
        String state = null;
        int count = 0;
        while (System.nanoTime() < deadline) {
            try (ResultSet rs = st.executeQuery("SELECT current_setting('synchronous_standby_names') || ': ' || "
                    + "coalesce(string_agg(application_name || '=' || sync_state, ','), 'none'), "
                    + "count(*) FILTER (WHERE sync_state IN ('quorum', 'sync') AND state = 'streaming') FROM pg_stat_replication")) {
                rs.next();
                state = rs.getString(1);
                count = rs.getInt(2);
            }
            if (count == n) {
                break;
            }
            Thread.sleep(50);
        }
        assertEquals(n, count, "synchronous standbys: " + state);
        return state;
    }

    private static String lsn(DbCluster cluster, DbNode n, String expr) throws SQLException {
        try (Connection c = cluster.connectAdmin(n); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT " + expr + "::text")) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static long lsnValue(String lsn) {
        String[] p = lsn.split("/");
        return (Long.parseLong(p[0], 16) << 32) | Long.parseLong(p[1], 16);
    }

    @Test
    void noAcknowledgedWriteIsLost() throws Exception {
        try (DbCluster cluster = syncCluster("syncfo-pg")) {
            killUnderWritesLosesNothing(cluster, "postgresql", "postgres", "PostgreSQL sync (ANY 1)", () -> {
                try (Connection c = cluster.connectAdmin(cluster.primary()); Statement st = c.createStatement()) {
                    return awaitSyncStandbys(st, 2);
                }
            }, null);
        }
    }

    /**
     * The hard case: replica1 (first in configuration order) stops receiving before the kill (its replication
     * connection runs through a relay that is cut), replica2 acknowledges alone and has replay paused, so the
     * acknowledged tail exists only as received-but-unreplayed WAL on replica2. Sluice must choose replica2 (most
     * received), replay what it received, and promote it: still zero loss.
     */
    @Test
    void noAcknowledgedWriteIsLostWhenOnlyTheLaggingByOrderReplicaHasTheTail() throws Exception {
        try (DbCluster cluster = syncCluster("syncfo-pg-tail")) {
            DbNode r1 = cluster.replicas().get(0);
            DbNode r2 = cluster.replicas().get(1);
            try (TcpRelay relay = TcpRelay.start(cluster.primary().host(), cluster.primary().port())) {
                try (Connection c = cluster.connectAdmin(r1); Statement st = c.createStatement()) {
                    String conninfo;
                    try (ResultSet rs = st.executeQuery("SHOW primary_conninfo")) {
                        rs.next();
                        conninfo = rs.getString(1);
                    }
                    st.execute("ALTER SYSTEM SET primary_conninfo = '"
                            + JdbcFailoverIo.withHostPort(conninfo, relay.host(), relay.port()).replace("'", "''") + "'");
                    st.execute("SELECT pg_reload_conf()");
                    long deadline = System.nanoTime() + 10_000_000_000L;
                    int senderPort = -1;
                    while (System.nanoTime() < deadline && senderPort != relay.port()) {
                        try (ResultSet rs = st.executeQuery(
                                "SELECT coalesce(max(sender_port), -1) FROM pg_stat_wal_receiver WHERE status = 'streaming'")) {
                            rs.next();
                            senderPort = rs.getInt(1);
                        }
                        Thread.sleep(50);
                    }
                    assertEquals(relay.port(), senderPort, "replica1 streams through the relay");
                }
                try (Connection c = cluster.connectAdmin(cluster.primary()); Statement st = c.createStatement()) {
                    awaitSyncStandbys(st, 2);
                }
                killUnderWritesLosesNothing(cluster, "postgresql", "postgres", "PostgreSQL sync, tail only on replica2", () -> {
                    relay.cut(); // replica1 stops receiving; its reconnects are refused
                    cluster.pauseReplay(r2); // replica2 receives (and acknowledges) but does not replay
                    Thread.sleep(700); // writes go on, acknowledged by replica2 alone
                    String state;
                    try (Connection c = cluster.connectAdmin(cluster.primary()); Statement st = c.createStatement()) {
                        state = awaitSyncStandbys(st, 1);
                    }
                    String r1Received = lsn(cluster, r1, "pg_last_wal_receive_lsn()");
                    String r2Received = lsn(cluster, r2, "pg_last_wal_receive_lsn()");
                    String r2Replayed = lsn(cluster, r2, "pg_last_wal_replay_lsn()");
                    assertTrue(lsnValue(r1Received) < lsnValue(r2Received),
                            "replica1 received " + r1Received + " < replica2 " + r2Received);
                    assertTrue(lsnValue(r2Replayed) < lsnValue(r2Received),
                            "replica2 replayed " + r2Replayed + " < received " + r2Received);
                    return state + "; replica1 received " + r1Received + "; replica2 received " + r2Received + ", replayed "
                            + r2Replayed;
                }, AbstractFailoverIT.name(r2));
            }
        }
    }

    /**
     * A delayed standby in the quorum: replica2 flushes (and so acknowledges) at once but replays 2 s late
     * ({@code recovery_min_apply_delay}), replica1 is current but stops receiving 150 ms before the kill. The
     * acknowledged tail of those 150 ms exists only on replica2. Its <i>apply</i> lag (2 s) exceeds
     * {@code failover-max-lag-ms} (1 s here; 10 s by default, so a 10 s+ delayed standby behaves the same), yet
     * promoting replica1 instead loses acknowledged commits: the received position, not the apply lag, decides
     * whether a replica holds acknowledged data.
     */
    @Test
    void noAcknowledgedWriteIsLostWhenTheTailIsOnADelayedStandby() throws Exception {
        try (DbCluster cluster = syncCluster("syncfo-pg-delay")) {
            DbNode r1 = cluster.replicas().get(0);
            DbNode r2 = cluster.replicas().get(1);
            try (TcpRelay relay = TcpRelay.start(cluster.primary().host(), cluster.primary().port())) {
                streamThroughRelay(cluster, r1, relay);
                cluster.setApplyDelay(r2, java.time.Duration.ofSeconds(2));
                try (Connection c = cluster.connectAdmin(cluster.primary()); Statement st = c.createStatement()) {
                    awaitSyncStandbys(st, 2);
                }
                killUnderWritesLosesNothing(cluster, "postgresql", "postgres", "PostgreSQL sync, tail only on a delayed standby",
                        () -> {
                            Thread.sleep(2_500); // replica2's apply lag (2 s) is known to Sluice
                            relay.cut(); // replica1 stops receiving 150 ms before the kill
                            Thread.sleep(150);
                            String r1Received = lsn(cluster, r1, "pg_last_wal_receive_lsn()");
                            String r2Received = lsn(cluster, r2, "pg_last_wal_receive_lsn()");
                            assertTrue(lsnValue(r1Received) < lsnValue(r2Received),
                                    "replica1 received " + r1Received + " < replica2 " + r2Received);
                            return "replica1 received " + r1Received + "; replica2 received " + r2Received + ", replayed "
                                    + lsn(cluster, r2, "pg_last_wal_replay_lsn()");
                        }, null, "&failover-max-lag-ms=1000");
            }
        }
    }

    private static void streamThroughRelay(DbCluster cluster, DbNode replica, TcpRelay relay) throws Exception {
        try (Connection c = cluster.connectAdmin(replica); Statement st = c.createStatement()) {
            String conninfo;
            try (ResultSet rs = st.executeQuery("SHOW primary_conninfo")) {
                rs.next();
                conninfo = rs.getString(1);
            }
            st.execute("ALTER SYSTEM SET primary_conninfo = '"
                    + JdbcFailoverIo.withHostPort(conninfo, relay.host(), relay.port()).replace("'", "''") + "'");
            st.execute("SELECT pg_reload_conf()");
            long deadline = System.nanoTime() + 10_000_000_000L;
            int senderPort = -1;
            while (System.nanoTime() < deadline && senderPort != relay.port()) {
                try (ResultSet rs = st.executeQuery(
                        "SELECT coalesce(max(sender_port), -1) FROM pg_stat_wal_receiver WHERE status = 'streaming'")) {
                    rs.next();
                    senderPort = rs.getInt(1);
                }
                Thread.sleep(50);
            }
            assertEquals(relay.port(), senderPort, replica.name() + " streams through the relay");
        }
    }

    static String url(DbCluster cluster, String scheme, String adminUser) {
        return url(cluster, scheme, adminUser, "");
    }

    static String url(DbCluster cluster, String scheme, String adminUser, String extra) {
        String hosts = cluster.nodes().stream().map(n -> n.host() + ":" + n.port()).collect(Collectors.joining(","));
        return "jdbc:sluice:" + scheme + "://" + hosts + "/" + cluster.database() + "?user=" + cluster.user()
                + "&password=" + cluster.password() + "&failover=auto&admin-user=" + adminUser
                + extra + System.getProperty("sluice.syncUrlExtra", "");
    }

    /**
     * Writes ids in a loop through Sluice (an id is recorded only after its commit was acknowledged), kills the
     * primary with SIGKILL, waits for writes to resume, then asserts every acknowledged id is on the new primary.
     */
    static void killUnderWritesLosesNothing(DbCluster cluster, String scheme, String adminUser, String label,
                                            java.util.concurrent.Callable<String> beforeKill, String expectedNewPrimary)
            throws Exception {
        killUnderWritesLosesNothing(cluster, scheme, adminUser, label, beforeKill, expectedNewPrimary, "");
    }

    static void killUnderWritesLosesNothing(DbCluster cluster, String scheme, String adminUser, String label,
                                            java.util.concurrent.Callable<String> beforeKill, String expectedNewPrimary,
                                            String urlExtra) throws Exception {
        String url = url(cluster, scheme, adminUser, urlExtra);
        DbNode oldPrimary = cluster.primary();
        Set<Long> acked = ConcurrentHashMap.newKeySet();
        AtomicLong errors = new AtomicLong();
        AtomicLong firstWriteAfterKill = new AtomicLong();
        AtomicLong killedAt = new AtomicLong();
        AtomicLong ackedBeforeKill = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> writerDied = new AtomicReference<>();
        AtomicReference<String> firstError = new AtomicReference<>();
        try (Connection setup = DriverManager.getConnection(url); Statement st = setup.createStatement()) {
            st.execute("CREATE TABLE fo (id bigint PRIMARY KEY)");
            // Right after start-up Sluice may hold a bogus replica lag (applied beat 0 from the freshly created
            // heartbeat row, i.e. ~56 years), which failover would use to exclude that replica. That is reported
            // separately; here the scenario starts once every replica's lag is a plausible figure.
            String first = null;
            String last = null;
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (System.nanoTime() < deadline) {
                ClusterStatus s = setup.unwrap(SluiceAdmin.class).clusterStatus();
                last = s.nodes().stream().filter(n -> n.role().equals("REPLICA")).map(n -> n.name() + "=" + n.lagMillis())
                        .toList().toString();
                first = first == null ? last : first;
                if (s.nodes().stream().filter(n -> n.role().equals("REPLICA"))
                        .allMatch(n -> n.lagMillis() != null && n.lagMillis() < 60_000)) {
                    break;
                }
                Thread.sleep(50);
            }
            System.out.printf("[sync-failover] %s: replica lags right after start-up %s, before the writes %s%n", label, first, last);
        }
        Thread writer = new Thread(() -> {
            long id = 0;
            try (Connection c = DriverManager.getConnection(url)) {
                while (!stop.get()) {
                    id++;
                    try (PreparedStatement ps = c.prepareStatement("INSERT INTO fo(id) VALUES (?)")) {
                        ps.setLong(1, id);
                        long started = System.nanoTime();
                        ps.executeUpdate();
                        acked.add(id); // recorded only after the commit was acknowledged
                        if (killedAt.get() != 0 && started > killedAt.get() + 50_000_000L && firstWriteAfterKill.get() == 0) {
                            firstWriteAfterKill.set(System.nanoTime());
                        }
                    } catch (SQLException e) {
                        errors.incrementAndGet();
                        firstError.compareAndSet(null, e.getMessage());
                        Thread.sleep(20);
                    }
                }
            } catch (Throwable e) {
                writerDied.set(e);
            }
        }, "sync-failover-writer");
        writer.start();
        double seconds;
        try {
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (acked.size() < 200 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertTrue(acked.size() >= 200, "writes before the kill: " + acked.size() + ", error: " + firstError.get());
            System.out.printf("[sync-failover] %s before the kill: %s%n", label, beforeKill.call());
            ackedBeforeKill.set(acked.size());
            killedAt.set(System.nanoTime());
            cluster.kill(oldPrimary);
            deadline = System.nanoTime() + 20_000_000_000L;
            while (firstWriteAfterKill.get() == 0 && System.nanoTime() < deadline && writerDied.get() == null) {
                Thread.sleep(20);
            }
            assertEquals(null, writerDied.get(), "writer thread died");
            assertTrue(firstWriteAfterKill.get() != 0, "writes resumed after the primary was killed");
            seconds = (firstWriteAfterKill.get() - killedAt.get()) / 1e9;
            Thread.sleep(300);
        } finally {
            stop.set(true);
            writer.join(10_000);
        }
        assertTrue(!writer.isAlive(), "writer stopped");
        try (Connection c = DriverManager.getConnection(url)) {
            ClusterStatus s = c.unwrap(SluiceAdmin.class).clusterStatus();
            String newPrimary = s.primary();
            assertNotNull(newPrimary, "a primary after failover: " + s.noPrimaryReason());
            assertNotEquals(AbstractFailoverIT.name(oldPrimary), newPrimary);
            if (expectedNewPrimary != null) {
                assertEquals(expectedNewPrimary, newPrimary, "the replica that received most is promoted: " + s.events());
            }
            assertTrue(s.events().stream().anyMatch(e -> e.type().equals("promoted")), "promotion event");
            List<String> steps = s.events().stream()
                    .filter(e -> e.type().startsWith("failover") || e.type().startsWith("candidate") || e.type().startsWith("appl")
                            || e.type().equals("promoted") || e.type().equals("repointed") || e.type().startsWith("repoint"))
                    .map(e -> e.type() + (e.node() == null ? "" : " " + e.node()) + ": " + e.message()).toList();
            // read the ids directly on the node Sluice promoted, not through routing
            DbNode promoted = cluster.nodes().stream().filter(n -> AbstractFailoverIT.name(n).equals(newPrimary)).findFirst()
                    .orElseThrow();
            Set<Long> present = new HashSet<>();
            try (Connection direct = cluster.connectAdmin(promoted); Statement st = direct.createStatement();
                 ResultSet rs = st.executeQuery("SELECT id FROM fo")) {
                while (rs.next()) {
                    present.add(rs.getLong(1));
                }
            }
            TreeSet<Long> lost = new TreeSet<>();
            for (Long id : acked) {
                if (!present.contains(id)) {
                    lost.add(id);
                }
            }
            System.out.printf("[sync-failover] %s: kill -9 -> first acknowledged write %.2f s; %d acknowledged before the kill, "
                            + "%d in all, %d lost, %d failed writes meanwhile (first: %s); promoted %s%n",
                    label, seconds, ackedBeforeKill.get(), acked.size(), lost.size(), errors.get(), firstError.get(), newPrimary);
            steps.forEach(x -> System.out.println("[sync-failover]   " + x));
            assertEquals(new ArrayList<Long>(), new ArrayList<>(lost),
                    label + ": acknowledged writes missing on the new primary " + newPrimary + "; failover steps: " + steps);
        }
    }
}
