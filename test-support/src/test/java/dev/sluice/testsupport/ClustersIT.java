package dev.sluice.testsupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Starts real 1+2 clusters of each engine and exercises every harness operation. */
class ClustersIT {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @Test
    void postgres() throws Exception {
        long t0 = System.nanoTime();
        DbCluster c = Clusters.startPostgres("it-pg", 2);
        System.out.printf("PostgreSQL 1+2 cluster started in %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        exercise(c);
    }

    @Test
    void mariadb() throws Exception {
        long t0 = System.nanoTime();
        DbCluster c = Clusters.startMariaDb("it-maria", 2);
        System.out.printf("MariaDB 1+2 cluster started in %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        exercise(c);
    }

    private long last = System.nanoTime();

    private void step(DbCluster c, String what) {
        long now = System.nanoTime();
        System.out.printf("%s %-28s %5d ms%n", c.engine(), what, (now - last) / 1_000_000);
        last = now;
    }

    private void exercise(DbCluster c) throws Exception {
        last = System.nanoTime();
        List<ProcessHandle> handles = new ArrayList<>();
        try (c) {
            assertEquals(3, c.nodes().size());
            DbNode p = c.primary();
            DbNode r1 = c.replicas().get(0);
            DbNode r2 = c.replicas().get(1);
            assertEquals(List.of(r1, r2), c.replicas());
            assertEquals("sluice", c.database());
            for (DbNode n : c.nodes()) {
                assertTrue(n.isRunning(), n + " running");
                handles.add(ProcessHandle.of(n.pid()).orElseThrow());
                assertIdentity(c, n);
            }
            assertEquals(List.of(1, 2, 3), c.nodes().stream().map(DbNode::serverId).toList());

            step(c, "identity checks");
            // replication of DDL + a row
            exec(c, p, "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(50))");
            exec(c, p, "INSERT INTO t VALUES (1, 'one')");
            c.waitForReplication(WAIT);
            assertEquals("one", read(c, r1, 1));
            assertEquals("one", read(c, r2, 1));

            step(c, "write + replicate");
            // replicas refuse writes from the app user
            for (DbNode r : c.replicas()) {
                assertThrows(SQLException.class, () -> exec(c, r, "INSERT INTO t VALUES (99, 'no')"));
            }

            step(c, "replicas refuse writes");
            // paused replay
            c.pauseReplay(r1);
            exec(c, p, "INSERT INTO t VALUES (2, 'two')");
            c.waitForReplication(WAIT); // skips the paused replica
            assertEquals("two", read(c, r2, 2));
            Thread.sleep(300);
            assertNull(read(c, r1, 2));
            c.resumeReplay(r1);
            c.waitForReplication(WAIT);
            assertEquals("two", read(c, r1, 2));

            step(c, "pause/resume");
            // apply delay
            c.setApplyDelay(r2, Duration.ofSeconds(2));
            exec(c, p, "INSERT INTO t VALUES (5, 'five')");
            c.waitForReplication(r1, WAIT);
            assertNull(read(c, r2, 5));
            c.waitForReplication(WAIT);
            assertEquals("five", read(c, r2, 5));
            c.setApplyDelay(r2, Duration.ZERO);

            step(c, "apply delay");
            // kill -9 a replica, write, restart it: it catches up on the same port
            int port = r2.port();
            long oldPid = r2.pid();
            c.kill(r2);
            assertFalse(r2.isRunning());
            assertFalse(ProcessHandle.of(oldPid).map(ProcessRunner::isAlive).orElse(false));
            exec(c, p, "INSERT INTO t VALUES (3, 'three')");
            c.waitForReplication(WAIT); // skips the dead replica
            c.start(r2);
            assertTrue(r2.isRunning());
            assertEquals(port, r2.port());
            handles.add(ProcessHandle.of(r2.pid()).orElseThrow());
            assertIdentity(c, r2);
            c.waitForReplication(WAIT);
            assertEquals("three", read(c, r2, 3));

            step(c, "kill/start replica");
            // fail over: kill the primary, promote replica1, replica2 follows it
            c.kill(p);
            c.promote(r1);
            assertEquals(r1, c.primary());
            assertEquals(List.of(r2), c.replicas());
            exec(c, r1, "INSERT INTO t VALUES (4, 'four')");
            c.waitForReplication(WAIT);
            assertEquals("four", read(c, r2, 4));
            assertThrows(SQLException.class, () -> exec(c, r2, "INSERT INTO t VALUES (98, 'no')"));
            step(c, "kill primary + promote");
        }
        step(c, "close");
        for (ProcessHandle h : handles) {
            assertFalse(ProcessRunner.isAlive(h), "pid " + h.pid() + " still alive after close()");
        }
        assertFalse(Files.exists(c.directory()), c.directory() + " deleted");
    }

    private static Connection app(DbCluster c, DbNode n) throws SQLException {
        return DriverManager.getConnection(n.jdbcUrl(), c.user(), c.password());
    }

    private static void exec(DbCluster c, DbNode n, String sql) throws SQLException {
        try (Connection con = app(c, n); Statement st = con.createStatement()) {
            st.execute(sql);
        }
    }

    private static String read(DbCluster c, DbNode n, int id) throws SQLException {
        try (Connection con = app(c, n); PreparedStatement ps = con.prepareStatement("SELECT v FROM t WHERE id = ?")) {
            ps.setInt(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    private static void assertIdentity(DbCluster c, DbNode n) throws SQLException {
        try (Connection con = app(c, n); Statement st = con.createStatement()) {
            if (c.engine() == Engine.POSTGRESQL) {
                try (ResultSet rs = st.executeQuery("SELECT inet_server_port()")) {
                    rs.next();
                    assertEquals(n.port(), rs.getInt(1), n.name());
                }
            } else {
                try (ResultSet rs = st.executeQuery("SELECT @@port, @@server_id")) {
                    rs.next();
                    assertEquals(n.port(), rs.getInt(1), n.name());
                    assertEquals(n.serverId(), rs.getInt(2), n.name());
                }
            }
        }
    }
}
