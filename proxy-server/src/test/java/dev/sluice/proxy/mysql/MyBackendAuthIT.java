package dev.sluice.proxy.mysql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.testsupport.Clusters;
import dev.sluice.testsupport.DbCluster;
import dev.sluice.testsupport.DbNode;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * MyBackendAuth against a real MariaDB over a bare socket: the greeting (HandshakeV10) is read and the
 * HandshakeResponse41 built here, so what is checked is our arithmetic and packet handling against the
 * server's, with no driver in between. Also checks that MariaDB accepts {@link MyAuth#nativeHash} as its
 * own stored form, and that an account with a plugin Sluice cannot speak fails with a message naming it.
 */
class MyBackendAuthIT {
    static final int CLIENT_PROTOCOL_41 = 0x200;
    static final int CLIENT_SECURE_CONNECTION = 0x8000;
    static final int CLIENT_PLUGIN_AUTH = 0x80000;

    static DbCluster cluster;
    static DbNode node;

    @BeforeAll
    static void start() throws Exception {
        cluster = Clusters.startMariaDb("my-backend-auth", 0);
        node = cluster.primary();
        try (Connection c = cluster.connectAdmin(node); Statement st = c.createStatement()) {
            st.execute("CREATE USER 'hashed'@'%' IDENTIFIED BY PASSWORD '" + MyAuth.nativeHash("hashed-pw") + "'");
            st.execute("CREATE USER 'nopw'@'%'");
            st.execute("INSTALL SONAME 'auth_ed25519'");
            st.execute("CREATE USER 'ed'@'%' IDENTIFIED VIA ed25519 USING PASSWORD('ed-pw')");
        }
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** The server's final answer (errno 0 for OK) and the plugin MyBackendAuth ended with. */
    record Outcome(int errno, String message, String plugin) {
    }

    @Test
    void logsInWithTheRightPassword() throws Exception {
        assertEquals(new Outcome(0, "", MyAuth.NATIVE), login(cluster.user(), cluster.password()));
    }

    @Test
    void aWrongPasswordGetsAccessDenied() throws Exception {
        Outcome o = login(cluster.user(), "not-" + cluster.password());
        assertEquals(1045, o.errno(), o.message());
        assertTrue(o.message().startsWith("#28000Access denied for user 'sluice'@'127.0.0.1' (using password: YES)"), o.message());
    }

    @Test
    void nativeHashIsMariaDbsStoredForm() throws Exception {
        try (Connection c = cluster.connectAdmin(node); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT PASSWORD('password'), PASSWORD('sluice-pw')")) {
            rs.next();
            assertEquals(MyAuth.nativeHash("password"), rs.getString(1));
            assertEquals(MyAuth.nativeHash("sluice-pw"), rs.getString(2));
        }
        assertEquals(0, login("hashed", "hashed-pw").errno(), "an account made from our hash");
    }

    @Test
    void anEmptyPasswordIsAnEmptyToken() throws Exception {
        assertEquals(0, login("nopw", "").errno());
        assertEquals(1045, login("nopw", "x").errno());
    }

    @Test
    void anUnsupportedPluginIsNamed() {
        IOException e = assertThrows(IOException.class, () -> login("ed", "ed-pw"));
        assertEquals("node " + node.name() + ": backend asks for auth plugin 'client_ed25519', "
                + "Sluice supports mysql_native_password and caching_sha2_password", e.getMessage());
    }

    @Test
    void followsTheServersSwitchToNative() throws Exception {
        // answering the greeting as caching_sha2_password, which MariaDB has no server side for, makes
        // it switch us to the account's plugin with a fresh scramble
        assertEquals(new Outcome(0, "", MyAuth.NATIVE), login(cluster.user(), cluster.password(), MyAuth.SHA2));
        assertEquals(1045, login(cluster.user(), "wrong", MyAuth.SHA2).errno());
    }

    static Outcome login(String user, String password) throws IOException {
        return login(user, password, null);
    }

    /** Logs in over a new socket; {@code answerAs} overrides the greeting's plugin name when not null. */
    static Outcome login(String user, String password, String answerAs) throws IOException {
        try (Socket s = new Socket(node.host(), node.port())) {
            s.setSoTimeout(10_000);
            DataInputStream in = new DataInputStream(s.getInputStream());
            OutputStream out = s.getOutputStream();
            int[] seq = {0};
            byte[] greeting = read(in, seq);
            assertEquals(10, greeting[0], "HandshakeV10");
            int p = indexOf(greeting, 1) + 1 + 4; // server version\0, connection id
            byte[] scramble = Arrays.copyOfRange(greeting, p, p + 8);
            p += 8 + 1 + 2 + 1 + 2 + 2; // part 1, filler, capabilities (low), charset, status, capabilities (high)
            int dataLength = greeting[p] & 0xFF;
            p += 1 + 10;
            int part2 = Math.max(13, dataLength - 8);
            // part 2 ends with a NUL that MyBackendAuth drops, like the one after an AuthSwitchRequest's scramble
            scramble = MyAuth.concat(scramble, Arrays.copyOfRange(greeting, p, p + part2));
            p += part2;
            String plugin = new String(greeting, p, indexOf(greeting, p) - p, StandardCharsets.US_ASCII);

            MyBackendAuth auth = new MyBackendAuth(node.name(), password, false);
            byte[] token = auth.firstResponse(answerAs != null ? answerAs : plugin, scramble);
            ByteArrayOutputStream r = new ByteArrayOutputStream();
            int caps = CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH;
            r.write(new byte[] {(byte) caps, (byte) (caps >> 8), (byte) (caps >> 16), (byte) (caps >> 24)});
            r.write(new byte[] {0, 0, 0, 1}); // max packet size 16 MiB
            r.write(45); // utf8mb4_general_ci
            r.write(new byte[23]);
            r.write(user.getBytes(StandardCharsets.UTF_8));
            r.write(0);
            r.write(token.length);
            r.write(token);
            r.write(auth.plugin().getBytes(StandardCharsets.US_ASCII));
            r.write(0);
            write(out, seq, r.toByteArray());
            while (true) {
                byte[] pkt = read(in, seq);
                if (pkt[0] == 0x00) {
                    return new Outcome(0, "", auth.plugin());
                }
                if ((pkt[0] & 0xFF) == 0xFF) {
                    int errno = (pkt[1] & 0xFF) | (pkt[2] & 0xFF) << 8;
                    return new Outcome(errno, new String(pkt, 3, pkt.length - 3, StandardCharsets.UTF_8), auth.plugin());
                }
                byte[] reply = auth.next(pkt);
                if (reply != null) {
                    write(out, seq, reply);
                }
            }
        }
    }

    static byte[] read(DataInputStream in, int[] seq) throws IOException {
        byte[] h = new byte[4];
        in.readFully(h);
        seq[0] = (h[3] & 0xFF) + 1;
        byte[] payload = new byte[(h[0] & 0xFF) | (h[1] & 0xFF) << 8 | (h[2] & 0xFF) << 16];
        in.readFully(payload);
        return payload;
    }

    static void write(OutputStream out, int[] seq, byte[] payload) throws IOException {
        int n = payload.length;
        out.write(new byte[] {(byte) n, (byte) (n >> 8), (byte) (n >> 16), (byte) seq[0]++});
        out.write(payload);
        out.flush();
    }

    static int indexOf(byte[] b, int from) {
        for (int i = from; i < b.length; i++) {
            if (b[i] == 0) {
                return i;
            }
        }
        throw new AssertionError("no NUL after " + from);
    }
}
