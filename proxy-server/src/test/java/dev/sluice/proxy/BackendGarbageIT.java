package dev.sluice.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.testsupport.TcpRelay;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetric;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bad-input catalogue: a backend that sends protocol garbage in the middle of a session. The replica is reached
 * through a {@link TcpRelay} that, when the client's statement carries a marker, sends the proxy garbage as if
 * from the server, ahead of the server's real answer. Expected every time: in a transaction the client's
 * statement fails with SQLSTATE 08006 naming the node and the reason (an autocommit read is run again and
 * answers), its session goes on, another client is unaffected, the poisoned backend connection is closed (its
 * server process exits), one log line says why (no exception loop) and the proxy's buffers stay small (an
 * announced 2 GB message is not waited for).
 */
class BackendGarbageIT {
    static final int MAX_MESSAGE_BYTES = 1 << 20;
    static TcpRelay relay;
    static ProxyFixture f;
    static String replica;
    static Connection bystander;
    static LogCapture log;

    @BeforeAll
    static void start() throws Exception {
        log = new LogCapture();
        // the replica's address in the proxy's config is the relay's (health probes go through it too)
        f = ProxyFixture.start("backend-garbage-pg", 1, null, "  max-message-bytes: " + MAX_MESSAGE_BYTES + "\n", yaml -> {
            Matcher m = Pattern.compile("name: (pg-replica1), host: ([^,]+), port: (\\d+)").matcher(yaml);
            if (!m.find()) {
                throw new AssertionError("no replica in " + yaml);
            }
            relay = TcpRelay.start(m.group(2), Integer.parseInt(m.group(3)));
            return yaml.substring(0, m.start(3)) + relay.port() + yaml.substring(m.end(3));
        });
        replica = f.replicaNames().get(0);
        bystander = connect();
        try (Statement st = bystander.createStatement()) {
            st.execute("CREATE TABLE written (x int)");
        }
    }

    @AfterAll
    static void stop() throws SQLException {
        try {
            if (bystander != null) {
                bystander.close();
            }
            if (f != null) {
                f.close();
            }
            if (relay != null) {
                relay.close();
            }
        } finally {
            if (log != null) {
                log.close();
            }
        }
    }

    static Connection connect() throws SQLException {
        return DriverManager.getConnection(f.jdbcUrl(), ProxyFixture.USER, ProxyFixture.PASSWORD);
    }

    static byte[] message(char type, int length, byte[] body) {
        return ByteBuffer.allocate(5 + body.length).put((byte) type).putInt(length).put(body).array();
    }

    /** 59 seeded random bytes after a type byte no server sends (and a length that fits them). */
    static byte[] randomBytesOfAnUnknownType() {
        Random r = new Random(20250610);
        byte[] body = new byte[59];
        r.nextBytes(body);
        Set<Character> types = Set.of('R', 'K', 'S', 'Z', 'T', 'D', 'C', 'E', 'N', 'I', 'A', '1', '2', '3', 'n', 's', 't', 'G',
                'H', 'W', 'd', 'c', 'V', 'v');
        int t = r.nextInt(256);
        while (types.contains((char) t)) {
            t = (t + 1) % 256;
        }
        return message((char) t, 4 + body.length, body);
    }

    static Stream<Arguments> garbage() {
        return Stream.of(
                // a 2 GB DataRow announced: over max-message-bytes, refused at its header, nothing buffered
                Arguments.of("impossible length", message('D', 0x7ffffff0, new byte[0]), "exceeds max-message-bytes"),
                Arguments.of("length below 4", message('C', 1, new byte[0]), "protocol violation: node pg-replica1 sent bad message length 1"),
                Arguments.of("random bytes", randomBytesOfAnUnknownType(), "protocol violation: node pg-replica1 sent a message of unknown type"),
                Arguments.of("ReadyForQuery without its status", message('Z', 4, new byte[0]),
                        "protocol violation: node pg-replica1 sent a malformed ReadyForQuery"),
                Arguments.of("unterminated ErrorResponse", message('E', 10, "SFATAL".getBytes(StandardCharsets.US_ASCII)),
                        "protocol violation: node pg-replica1 sent a malformed ErrorResponse"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("garbage")
    @Timeout(120)
    void theClientGets08006NamingTheNodeAndEverythingElseGoesOn(String name, byte[] garbage, String reason) throws Exception {
        int logLinesBefore = count(log.text(), reason);
        try (Connection c = connect()) {
            // in a read-only transaction (on the replica), where nothing can be run again elsewhere
            c.setReadOnly(true);
            c.setAutoCommit(false);
            int pid = backendPidOnTheReplica(c);
            Poisoned p = poisonedRead(c, name, garbage);
            SQLException e = p.error();
            long ms = p.millis();
            assertEquals("08006", e.getSQLState(), e.getMessage());
            assertTrue(e.getMessage().contains("connection to node " + replica + " lost"), e.getMessage());
            assertTrue(e.getMessage().contains(reason), e.getMessage());
            assertTrue(e.getMessage().contains("the transaction was rolled back"), e.getMessage());
            assertTrue(ms < 10_000, "answered at once, not after waiting for the announced bytes: " + ms + " ms");
            c.rollback();

            // the session goes on (a new backend connection), and so does another client's
            c.setAutoCommit(true);
            c.setReadOnly(false);
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT 40 + 2")) {
                assertTrue(rs.next());
                assertEquals(42, rs.getInt(1));
            }
            try (Statement st = bystander.createStatement(); ResultSet rs = st.executeQuery("SELECT inet_server_port()")) {
                assertTrue(rs.next());
            }
            try (Statement st = bystander.createStatement()) {
                assertEquals(1, st.executeUpdate("INSERT INTO written VALUES (1)")); // a write: the primary
            }

            // the poisoned connection is gone: its server process on the replica exits
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (serverProcessAlive(pid) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertFalse(serverProcessAlive(pid), "the backend connection that sent garbage was closed");

            // an autocommit read that meets the same garbage before any of its answer is simply run again
            autocommitReadSurvives(c, name, garbage);
        }
        // a connection's garbage does not take the node out of routing (the probes decide about the node)
        assertFalse(f.server.runtime().router().topology().status(replica).state().name().equals("DOWN"),
                f.server.runtime().router().topology().toString());

        ByteBufAllocatorMetric m = ((ByteBufAllocatorMetricProvider) ByteBufAllocator.DEFAULT).metric();
        long used = m.usedDirectMemory() + m.usedHeapMemory();
        assertTrue(used < 64L << 20, "the proxy's buffers stay small: " + used + " bytes in use");

        String text = log.text();
        if (!reason.contains("max-message-bytes")) {
            assertEquals(logLinesBefore + 2, count(text, reason), "one log line per connection closed says why");
        }
        assertFalse(text.contains("reached at the tail of the pipeline"), "no exception escaped a handler");
        assertFalse(text.contains("IndexOutOfBoundsException"), "no exception escaped a handler");
    }

    /** Arms the relay for an autocommit read until one passes through it (was routed to the replica); it must succeed. */
    static void autocommitReadSurvives(Connection c, String name, byte[] garbage) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        for (int i = 0; ; i++) {
            String marker = "/* garbage, autocommit: " + name + " " + i + " */";
            relay.injectAfter(marker.getBytes(StandardCharsets.UTF_8), garbage);
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT 40 + 2 " + marker)) {
                assertTrue(rs.next());
                assertEquals(42, rs.getInt(1));
            }
            if (!relay.injectionPending()) {
                return; // the garbage was sent, and the read still answered
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("reads never reached " + replica + ": " + f.server.runtime().router().topology());
            }
            Thread.sleep(50);
        }
    }

    /**
     * Arms the relay and sends a read carrying its marker until one is routed to the replica (a read goes to the
     * primary while the replica is out of the read set, lagging for a moment, say: the relay never sees it and
     * stays armed); returns the error it got. A read through the armed relay that succeeds fails the test.
     */
    record Poisoned(SQLException error, long millis) {
    }

    static Poisoned poisonedRead(Connection c, String name, byte[] garbage) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        for (int i = 0; ; i++) {
            String marker = "/* garbage: " + name + " " + i + " */";
            relay.injectAfter(marker.getBytes(StandardCharsets.UTF_8), garbage);
            long t0 = System.nanoTime();
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT inet_server_port() " + marker)) {
                rs.next();
                String ranOn = f.node(rs.getInt(1));
                assertFalse(ranOn.equals(replica), "a read through the relay armed with garbage succeeded");
            } catch (SQLException e) {
                return new Poisoned(e, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("reads never reached " + replica + ": " + f.server.runtime().router().topology());
            }
            Thread.sleep(50);
        }
    }

    /** Makes sure {@code c}'s transaction runs on the replica, and returns its server pid. */
    static int backendPidOnTheReplica(Connection c) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT inet_server_port(), pg_backend_pid()")) {
                rs.next();
                if (f.node(rs.getInt(1)).equals(replica)) {
                    return rs.getInt(2);
                }
            }
            c.rollback(); // on the primary (the replica was out of the read set): try a new transaction
            if (System.nanoTime() > deadline) {
                throw new AssertionError("reads never reached " + replica + ": " + f.server.runtime().router().topology());
            }
            Thread.sleep(50);
        }
    }

    static boolean serverProcessAlive(int pid) throws SQLException {
        try (Connection a = f.cluster.connectAdmin(f.cluster.replicas().get(0));
             Statement st = a.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE pid = " + pid)) {
            rs.next();
            return rs.getInt(1) > 0;
        }
    }

    static int count(String text, String what) {
        int n = 0;
        for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }
}
