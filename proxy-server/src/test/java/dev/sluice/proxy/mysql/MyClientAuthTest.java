package dev.sluice.proxy.mysql;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.proxy.mysql.MyClientAuth.Step;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/**
 * MyBackendAuth (the proxy as a client) talking to MyClientAuth (the proxy as a server) through every
 * path: both plugins, switches both ways, caching_sha2 fast and full (TLS and RSA), and the failures.
 * The packets each side sent are recorded, so the tests also pin the wire sequence.
 */
class MyClientAuthTest {
    static final SecureRandom RANDOM = new SecureRandom();
    static final String HOST = "10.1.2.3";
    static final Map<String, MyClientAuth.User> USERS = Map.of(
            "nat", new MyClientAuth.User("nat", MyAuth.nativeHash("nat-pw")),
            "sha", new MyClientAuth.User("sha", MyAuth.sha2Hash("sha-pw")),
            "nat0", new MyClientAuth.User("nat0", MyAuth.nativeHash("")),
            "sha0", new MyClientAuth.User("sha0", MyAuth.sha2Hash("")));

    final Map<String, byte[]> cache = new ConcurrentHashMap<>();
    /** The server's packets, as "tag" strings: "switch:plugin", "full", "fast", "key". */
    final List<String> wire = new ArrayList<>();

    MyClientAuth server(boolean trust) {
        return new MyClientAuth(USERS, trust, MyAuthTest.RSA, RANDOM, cache, HOST);
    }

    /** One login: the client answers the greeting as {@code clientPlugin} would; returns the final step. */
    Step login(MyClientAuth server, String user, String password, String clientPlugin, boolean clientTls, boolean serverTls)
            throws Exception {
        wire.clear();
        MyBackendAuth client = new MyBackendAuth("proxy", password, clientTls);
        byte[] first = client.firstResponse(clientPlugin, server.scramble());
        Step s = server.start(user, client.plugin(), first, serverTls);
        while (s instanceof Step.Send send) {
            wire.add(describe(send.payload()));
            byte[] reply = client.next(send.payload());
            assertNotNull(reply, "the client must answer " + describe(send.payload()));
            s = server.next(reply);
        }
        if (s instanceof Step.Ok ok && ok.before() != null) {
            wire.add(describe(ok.before()));
            assertNull(client.next(ok.before()), "after fast auth success the client waits for the OK");
        }
        return s;
    }

    static String describe(byte[] p) {
        if ((p[0] & 0xFF) == 0xFE) {
            int nul = 1;
            while (p[nul] != 0) {
                nul++;
            }
            assertEquals(nul + 1 + 20 + 1, p.length, "0xFE plugin\\0 + 20-byte scramble + NUL");
            assertEquals(0, p[p.length - 1]);
            return "switch:" + new String(p, 1, nul - 1, StandardCharsets.US_ASCII);
        }
        if (Arrays.equals(p, new byte[] {1, 4})) {
            return "full";
        }
        if (Arrays.equals(p, new byte[] {1, 3})) {
            return "fast";
        }
        if (p[0] == 1 && new String(p, 1, p.length - 1, StandardCharsets.US_ASCII).startsWith("-----BEGIN PUBLIC KEY-----")) {
            return "key";
        }
        return "?" + Arrays.toString(p);
    }

    static void assertOk(String user, Step s) {
        Step.Ok ok = assertInstanceOf(Step.Ok.class, s, () -> "expected OK, got " + s);
        assertEquals(user, ok.user());
    }

    static void assertDenied(String user, boolean usingPassword, Step s) {
        Step.Fail f = assertInstanceOf(Step.Fail.class, s, () -> "expected a failure, got " + s);
        assertEquals(1045, f.errno());
        assertEquals("28000", f.sqlState());
        assertEquals("Access denied for user '" + user + "'@'" + HOST + "' (using password: " + (usingPassword ? "YES" : "NO") + ")",
                f.message());
    }

    @Test
    void nativeUserWithNativeClientNeedsNoExtraPacket() throws Exception {
        assertOk("nat", login(server(false), "nat", "nat-pw", MyAuth.NATIVE, false, false));
        assertEquals(List.of(), wire);
    }

    @Test
    void nativeUserIsSwitchedFromSha2() throws Exception {
        MyClientAuth s = server(false);
        assertOk("nat", login(s, "nat", "nat-pw", MyAuth.SHA2, false, false));
        assertEquals(List.of("switch:mysql_native_password"), wire);
        assertDenied("nat", true, login(server(false), "nat", "wrong", MyAuth.SHA2, false, false));
    }

    @Test
    void clientsWithoutPluginAuthAreTakenAsNative() {
        MyClientAuth s = server(false);
        assertOk("nat", s.start("nat", null, MyAuth.nativeToken("nat-pw", s.scramble()), false));
    }

    @Test
    void sha2FullOverTlsThenFast() throws Exception {
        assertOk("sha", login(server(false), "sha", "sha-pw", MyAuth.SHA2, true, true));
        assertEquals(List.of("full"), wire, "first login: the password in clear over TLS");
        assertEquals(1, cache.size());
        assertOk("sha", login(server(false), "sha", "sha-pw", MyAuth.SHA2, false, false));
        assertEquals(List.of("fast"), wire, "second login, another connection: the cached hash, no password");
    }

    @Test
    void sha2FullViaRsaThenFast() throws Exception {
        assertOk("sha", login(server(false), "sha", "sha-pw", MyAuth.SHA2, false, false));
        assertEquals(List.of("full", "key"), wire);
        assertOk("sha", login(server(false), "sha", "sha-pw", MyAuth.SHA2, false, false));
        assertEquals(List.of("fast"), wire);
    }

    @Test
    void sha2UserIsSwitchedFromNative() throws Exception {
        assertOk("sha", login(server(false), "sha", "sha-pw", MyAuth.NATIVE, false, false));
        assertEquals(List.of("switch:caching_sha2_password", "full", "key"), wire);
        assertOk("sha", login(server(false), "sha", "sha-pw", MyAuth.NATIVE, true, true));
        assertEquals(List.of("switch:caching_sha2_password", "fast"), wire, "the cache works after a switch too");
    }

    @Test
    void wrongPasswordsAreDenied() throws Exception {
        assertDenied("nat", true, login(server(false), "nat", "wrong", MyAuth.NATIVE, false, false));
        assertDenied("nat", false, login(server(false), "nat", "", MyAuth.NATIVE, false, false));
        assertDenied("sha", true, login(server(false), "sha", "wrong", MyAuth.SHA2, false, false));
        assertEquals(List.of("full", "key"), wire);
        assertDenied("sha", true, login(server(false), "sha", "wrong", MyAuth.SHA2, true, true));
        assertDenied("sha", true, login(server(false), "sha", "x".repeat(100_000), MyAuth.SHA2, true, true));
        assertTrue(cache.isEmpty(), "failures cache nothing");
        // with the right password cached, a wrong one is asked for in full and then denied
        assertOk("sha", login(server(false), "sha", "sha-pw", MyAuth.SHA2, true, true));
        assertDenied("sha", true, login(server(false), "sha", "wrong", MyAuth.SHA2, true, true));
        assertEquals(List.of("full"), wire);
    }

    @Test
    void unknownUsersAreDeniedAtOnce() throws Exception {
        assertDenied("nobody", true, login(server(false), "nobody", "x", MyAuth.SHA2, false, false));
        assertEquals(List.of(), wire);
        assertDenied("nobody", false, login(server(false), "nobody", "", MyAuth.NATIVE, false, false));
    }

    @Test
    void trustLetsAnyoneIn() throws Exception {
        assertOk("nobody", login(server(true), "nobody", "", MyAuth.SHA2, false, false));
        assertOk("nat", login(server(true), "nat", "wrong", MyAuth.SHA2, false, false));
        assertEquals(List.of(), wire);
    }

    @Test
    void emptyPasswordsWork() throws Exception {
        assertOk("nat0", login(server(false), "nat0", "", MyAuth.NATIVE, false, false));
        assertOk("sha0", login(server(false), "sha0", "", MyAuth.SHA2, false, false));
        assertOk("sha0", login(server(false), "sha0", "", MyAuth.NATIVE, false, false));
        assertDenied("nat0", true, login(server(false), "nat0", "x", MyAuth.NATIVE, false, false));
        assertDenied("sha0", true, login(server(false), "sha0", "x", MyAuth.SHA2, true, true));
        assertDenied("sha", false, login(server(false), "sha", "", MyAuth.SHA2, false, false));
    }

    @Test
    void cleartextOverPlainTcpIsRefused() throws Exception {
        // the client believes its connection is TLS, the proxy knows it is not
        assertDenied("sha", true, login(server(false), "sha", "sha-pw", MyAuth.SHA2, true, false));
        assertTrue(cache.isEmpty());
    }

    @Test
    void withoutAnRsaKeyFullAuthNeedsTls() throws Exception {
        MyClientAuth s = new MyClientAuth(USERS, false, null, RANDOM, cache, HOST);
        assertDenied("sha", true, login(s, "sha", "sha-pw", MyAuth.SHA2, false, false));
        assertOk("sha", login(new MyClientAuth(USERS, false, null, RANDOM, cache, HOST), "sha", "sha-pw", MyAuth.SHA2, true, true));
    }

    @Test
    void aPasswordChangeInvalidatesTheCachedHash() throws Exception {
        assertOk("sha", login(server(false), "sha", "sha-pw", MyAuth.SHA2, true, true));
        Map<String, MyClientAuth.User> reloaded = Map.of("sha", new MyClientAuth.User("sha", MyAuth.sha2Hash("new-pw")));
        MyClientAuth s = new MyClientAuth(reloaded, false, MyAuthTest.RSA, RANDOM, cache, HOST);
        assertDenied("sha", true, login(s, "sha", "sha-pw", MyAuth.SHA2, true, true));
        assertEquals(List.of("full"), wire, "the old password's cached hash is not consulted");
        assertOk("sha", login(new MyClientAuth(reloaded, false, MyAuthTest.RSA, RANDOM, cache, HOST), "sha", "new-pw", MyAuth.SHA2, true, true));
    }

    @Test
    void aClientKnowingTheKeySendsCiphertextStraightAway() throws Exception {
        MyClientAuth s = server(false);
        assertEquals("full", describe(((Step.Send) s.start("sha", MyAuth.SHA2, MyAuth.sha2Token("sha-pw", s.scramble()), false)).payload()));
        assertOk("sha", s.next(MyAuth.encryptPassword("sha-pw", s.scramble(), MyAuthTest.RSA.publicPem())));
    }

    @Test
    void packetsAfterTheEndAreABadHandshake() {
        MyClientAuth s = server(false);
        assertOk("nat", s.start("nat", MyAuth.NATIVE, MyAuth.nativeToken("nat-pw", s.scramble()), false));
        Step.Fail f = assertInstanceOf(Step.Fail.class, s.next(new byte[] {1}));
        assertEquals(1043, f.errno());
        assertEquals("08S01", f.sqlState());
        assertInstanceOf(Step.Fail.class, s.start("nat", MyAuth.NATIVE, new byte[0], false));
        assertInstanceOf(Step.Fail.class, server(false).next(new byte[] {2}), "next before start");
    }

    @Test
    void scramblesAreLikeMySqls() {
        for (int i = 0; i < 200; i++) {
            byte[] s = server(false).scramble();
            assertEquals(20, s.length);
            for (byte b : s) {
                assertTrue(b > 0 && b != '$', () -> Arrays.toString(s));
            }
        }
        MyClientAuth s = server(false);
        assertArrayEquals(s.scramble(), s.scramble());
        assertFalse(Arrays.equals(s.scramble(), server(false).scramble()));
        assertEquals("caching_sha2_password", s.greetingPlugin());
    }
}
