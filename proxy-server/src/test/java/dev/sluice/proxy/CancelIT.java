package dev.sluice.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.testsupport.DbNode;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Query cancellation through the proxy: pgjdbc's Statement.cancel() opens a new connection with the cancel
 * key the proxy handed out; the proxy must find the session and cancel its running backend query.
 */
class CancelIT {
    static ProxyFixture f;
    static ExecutorService pool = Executors.newCachedThreadPool();

    @BeforeAll
    static void start() throws Exception {
        f = ProxyFixture.start("cancel-pg", 1, null, null);
    }

    @AfterAll
    static void stop() {
        pool.shutdownNow();
        if (f != null) {
            f.close();
        }
    }

    static Connection connect() throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", ProxyFixture.USER);
        p.setProperty("password", ProxyFixture.PASSWORD);
        p.setProperty("connectTimeout", "20");
        return DriverManager.getConnection(f.jdbcUrl(), p);
    }

    /** The node where the sleep is running, once it is (polled from pg_stat_activity of every node). */
    static String awaitRunning(ProxyFixture f, String marker) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            for (DbNode n : f.cluster.nodes()) {
                try (Connection a = f.cluster.connectAdmin(n);
                     ResultSet rs = a.createStatement().executeQuery(
                             "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%" + marker + "%'"
                                     + " AND pid <> pg_backend_pid()")) {
                    rs.next();
                    if (rs.getInt(1) > 0) {
                        return n.name();
                    }
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the statement marked " + marker + " never showed up as running on any node");
    }

    /** Starts the sleep, cancels it once it runs, and returns the node it ran on; asserts 57014. */
    static String sleepAndCancel(ProxyFixture f, Connection c, String marker) throws Exception {
        Statement st = c.createStatement();
        Future<?> running = pool.submit(() -> {
            st.executeQuery("SELECT pg_sleep(30) /* " + marker + " */");
            return null;
        });
        String node = awaitRunning(f, marker);
        long t0 = System.nanoTime();
        st.cancel();
        // well under the 30 s the sleep would take: the cancel really stopped it, not the sleep ending
        ExecutionException e = assertThrows(ExecutionException.class, () -> running.get(20, TimeUnit.SECONDS));
        SQLException sql = assertInstanceOf(SQLException.class, e.getCause());
        assertEquals("57014", sql.getSQLState(), sql.getMessage());
        System.out.printf("cancel of %s took %d ms%n", marker, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
        st.close();
        return node;
    }

    static int answer(Connection c) throws SQLException {
        try (ResultSet rs = c.createStatement().executeQuery("SELECT 40 + 2")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Test
    void autocommitReadOnAReplicaIsCancelled() throws Exception {
        try (Connection c = connect()) {
            String node = sleepAndCancel(f, c, "cancel-autocommit");
            assertTrue(f.replicaNames().contains(node), "the sleep is a read: it ran on a replica, " + node);
            assertEquals(42, answer(c), "the connection is usable after the cancel");
            // and a second cancel on the same connection works too (the key stays valid)
            sleepAndCancel(f, c, "cancel-again");
            assertEquals(42, answer(c));
        }
    }

    @Test
    void aCancelRequestWithTheWrongKeyIsIgnored() throws Exception {
        try (Connection c = connect()) {
            int pid = c.unwrap(org.postgresql.PGConnection.class).getBackendPID(); // the proxy's made-up pid for this session
            Statement st = c.createStatement();
            Future<?> running = pool.submit(() -> {
                st.executeQuery("SELECT pg_sleep(30) /* wrong-key */");
                return null;
            });
            awaitRunning(f, "wrong-key");
            for (int key : new int[] {0, 12345, -1}) {
                try (RawPg raw = new RawPg(f.host(), f.port())) {
                    raw.send(java.nio.ByteBuffer.allocate(16).putInt(16).putInt(80877102).putInt(pid).putInt(key).array());
                    assertTrue(raw.closedByPeer(), "the proxy closes a cancel connection after reading the request");
                }
            }
            // a negative: nothing may happen, so the query is watched for a while (not a wait for something)
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
            while (System.nanoTime() < until) {
                assertTrue(!running.isDone(), "a cancel request with a wrong key stopped the query");
                awaitRunning(f, "wrong-key");
                Thread.sleep(100);
            }
            st.cancel(); // the right key (pgjdbc's) still works
            ExecutionException e = assertThrows(ExecutionException.class, () -> running.get(20, TimeUnit.SECONDS));
            assertEquals("57014", assertInstanceOf(SQLException.class, e.getCause()).getSQLState());
            assertEquals(42, answer(c));
        }
    }

    @Test
    void statementInATransactionOnThePrimaryIsCancelled() throws Exception {
        try (Connection c = connect()) {
            c.setAutoCommit(false);
            String node = sleepAndCancel(f, c, "cancel-in-tx");
            assertEquals(f.primaryName(), node, "a read-write transaction runs on the primary");
            // the transaction is aborted until rolled back, then the connection works again
            SQLException aborted = assertThrows(SQLException.class, () -> answer(c));
            assertEquals("25P02", aborted.getSQLState());
            c.rollback();
            assertEquals(42, answer(c));
            c.commit();
        }
    }
}
