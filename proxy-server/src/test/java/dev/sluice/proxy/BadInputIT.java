package dev.sluice.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Entries of the bad-input catalogue: a client gone mid-query, a 10 MB statement, invalid UTF-8. */
class BadInputIT {
    static ProxyFixture f;

    @BeforeAll
    static void start() throws Exception {
        f = ProxyFixture.start("bad-input-pg", 1, null, "  auth: md5\n"); // md5 for the raw-socket client
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE bad (id int PRIMARY KEY)");
        }
    }

    @AfterAll
    static void stop() {
        if (f != null) {
            f.close();
        }
    }

    static Connection connect() throws SQLException {
        return DriverManager.getConnection(f.jdbcUrl(), ProxyFixture.USER, ProxyFixture.PASSWORD);
    }

    static long sleepers() throws SQLException {
        try (Connection c = f.cluster.connectAdmin(f.cluster.primary()); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE usename = '" + f.cluster.user()
                     + "' AND query LIKE 'SELECT pg_sleep(30)%' AND state = 'active'")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    @Timeout(60)
    void aClientGoneMidQueryInATransactionIsCancelledAndRolledBack() throws Exception {
        Connection c = connect();
        c.setAutoCommit(false);
        try (Statement st = c.createStatement()) {
            st.executeUpdate("INSERT INTO bad VALUES (1)");
        }
        Thread sleeper = new Thread(() -> {
            try (Statement st = c.createStatement()) {
                st.executeQuery("SELECT pg_sleep(30)");
            } catch (SQLException expected) {
                // the connection is aborted under it
            }
        });
        sleeper.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (sleepers() == 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(1, sleepers(), "the statement runs on the primary");
        long gone = System.nanoTime();
        c.abort(Runnable::run); // the client's socket closes mid-statement
        while (sleepers() > 0 && System.nanoTime() - gone < TimeUnit.SECONDS.toNanos(20)) {
            Thread.sleep(20);
        }
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - gone);
        assertEquals(0, sleepers(), "the backend statement was stopped");
        assertTrue(ms < 10_000, "stopped by a cancel, not by running its 30 s out: " + ms + " ms");
        try (Connection a = f.cluster.connectAdmin(f.cluster.primary()); Statement st = a.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM bad")) {
            rs.next();
            assertEquals(0, rs.getLong(1), "the open transaction's insert was rolled back");
        }
        sleeper.join(10_000);
    }

    @Test
    @Timeout(60)
    void aTenMegabyteStatementIsRoutedAndAnswered() throws Exception {
        String big = "x".repeat(10_000_000);
        try (Connection c = connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT length('" + big + "'), inet_server_port()")) {
            rs.next();
            assertEquals(10_000_000, rs.getInt(1));
            assertEquals(f.replicaNames().get(0), f.node(rs.getInt(2)), "a read, routed to the replica");
        }
    }

    @Test
    @Timeout(60)
    void invalidUtf8GetsTheServersErrorAndTheSessionGoesOn() throws Exception {
        try (RawPg raw = new RawPg(f.host(), f.port())) {
            raw.loginMd5(f.cluster.database(), ProxyFixture.MD5_USER, ProxyFixture.MD5_PASSWORD);
            ByteArrayOutputStream sql = new ByteArrayOutputStream();
            sql.write("SELECT '".getBytes(StandardCharsets.US_ASCII));
            sql.write(new byte[] {(byte) 0xC3, (byte) 0x28}); // not UTF-8
            sql.write("'\0".getBytes(StandardCharsets.US_ASCII));
            raw.send(RawPg.typed('Q', sql.toByteArray()));
            RawPg.Msg err = raw.readUntil('E');
            assertEquals("22021", err.fields().get('C'), err.toString());
            raw.readUntil('Z');
            raw.send(RawPg.query("SELECT 1"));
            assertEquals('D', raw.readUntil('D').type());
            raw.readUntil('Z');
        }
    }
}
