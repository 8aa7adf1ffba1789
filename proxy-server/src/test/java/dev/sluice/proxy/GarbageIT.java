package dev.sluice.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Protocol garbage from a raw socket, before and after login: the proxy answers with a FATAL
 * ErrorResponse 08P01 and closes that connection only; a well-behaved client connected at the same time
 * keeps working. (md5 auth on this proxy, so the raw client can log in without implementing SCRAM.)
 */
class GarbageIT {
    static ProxyFixture f;
    static Connection bystander;

    @BeforeAll
    static void start() throws Exception {
        f = ProxyFixture.start("garbage-pg", 0, null, "  auth: md5\n  max-message-bytes: 1048576\n");
        Properties p = new Properties();
        p.setProperty("user", ProxyFixture.USER);
        p.setProperty("password", ProxyFixture.PASSWORD);
        p.setProperty("connectTimeout", "20");
        bystander = DriverManager.getConnection(f.jdbcUrl(), p);
    }

    @AfterAll
    static void stop() throws SQLException {
        if (bystander != null) {
            bystander.close();
        }
        if (f != null) {
            f.close();
        }
    }

    /** Sends {@code garbage} (after an md5 login when {@code login}); expects FATAL 08P01 and a closed connection. */
    static Map<Character, String> refused(boolean login, byte[] garbage) throws Exception {
        try (RawPg raw = new RawPg(f.host(), f.port())) {
            if (login) {
                raw.loginMd5(f.cluster.database(), ProxyFixture.MD5_USER, ProxyFixture.MD5_PASSWORD);
            }
            raw.send(garbage);
            RawPg.Msg m = raw.read();
            while (m.type() == 'N' || m.type() == 'S') {
                m = raw.read();
            }
            assertEquals('E', m.type(), "an ErrorResponse, got " + m);
            Map<Character, String> fields = m.fields();
            assertEquals("08P01", fields.get('C'), fields.toString());
            assertEquals("FATAL", fields.get('S'), fields.toString());
            assertTrue(raw.closedByPeer(), "the proxy closes the connection after the error");
            bystanderWorks();
            return fields;
        }
    }

    static void bystanderWorks() throws SQLException {
        try (ResultSet rs = bystander.createStatement().executeQuery("SELECT 40 + 2")) {
            assertTrue(rs.next());
            assertEquals(42, rs.getInt(1), "the other client is unaffected");
        }
    }

    static byte[] header(char type, int length) {
        return ByteBuffer.allocate(5).put((byte) type).putInt(length).array();
    }

    @Test
    void startupPacketWithLength3() throws Exception {
        Map<Character, String> e = refused(false, new byte[] {0, 0, 0, 3, 0, 3, 0, 0});
        assertTrue(e.get('M').contains("length 3"), e.toString());
    }

    @Test
    void startupPacketLongerThanTheLimit() throws Exception {
        refused(false, ByteBuffer.allocate(8).putInt(Integer.MAX_VALUE).putInt(196608).array());
    }

    @Test
    void startupPacketWithUnterminatedParameters() throws Exception {
        byte[] s = "user\0legacy".getBytes(StandardCharsets.US_ASCII); // no NUL after the value, no final NUL
        refused(false, ByteBuffer.allocate(8 + s.length).putInt(8 + s.length).putInt(196608).put(s).array());
    }

    @Test
    void passwordMessageWithAHugeLength() throws Exception {
        try (RawPg raw = new RawPg(f.host(), f.port())) {
            raw.send(RawPg.startupPacket(Map.of("user", ProxyFixture.MD5_USER, "database", f.cluster.database())));
            assertEquals('R', raw.read().type());
            // announces 2 GB and sends nothing more: the proxy must not wait for (or buffer) it
            raw.send(header('p', Integer.MAX_VALUE));
            RawPg.Msg m = raw.read();
            assertEquals('E', m.type(), m.toString());
            assertEquals("08P01", m.fields().get('C'), m.toString());
            assertTrue(raw.closedByPeer());
        }
        bystanderWorks();
    }

    @Test
    void typedMessageWithAHugeLengthAfterLogin() throws Exception {
        Map<Character, String> e = refused(true, header('Q', 0x7ffffff0));
        assertTrue(e.get('M').contains("max-message-bytes"), e.toString());
    }

    @Test
    void typedMessageWithLengthBelow4AfterLogin() throws Exception {
        refused(true, header('Q', 2));
    }

    @Test
    void unknownMessageTypeAfterLogin() throws Exception {
        Map<Character, String> e = refused(true, header('z', 4));
        assertTrue(e.get('M').contains("unknown message type 'z'"), e.toString());
    }

    @Test
    void truncatedBindAfterLogin() throws Exception {
        // a Bind whose portal name is not NUL-terminated inside its own length
        refused(true, ByteBuffer.allocate(8).put((byte) 'B').putInt(7).put((byte) 'x').put((byte) 'y').put((byte) 'z').array());
    }

    @Test
    void clientsThatStallDuringLoginAreDisconnectedAndFreeTheirSlot() throws Exception {
        // two slots; two clients that send a startup packet and never answer the password request hold both
        try (ProxyFixture small = ProxyFixture.start("stall-pg", 0, null, "  max-client-connections: 2\n  auth-timeout-ms: 1500\n");
             RawPg s1 = new RawPg(small.host(), small.port());
             RawPg s2 = new RawPg(small.host(), small.port());
             RawPg silent = new RawPg(small.host(), small.port())) {
            for (RawPg s : List.of(s1, s2)) {
                s.send(RawPg.startupPacket(Map.of("user", ProxyFixture.USER, "database", small.cluster.database())));
                assertEquals('R', s.read().type());
            }
            Properties p = new Properties();
            p.setProperty("user", ProxyFixture.USER);
            p.setProperty("password", ProxyFixture.PASSWORD);
            SQLException full = assertThrows(SQLException.class, () -> DriverManager.getConnection(small.jdbcUrl(), p).close());
            assertEquals("53300", full.getSQLState(), full.getMessage());

            // the proxy gives up on them (as PostgreSQL's authentication_timeout does) and says why
            for (RawPg s : List.of(s1, s2)) {
                RawPg.Msg m = s.read();
                assertEquals('E', m.type(), m.toString());
                assertEquals("57014", m.fields().get('C'), m.toString());
                assertTrue(s.closedByPeer());
            }
            // a client that never even sends a startup packet is let go too
            assertEquals('E', silent.read().type());
            assertTrue(silent.closedByPeer());

            // the slots are free again (released when the proxy sees the close: poll)
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(20);
            while (true) {
                try (Connection c = DriverManager.getConnection(small.jdbcUrl(), p);
                     ResultSet rs = c.createStatement().executeQuery("SELECT 1")) {
                    assertTrue(rs.next());
                    break;
                } catch (SQLException e) {
                    if (!"53300".equals(e.getSQLState()) || System.nanoTime() > deadline) {
                        throw e;
                    }
                    Thread.sleep(50);
                }
            }
        }
    }

    @Test
    void aResultLargerThanMaxMessageBytesFailsThatStatementButNotTheNode() throws Exception {
        Properties p = new Properties();
        p.setProperty("user", ProxyFixture.USER);
        p.setProperty("password", ProxyFixture.PASSWORD);
        int eventsBefore = f.server.runtime().router().events().snapshot().size();
        try (Connection c = DriverManager.getConnection(f.jdbcUrl(), p)) {
            // a 2 MB row: one DataRow message over this proxy's 1 MB max-message-bytes, from the backend
            SQLException e = assertThrows(SQLException.class, () -> c.createStatement().executeQuery("SELECT repeat('x', 2000000)").close());
            assertTrue(e.getMessage().contains("max-message-bytes"), e.getSQLState() + " " + e.getMessage());
            try (ResultSet rs = c.createStatement().executeQuery("SELECT 40 + 2")) {
                assertTrue(rs.next());
                assertEquals(42, rs.getInt(1), "the client's connection is usable afterwards");
            }
        }
        bystanderWorks();
        // one client's big row is no sign of a sick node: its breaker must not open (that would stop all traffic to it)
        var events = f.server.runtime().router().events().snapshot();
        var newEvents = events.subList(Math.min(eventsBefore, events.size()), events.size());
        assertTrue(newEvents.stream().noneMatch(ev -> ev.type().equals("circuit-open")), newEvents.toString());
    }

    @Test
    void rawLoginItselfWorks() throws Exception {
        // the control case: the same raw client, well-behaved, gets answers
        try (RawPg raw = new RawPg(f.host(), f.port())) {
            raw.loginMd5(f.cluster.database(), ProxyFixture.MD5_USER, ProxyFixture.MD5_PASSWORD);
            raw.send(RawPg.query("SELECT 40 + 2"));
            RawPg.Msg row = raw.readUntil('D');
            assertTrue(new String(row.body(), StandardCharsets.US_ASCII).endsWith("42"), row.toString());
            raw.readUntil('Z');
        }
    }
}
