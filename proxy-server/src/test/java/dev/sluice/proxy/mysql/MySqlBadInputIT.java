package dev.sluice.proxy.mysql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.proxy.ProxyConfigs;
import dev.sluice.proxy.ProxyServer;
import dev.sluice.testsupport.Clusters;
import dev.sluice.testsupport.DbCluster;
import dev.sluice.testsupport.DbNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Entries of the bad-input catalogue for the MySQL proxy (docs/fuzzing.md), against MariaDB primary + replica:
 * a client that stalls in the handshake, a 10 MB statement, invalid UTF-8, deeply nested SQL, a client gone
 * mid-query inside a transaction, a KILL of a thread id out of range.
 */
@Timeout(120)
class MySqlBadInputIT {
    static DbCluster cluster;
    static ProxyServer server;
    /** A second proxy on the same cluster with a 1 s auth timeout, for the stalling clients only. */
    static ProxyServer strict;

    @BeforeAll
    static void start() throws Exception {
        cluster = Clusters.startMariaDb("mybadinput", 1);
        try (Connection c = cluster.connectAdmin(cluster.primary()); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE sluice.bad (id INT PRIMARY KEY, v INT NOT NULL) ENGINE=InnoDB");
            st.execute("INSERT INTO sluice.bad VALUES (1, 0)");
        }
        cluster.waitForReplication(java.time.Duration.ofSeconds(20));
        server = ProxyConfigs.startMysql(cluster, "");
        strict = ProxyConfigs.startMysql(cluster, "  auth-timeout-ms: 1000\n");
        selectOne(server);
        selectOne(strict); // its first login also learns the server version: later greetings go out at once
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[] {strict, server, cluster}) {
            if (c != null) {
                try {
                    c.close();
                } catch (Exception e) {
                    // closing the rest anyway
                }
            }
        }
    }

    static Connection connect(ProxyServer s) throws SQLException {
        return DriverManager.getConnection("jdbc:mariadb://127.0.0.1:" + s.address().getPort() + "/" + cluster.database(),
                ProxyConfigs.MYSQL_USER, ProxyConfigs.MYSQL_PASSWORD);
    }

    /** A normal client (MariaDB Connector/J) is served: SELECT 1 through {@code s}. */
    static void selectOne(ProxyServer s) throws SQLException {
        try (Connection c = connect(s); Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT 1")) {
            assertTrue(rs.next());
            assertEquals(1, rs.getInt(1));
        }
    }

    static RawMy loggedIn() throws IOException {
        return new RawMy("127.0.0.1", server.address().getPort()).login(ProxyConfigs.MYSQL_USER, ProxyConfigs.MYSQL_PASSWORD,
                cluster.database());
    }

    static String nodeOf(int port) {
        return cluster.nodes().stream().filter(n -> n.port() == port).findFirst().orElseThrow().name();
    }

    // ---- connection phase ----

    @Test
    void aHeaderAnnouncing16MbThenNothingIsCutOffByTheAuthTimeout() throws Exception {
        try (RawMy stalled = new RawMy("127.0.0.1", strict.address().getPort());
             RawMy silent = new RawMy("127.0.0.1", strict.address().getPort())) {
            stalled.greeting();
            long t0 = System.nanoTime();
            stalled.sendRaw(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, 1}); // 16 MB announced (under max-message-bytes), none sent
            RawMy.Packet err = stalled.readErr();
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertEquals(My.ER_HANDSHAKE, err.errCode(), err.toString());
            assertEquals("08S01", err.sqlState(), err.toString());
            assertEquals("Bad handshake: authentication timed out", err.message());
            assertTrue(stalled.closedByPeer());
            assertTrue(ms < 10_000, "cut off by the 1 s auth timeout, after " + ms + " ms");
            // one that never answers the greeting at all is let go too
            silent.greeting();
            assertEquals("Bad handshake: authentication timed out", silent.readErr().message());
            assertTrue(silent.closedByPeer());
        }
        selectOne(strict);
    }

    // ---- big, odd and hostile statements ----

    @Test
    void aTenMegabyteStatementIsRoutedAndAnswered() throws Exception {
        String big = "x".repeat(10_000_000);
        try (Connection c = connect(server); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT LENGTH('" + big + "'), @@port")) {
            assertTrue(rs.next());
            assertEquals(10_000_000, rs.getInt(1));
            assertEquals(cluster.replicas().get(0).name(), nodeOf(rs.getInt(2)), "a read, routed to the replica");
        }
        selectOne(server);
    }

    @Test
    void invalidUtf8ReachesTheServerAndItsAnswerComesBack() throws Exception {
        try (RawMy raw = loggedIn()) {
            // 0xC3 0x28: a lead byte followed by a byte that is no continuation; the proxy's own view of the text
            // (for routing) has a replacement character there, but the server must get the bytes as sent
            byte[] sql = RawMy.concat("SELECT HEX('".getBytes(StandardCharsets.US_ASCII), new byte[] {(byte) 0xc3, 0x28},
                    "'), @@port".getBytes(StandardCharsets.US_ASCII));
            RawMy.Reply r = raw.query(sql);
            assertNull(r.err(), "MariaDB takes the bytes as they are: " + r);
            assertEquals("C328", r.rows().get(0).get(0), "the server saw exactly the bytes the client sent");
            assertEquals(cluster.replicas().get(0).name(), nodeOf(Integer.parseInt(r.rows().get(0).get(1))), "routed as a read");
            assertEquals("1", raw.query("SELECT 1").value(), "the session goes on");
        }
        selectOne(server);
    }

    @Test
    void deeplyNestedSqlIsRoutedInBoundedTime() throws Exception {
        String nested = "SELECT @@port, " + "(".repeat(5000) + "1" + ")".repeat(5000);
        try (RawMy raw = loggedIn()) {
            long t0 = System.nanoTime();
            RawMy.Reply r = raw.query(nested);
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertTrue(ms < 10_000, "answered in " + ms + " ms");
            assertNull(r.err(), r.toString());
            assertEquals("1", r.rows().get(0).get(1));
            assertEquals(cluster.replicas().get(0).name(), nodeOf(Integer.parseInt(r.rows().get(0).get(0))), "routed as a read");
            assertEquals("1", raw.query("SELECT 1").value(), "the session goes on");
        }
        selectOne(server);
    }

    @Test
    void killOfAThreadIdOutOfRangeIsUnknownAndTheSessionGoesOn() throws Exception {
        try (RawMy raw = loggedIn()) {
            for (String id : new String[] {"99999999999", "4294967296", "1" + "0".repeat(40)}) {
                for (String kill : new String[] {"KILL " + id, "KILL QUERY " + id, "KILL CONNECTION " + id}) {
                    RawMy.Reply r = raw.query(kill);
                    assertNotNull(r.err(), kill + ": " + r);
                    assertEquals(My.ER_NO_SUCH_THREAD, r.err().errCode(), kill + ": " + r);
                    assertEquals("Unknown thread id: " + id, r.err().message());
                }
            }
            assertEquals("1", raw.query("SELECT 1").value(), "the session goes on");
        }
        selectOne(server);
    }

    // ---- a client gone mid-query ----

    static long sleepers() throws SQLException {
        try (Connection c = cluster.connectAdmin(cluster.primary()); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO = 'SELECT SLEEP(30)'")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Whether row 1 of sluice.bad can be locked at once from a direct connection; its value when it can. */
    static Integer lockRowNoWait() throws SQLException {
        try (Connection c = cluster.connectAdmin(cluster.primary()); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            try (ResultSet rs = st.executeQuery("SELECT v FROM sluice.bad WHERE id = 1 FOR UPDATE NOWAIT")) {
                assertTrue(rs.next());
                int v = rs.getInt(1);
                c.rollback();
                return v;
            } catch (SQLException e) {
                if (e.getErrorCode() != 1205) { // lock wait timeout (NOWAIT: at once)
                    throw e;
                }
                return null;
            }
        }
    }

    @Test
    void aClientGoneMidQueryInATransactionHasItsQueryKilledAndItsTransactionRolledBack() throws Exception {
        DbNode primary = cluster.primary();
        RawMy raw = loggedIn();
        try {
            assertNull(raw.query("START TRANSACTION").err());
            RawMy.Reply u = raw.query("UPDATE bad SET v = v + 1 WHERE id = 1");
            assertNotNull(u.ok(), u.toString());
            raw.command(My.COM_QUERY, "SELECT SLEEP(30)".getBytes(StandardCharsets.US_ASCII)); // its answer is never read
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (sleepers() == 0) {
                assertTrue(System.nanoTime() < deadline, "SELECT SLEEP(30) never showed up on the primary " + primary.name());
                LockSupport.parkNanos(20_000_000L);
            }
            assertNull(lockRowNoWait(), "the transaction holds the row it updated");
        } finally {
            raw.close(); // the client goes away mid-statement
        }
        long gone = System.nanoTime();
        while (sleepers() > 0) {
            assertTrue(System.nanoTime() - gone < TimeUnit.SECONDS.toNanos(20), "the backend query still runs");
            LockSupport.parkNanos(20_000_000L);
        }
        long killedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - gone);
        assertTrue(killedMs < 10_000, "killed, not run to its end: gone after " + killedMs + " ms");
        Integer v;
        while ((v = lockRowNoWait()) == null) {
            assertTrue(System.nanoTime() - gone < TimeUnit.SECONDS.toNanos(20), "the row is still locked");
            LockSupport.parkNanos(20_000_000L);
        }
        assertEquals(0, v, "the transaction's update was rolled back");
        long freedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - gone);
        assertTrue(freedMs < 10_000, "lock freed after " + freedMs + " ms");
        selectOne(server);
    }

    @Test
    void aClientGoneMidQueryOutsideATransaction() throws Exception {
        RawMy raw = loggedIn();
        try (Connection c = cluster.connectAdmin(cluster.primary())) {
            // a locking read: routed to the primary, where the PROCESSLIST is looked at
            raw.command(My.COM_QUERY, "SELECT SLEEP(30) FROM sluice.bad FOR UPDATE".getBytes(StandardCharsets.US_ASCII));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (count(c, "SELECT SLEEP(30) FROM sluice.bad FOR UPDATE") == 0) {
                assertTrue(System.nanoTime() < deadline, "the query never showed up on the primary");
                LockSupport.parkNanos(20_000_000L);
            }
            raw.close();
            long gone = System.nanoTime();
            while (count(c, "SELECT SLEEP(30) FROM sluice.bad FOR UPDATE") > 0) {
                assertTrue(System.nanoTime() - gone < TimeUnit.SECONDS.toNanos(10), "the backend query still runs");
                LockSupport.parkNanos(20_000_000L);
            }
        } finally {
            raw.close();
        }
        selectOne(server);
    }

    static long count(Connection c, String info) throws SQLException {
        try (var ps = c.prepareStatement("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO = ?")) {
            ps.setString(1, info);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }
}
