package dev.sluice.proxy.mysql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.proxy.ProxyConfig;
import dev.sluice.proxy.ProxyConfigs;
import dev.sluice.proxy.ProxyServer;
import dev.sluice.testsupport.Clusters;
import dev.sluice.testsupport.DbCluster;
import dev.sluice.testsupport.DbNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Protocol garbage at the MySQL proxy from a raw socket, before and after login, and from a backend: the proxy
 * answers with an ERR packet whose code and message say what was wrong, closes that connection only (or,
 * where MySQL keeps a session after such an error, keeps it), and a well-behaved client connected at the
 * same time keeps working. This proxy has a small max-message-bytes (64 KiB).
 *
 * <p>The failed-login limit is off: random handshake responses may decode into a login of some unknown user
 * (1045), and those must not lock 127.0.0.1 out of the proxy for the other tests.
 *
 * <p>The replica is reached through a relay ({@link GarbageRelay}) that answers a command carrying a marker
 * with garbage of a chosen kind instead of passing it to the server, so the proxy sees a node speak nonsense.
 */
@Timeout(120)
class MySqlGarbageIT {
    static final int MAX_MESSAGE_BYTES = 65536;
    static DbCluster cluster;
    static GarbageRelay relay;
    static ProxyServer server;
    static Connection bystander;
    static String replica;

    @BeforeAll
    static void start() throws Exception {
        cluster = Clusters.startMariaDb("mygarbage", 1);
        DbNode r = cluster.replicas().get(0);
        replica = r.name();
        relay = new GarbageRelay(r.host(), r.port());
        // the replica's entry points at the relay; everything else as ProxyConfigs writes it
        String yaml = ProxyConfigs.mysqlYaml(cluster, null, "  max-message-bytes: " + MAX_MESSAGE_BYTES
                + "\n  auth-failure-limit: 0\n")
                .replace("port: " + r.port() + " }", "port: " + relay.port() + " }");
        assertTrue(yaml.contains("port: " + relay.port() + " }"), yaml);
        Path f = Files.createTempFile("sluice-mygarbage", ".yaml");
        Files.writeString(f, yaml);
        server = new ProxyServer(ProxyConfig.load(f));
        Files.deleteIfExists(f);
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!(server.runtime().router().topology().primary() != null && server.runtime().router().topology().replicas().contains(replica))) {
            assertTrue(System.nanoTime() < deadline, "the proxy never saw the primary and the replica behind the relay: "
                    + server.runtime().router().topology().describe());
            java.util.concurrent.locks.LockSupport.parkNanos(50_000_000L);
        }
        bystander = connect();
        bystanderWorks();
    }

    @AfterAll
    static void stop() throws Exception {
        if (bystander != null) {
            bystander.close();
        }
        if (server != null) {
            server.close();
        }
        if (relay != null) {
            relay.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    static Connection connect() throws SQLException {
        return DriverManager.getConnection("jdbc:mariadb://127.0.0.1:" + server.address().getPort() + "/" + cluster.database(),
                ProxyConfigs.MYSQL_USER, ProxyConfigs.MYSQL_PASSWORD);
    }

    /** The connection opened before the garbage, and a new one, both answer. */
    static void bystanderWorks() throws SQLException {
        for (Connection c : new Connection[] {bystander, null}) {
            try (Connection fresh = c == null ? connect() : null; Statement s = (c == null ? fresh : c).createStatement();
                 ResultSet rs = s.executeQuery("SELECT 40 + 2")) {
                assertTrue(rs.next());
                assertEquals(42, rs.getInt(1), "another client is unaffected");
            }
        }
    }

    static RawMy raw() throws IOException {
        return new RawMy("127.0.0.1", server.address().getPort());
    }

    static RawMy loggedIn() throws IOException {
        return raw().login(ProxyConfigs.MYSQL_USER, ProxyConfigs.MYSQL_PASSWORD, cluster.database());
    }

    /** Reads an ERR with {@code code} and {@code state}, then expects the connection closed and other clients served. */
    static RawMy.Packet refused(RawMy raw, int code, String state) throws Exception {
        RawMy.Packet err = raw.readErr();
        assertEquals(code, err.errCode(), err.toString());
        assertEquals(state, err.sqlState(), err.toString());
        assertTrue(raw.closedByPeer(), "the proxy closes the connection after " + err);
        bystanderWorks();
        return err;
    }

    static void sessionGoesOn(RawMy raw) throws IOException, SQLException {
        assertEquals("7", raw.query("SELECT 3 + 4").value(), "the same session answers the next command");
        bystanderWorks();
    }

    // ---- connection phase ----

    @Test
    void randomBytesInsteadOfAHandshakeResponse() throws Exception {
        byte[] junk = new byte[300];
        new Random(1).nextBytes(junk);
        junk[2] = 0; // the header announces under 64 KiB: read and decoded as a response, not cut off by the size limit
        junk[1] = 1;
        junk[0] = 20; // 276 bytes, of the 296 that follow
        try (RawMy raw = raw()) {
            raw.greeting();
            raw.sendRaw(junk);
            RawMy.Packet err = refused(raw, My.ER_HANDSHAKE, "08S01");
            assertTrue(err.message().startsWith("Bad handshake: "), err.toString());
        }
    }

    @Test
    void randomPayloadsInAProperPacket() throws Exception {
        Random r = new Random(2);
        for (int i = 0; i < 5; i++) {
            byte[] payload = new byte[40 + r.nextInt(200)];
            r.nextBytes(payload);
            payload[1] |= My.PROTOCOL_41 >>> 8; // past the version check, into the fields
            try (RawMy raw = raw()) {
                raw.greeting();
                raw.send(1, payload);
                RawMy.Packet err = raw.readErr();
                // refused as malformed, or (when the random fields happen to parse) as a login of an unknown user
                if (err.errCode() == My.ER_ACCESS_DENIED) {
                    assertEquals("28000", err.sqlState(), err.toString());
                    assertTrue(err.message().startsWith("Access denied for user '"), err.toString());
                } else {
                    assertEquals(My.ER_HANDSHAKE, err.errCode(), err.toString());
                    assertEquals("08S01", err.sqlState(), err.toString());
                    assertTrue(err.message().startsWith("Bad handshake: "), err.toString());
                }
                assertEquals(2, err.seq(), "the ERR follows the response's sequence number");
                assertTrue(raw.closedByPeer(), "the proxy closes the connection after " + err);
                bystanderWorks();
            }
        }
    }

    @Test
    void aHandshakeResponseShorterThan32Bytes() throws Exception {
        try (RawMy raw = raw()) {
            raw.greeting();
            raw.send(1, RawMy.concat(RawMy.le(RawMy.BASE_CAPS, 4), RawMy.le(1 << 24, 4), new byte[] {45, 0, 0, 0}));
            RawMy.Packet err = refused(raw, My.ER_HANDSHAKE, "08S01");
            assertEquals("Bad handshake: handshake response of 12 bytes (at least 32 expected; pre-4.1 clients are not supported)",
                    err.message());
        }
    }

    @Test
    void aClientWithoutProtocol41() throws Exception {
        try (RawMy raw = raw()) {
            raw.greeting();
            byte[] response = raw.response(RawMy.BASE_CAPS & ~My.PROTOCOL_41, ProxyConfigs.MYSQL_USER, ProxyConfigs.MYSQL_PASSWORD, null);
            raw.send(1, response);
            RawMy.Packet err = refused(raw, My.ER_HANDSHAKE, "08S01");
            assertEquals("Bad handshake: client does not speak protocol 4.1 (CLIENT_PROTOCOL_41 not set)", err.message());
        }
    }

    @Test
    void aResponseWithAnAuthLengthPastItsEnd() throws Exception {
        try (RawMy raw = raw()) {
            raw.greeting();
            byte[] head = RawMy.concat(RawMy.le(RawMy.BASE_CAPS | My.PLUGIN_AUTH_LENENC, 4), RawMy.le(1 << 24, 4), new byte[] {45},
                    new byte[23], "app\0".getBytes(StandardCharsets.US_ASCII));
            raw.send(1, RawMy.concat(head, new byte[] {(byte) 0xfc, (byte) 0xff, (byte) 0xff, 1, 2, 3})); // 65535 bytes announced, 3 there
            RawMy.Packet err = refused(raw, My.ER_HANDSHAKE, "08S01");
            assertEquals("Bad handshake: length-encoded string of 65535 bytes, 3 left", err.message());
        }
    }

    @Test
    void aHeaderOverMaxMessageBytesDuringTheHandshake() throws Exception {
        try (RawMy raw = raw()) {
            raw.greeting();
            raw.sendRaw(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, 1}); // 16 MB announced, nothing follows
            RawMy.Packet err = refused(raw, My.ER_HANDSHAKE, "08S01");
            assertTrue(err.message().contains("packet of 16777215 bytes exceeds max-message-bytes 65536"), err.toString());
        }
    }

    // ---- command phase ----

    @Test
    void aCommandOverMaxMessageBytesIsRefusedFromItsHeader() throws Exception {
        try (RawMy raw = loggedIn()) {
            // only the header of a 100 000-byte COM_QUERY: refused before the proxy buffers (or waits for) the rest
            raw.sendRaw(new byte[] {(byte) 0xa0, (byte) 0x86, 0x01, 0, My.COM_QUERY});
            long t0 = System.nanoTime();
            RawMy.Packet err = refused(raw, My.ER_HANDSHAKE, "08S01");
            assertEquals("packet of 100000 bytes exceeds max-message-bytes 65536", err.message());
            assertTrue(System.nanoTime() - t0 < 15_000_000_000L);
        }
    }

    @Test
    void aWholeCommandOverMaxMessageBytes() throws Exception {
        try (RawMy raw = loggedIn()) {
            byte[] sql = ("SELECT '" + "x".repeat(MAX_MESSAGE_BYTES) + "'").getBytes(StandardCharsets.US_ASCII);
            Thread writer = new Thread(() -> {
                try {
                    raw.command(My.COM_QUERY, sql);
                } catch (IOException closedUnderIt) {
                    // the proxy may close before all of it is sent
                }
            });
            writer.start();
            RawMy.Packet err = refused(raw, My.ER_HANDSHAKE, "08S01");
            assertEquals("packet of " + (sql.length + 1) + " bytes exceeds max-message-bytes 65536", err.message());
            writer.join(10_000);
            assertFalse(writer.isAlive());
        }
    }

    @Test
    void anUnknownCommandGetsErr1047AndTheSessionGoesOn() throws Exception {
        try (RawMy raw = loggedIn()) {
            for (int command : new int[] {0x00, 0x7f, 0xfe, 0xff}) {
                raw.command(command, new byte[] {1, 2, 3});
                RawMy.Packet err = raw.readErr();
                assertEquals(My.ER_UNKNOWN_COM, err.errCode(), err.toString());
                assertEquals("08S01", err.sqlState(), err.toString());
                assertEquals("Unknown command 0x" + Integer.toHexString(command) + " (not relayed by the Sluice proxy)", err.message());
                assertEquals(1, err.seq());
            }
            sessionGoesOn(raw);
        }
    }

    @Test
    void anExecuteOfAnUnknownStatementGetsErr1243AndTheSessionGoesOn() throws Exception {
        try (RawMy raw = loggedIn()) {
            raw.command(My.COM_STMT_EXECUTE, RawMy.concat(RawMy.le(12345, 4), new byte[] {0}, RawMy.le(1, 4)));
            RawMy.Packet err = raw.readErr();
            assertEquals(My.ER_UNKNOWN_STMT, err.errCode(), err.toString());
            assertEquals("Unknown prepared statement handler (12345) given to mysqld_stmt_execute", err.message());
            for (int command : new int[] {My.COM_STMT_FETCH, My.COM_STMT_RESET}) {
                raw.command(command, RawMy.concat(RawMy.le(777, 4), RawMy.le(10, 4)));
                err = raw.readErr();
                assertEquals(My.ER_UNKNOWN_STMT, err.errCode(), err.toString());
                assertTrue(err.message().contains("(777)"), err.toString());
            }
            // no reply to these by the protocol: the next command's answer must be its own
            raw.command(My.COM_STMT_CLOSE, RawMy.le(778, 4));
            raw.command(My.COM_STMT_SEND_LONG_DATA, RawMy.concat(RawMy.le(779, 4), RawMy.le(0, 2), "data".getBytes(StandardCharsets.US_ASCII)));
            sessionGoesOn(raw);
        }
    }

    /** An execute of {@code SELECT ? + ?} whose body is {@code body} (after the statement id). */
    static RawMy.Packet truncatedExecute(byte[] body) throws Exception {
        try (RawMy raw = loggedIn()) {
            long id = raw.prepare("SELECT ? + ?");
            long t0 = System.nanoTime();
            raw.command(My.COM_STMT_EXECUTE, RawMy.concat(RawMy.le(id, 4), body));
            RawMy.Packet err = refused(raw, My.ER_HANDSHAKE, "08S01");
            assertTrue(System.nanoTime() - t0 < 15_000_000_000L, "answered at once, not after a wait");
            return err;
        }
    }

    @Test
    void anExecuteTruncatedInsideTheNullBitmap() throws Exception {
        // flags and iteration count, then nothing: the NULL bitmap (1 byte for 2 parameters) and the rest are missing
        RawMy.Packet err = truncatedExecute(RawMy.concat(new byte[] {0}, RawMy.le(1, 4)));
        assertEquals("malformed command: COM_STMT_EXECUTE too short for 2 parameters", err.message());
    }

    @Test
    void anExecuteTruncatedInsideTheTypes() throws Exception {
        // bitmap, new-params-bound = 1, then the type of the first parameter only
        RawMy.Packet err = truncatedExecute(RawMy.concat(new byte[] {0}, RawMy.le(1, 4), new byte[] {0, 1, 8, 0}));
        assertEquals("malformed command: COM_STMT_EXECUTE too short for the types of 2 parameters", err.message());
    }

    @Test
    void statementCommandsTooShortForTheirStatementId() throws Exception {
        for (int command : new int[] {My.COM_STMT_EXECUTE, My.COM_STMT_SEND_LONG_DATA, My.COM_STMT_CLOSE, My.COM_STMT_RESET,
                My.COM_STMT_FETCH, My.COM_PROCESS_KILL}) {
            try (RawMy raw = loggedIn()) {
                raw.command(command, new byte[] {1, 0});
                RawMy.Packet err = refused(raw, My.ER_HANDSHAKE, "08S01");
                assertEquals("malformed command: command 0x" + Integer.toHexString(command) + " of 3 bytes (at least 5 expected)",
                        err.message());
            }
        }
    }

    @Test
    void longDataIsHeldToMaxMessageBytes() throws Exception {
        // COM_STMT_SEND_LONG_DATA has no reply and is kept by the proxy until the execute (only then is the node
        // known): without a bound, a client could make it hold any amount in packets each under the limit
        try (RawMy raw = loggedIn()) {
            long a = raw.prepare("SELECT LENGTH(?)");
            long b = raw.prepare("SELECT LENGTH(?)");
            byte[] chunk = new byte[20_000];
            java.util.Arrays.fill(chunk, (byte) 'z');
            // 60 000 bytes for a, then for b: together over 64 KiB, though each statement's share is under it
            for (int i = 0; i < 3; i++) {
                raw.command(My.COM_STMT_SEND_LONG_DATA, RawMy.concat(RawMy.le(a, 4), RawMy.le(0, 2), chunk));
            }
            for (int i = 0; i < 10; i++) {
                try {
                    raw.command(My.COM_STMT_SEND_LONG_DATA, RawMy.concat(RawMy.le(b, 4), RawMy.le(0, 2), chunk));
                } catch (IOException closed) {
                    break; // refused already
                }
            }
            RawMy.Packet err = refused(raw, My.ER_NET_PACKET_TOO_LARGE, "08S01");
            assertEquals("long data of prepared statements over max-message-bytes 65536 (COM_STMT_SEND_LONG_DATA)", err.message());
        }
    }

    @Test
    void longDataUnderTheLimitReachesTheServer() throws Exception {
        try (RawMy raw = loggedIn()) {
            long id = raw.prepare("SELECT LENGTH(?)");
            byte[] chunk = new byte[20_000];
            java.util.Arrays.fill(chunk, (byte) 'z');
            for (int i = 0; i < 3; i++) {
                raw.command(My.COM_STMT_SEND_LONG_DATA, RawMy.concat(RawMy.le(id, 4), RawMy.le(0, 2), chunk));
            }
            // execute: flags 0, 1 iteration, NULL bitmap 0, new-params-bound 1, type MYSQL_TYPE_BLOB (0xfc), no value (long data)
            raw.command(My.COM_STMT_EXECUTE, RawMy.concat(RawMy.le(id, 4), new byte[] {0}, RawMy.le(1, 4), new byte[] {0, 1, (byte) 0xfc, 0}));
            RawMy.Packet count = raw.read();
            assertEquals(1, count.first(), "one column: " + count);
            raw.read(); // the column
            assertTrue(raw.read().isEof());
            RawMy.Packet row = raw.read(); // binary row: 0x00, NULL bitmap, then LENGTH() as a little-endian integer
            assertEquals(0, row.first(), row.toString());
            long length = 0;
            for (int i = row.payload().length - 1; i >= 2; i--) {
                length = length << 8 | (row.payload()[i] & 0xff);
            }
            assertEquals(60_000L, length, row.toString());
            assertTrue(raw.read().isEof());
            sessionGoesOn(raw);
        }
    }

    // ---- a backend that speaks garbage ----

    /** The replica's answer to a query carrying the marker is {@code kind} of garbage: the client gets 2013 naming it. */
    static void garbageFromTheNode(String kind, String reason) throws Exception {
        int before = relay.injected.get();
        try (RawMy raw = loggedIn()) {
            assertEquals(replica, nodeOf(raw.query("SELECT @@port").value()), "reads go to the replica (behind the relay)");
            RawMy.Reply r = raw.query("SELECT 1 /* " + GarbageRelay.MARKER + kind + "; */");
            assertEquals(before + 1, relay.injected.get(), "the relay answered with garbage");
            assertNotNull(r.err(), "an error instead of " + r);
            assertEquals(My.ER_CONNECTION_LOST, r.err().errCode(), r.err().toString());
            assertEquals("08S01", r.err().sqlState(), r.err().toString());
            String m = r.err().message();
            assertTrue(m.startsWith("Lost connection to node " + replica + ": connection to node " + replica + " closed ("), m);
            assertTrue(m.contains(reason), m);
            sessionGoesOn(raw);
        }
        // bad bytes from one connection say nothing about the node: it stays in routing
        assertTrue(server.runtime().router().topology().readCandidates().stream().anyMatch(n -> n.name().equals(replica)),
                server.runtime().router().topology().describe());
    }

    static String nodeOf(String port) {
        return cluster.nodes().stream().filter(n -> String.valueOf(n.port()).equals(port)).findFirst().orElseThrow().name();
    }

    @Test
    void aNodeAnsweringWithRandomBytes() throws Exception {
        garbageFromTheNode("random", "max-message-bytes");
    }

    @Test
    void aNodeAnsweringWithATruncatedColumnCount() throws Exception {
        garbageFromTheNode("column-count", "protocol error from the node");
    }

    @Test
    void aNodeAnsweringWithAnEmptyPacket() throws Exception {
        garbageFromTheNode("empty", "protocol error from the node");
    }

    @Test
    void aNodeAnsweringWithATruncatedErr() throws Exception {
        garbageFromTheNode("err", "protocol error from the node");
    }

    @Test
    void theRelayPassesEverythingElse() throws Exception {
        try (RawMy raw = loggedIn()) {
            assertEquals(replica, nodeOf(raw.query("SELECT @@port").value()));
            assertNull(raw.query("DO 1").err());
        }
    }

    /**
     * A TCP relay to one node that passes everything through, except that a chunk from the proxy containing
     * {@link #MARKER}{@code kind;} is not passed on: the relay answers it itself with garbage of that kind.
     */
    static final class GarbageRelay implements AutoCloseable {
        static final String MARKER = "sluice-garbage:";
        final AtomicInteger injected = new AtomicInteger();
        private final ServerSocket listener;
        private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
        private final String host;
        private final int targetPort;

        GarbageRelay(String host, int targetPort) throws IOException {
            this.host = host;
            this.targetPort = targetPort;
            listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            Thread t = new Thread(this::accept, "garbage-relay");
            t.setDaemon(true);
            t.start();
        }

        int port() {
            return listener.getLocalPort();
        }

        static byte[] garbage(String kind) {
            return switch (kind) {
                case "random" -> {
                    byte[] b = new byte[512];
                    new Random(7).nextBytes(b);
                    b[2] = (byte) 0x40; // announces a packet of about 4 MB: over this proxy's max-message-bytes
                    yield b;
                }
                case "column-count" -> RawMy.frame(1, new byte[] {(byte) 0xfe}); // 0xFE announces 8 length bytes, none follow
                case "empty" -> RawMy.frame(1, new byte[0]);
                case "err" -> RawMy.frame(1, new byte[] {(byte) 0xff}); // an ERR without its code
                default -> throw new IllegalArgumentException(kind);
            };
        }

        private void accept() {
            while (!listener.isClosed()) {
                try {
                    Socket down = listener.accept();
                    Socket up = new Socket(host, targetPort);
                    sockets.add(down);
                    sockets.add(up);
                    OutputStream toProxy = down.getOutputStream();
                    pump(up.getInputStream(), toProxy, null, up, down);
                    pump(down.getInputStream(), up.getOutputStream(), toProxy, up, down);
                } catch (IOException closed) {
                    return;
                }
            }
        }

        /** Copies {@code in} to {@code out}; with {@code answer} set, chunks carrying the marker get garbage there instead. */
        private void pump(InputStream in, OutputStream out, OutputStream answer, Socket a, Socket b) {
            Thread t = new Thread(() -> {
                byte[] buf = new byte[65536];
                try {
                    int n;
                    while ((n = in.read(buf)) > 0) {
                        String kind = answer == null ? null : kind(buf, n);
                        if (kind != null) {
                            // counted before it is sent: the client can see the proxy's answer to the garbage before
                            // this thread runs again, and the test reads the count right after that answer
                            injected.incrementAndGet();
                            synchronized (answer) {
                                answer.write(garbage(kind));
                                answer.flush();
                            }
                            continue;
                        }
                        synchronized (out) {
                            out.write(buf, 0, n);
                            out.flush();
                        }
                    }
                } catch (IOException closed) {
                    // one side went away
                } finally {
                    closeQuietly(a);
                    closeQuietly(b);
                }
            }, "garbage-relay-pump");
            t.setDaemon(true);
            t.start();
        }

        private static String kind(byte[] buf, int n) {
            String s = new String(buf, 0, n, StandardCharsets.ISO_8859_1);
            int i = s.indexOf(MARKER);
            if (i < 0) {
                return null;
            }
            int end = s.indexOf(';', i);
            return s.substring(i + MARKER.length(), end);
        }

        private void closeQuietly(Socket s) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing anyway
            }
            sockets.remove(s);
        }

        @Override
        public void close() throws IOException {
            listener.close();
            for (Socket s : sockets) {
                closeQuietly(s);
            }
        }
    }
}
