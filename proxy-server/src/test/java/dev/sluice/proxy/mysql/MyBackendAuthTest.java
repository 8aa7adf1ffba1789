package dev.sluice.proxy.mysql;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The backend login's edges that a round trip with MyClientAuth never reaches: what real servers may send. */
class MyBackendAuthTest {
    static final byte[] SCRAMBLE = MyAuthTest.bytes(1, 20);

    static byte[] authSwitch(String plugin, byte[] data) {
        byte[] name = plugin.getBytes(StandardCharsets.US_ASCII);
        byte[] out = new byte[1 + name.length + 1 + data.length];
        out[0] = (byte) 0xFE;
        System.arraycopy(name, 0, out, 1, name.length);
        System.arraycopy(data, 0, out, name.length + 2, data.length);
        return out;
    }

    @Test
    void greetingScrambleMayCarryItsNul() {
        MyBackendAuth a = new MyBackendAuth("n1", "pw", false);
        byte[] withNul = java.util.Arrays.copyOf(SCRAMBLE, 21);
        assertArrayEquals(MyAuth.nativeToken("pw", SCRAMBLE), a.firstResponse(MyAuth.NATIVE, withNul));
        assertEquals(MyAuth.NATIVE, a.plugin());
        assertArrayEquals(MyAuth.sha2Token("pw", SCRAMBLE), a.firstResponse(MyAuth.SHA2, withNul));
        assertEquals(MyAuth.SHA2, a.plugin());
    }

    @Test
    void anUnknownGreetingPluginIsAnsweredAsNative() {
        // the greeting names the server's default; the account's own plugin comes by AuthSwitchRequest
        MyBackendAuth a = new MyBackendAuth("n1", "pw", false);
        assertArrayEquals(MyAuth.nativeToken("pw", SCRAMBLE), a.firstResponse("client_ed25519", SCRAMBLE));
        assertEquals(MyAuth.NATIVE, a.plugin());
        assertArrayEquals(MyAuth.nativeToken("pw", SCRAMBLE), new MyBackendAuth("n1", "pw", false).firstResponse(null, SCRAMBLE));
    }

    @Test
    void aSwitchToAnUnsupportedPluginNamesIt() {
        MyBackendAuth a = new MyBackendAuth("X", "pw", false);
        a.firstResponse(MyAuth.NATIVE, SCRAMBLE);
        IOException e = assertThrows(IOException.class, () -> a.next(authSwitch("ed25519", SCRAMBLE)));
        assertEquals("node X: backend asks for auth plugin 'ed25519', Sluice supports mysql_native_password and caching_sha2_password",
                e.getMessage());
    }

    @Test
    void aSwitchUsesTheNewScramble() throws Exception {
        MyBackendAuth a = new MyBackendAuth("n1", "pw", false);
        a.firstResponse(MyAuth.SHA2, SCRAMBLE);
        byte[] fresh = MyAuthTest.bytes(30, 49);
        byte[] withNul = java.util.Arrays.copyOf(fresh, 21);
        assertArrayEquals(MyAuth.nativeToken("pw", fresh), a.next(authSwitch(MyAuth.NATIVE, withNul)));
        assertEquals(MyAuth.NATIVE, a.plugin());
        assertArrayEquals(MyAuth.sha2Token("pw", fresh), a.next(authSwitch(MyAuth.SHA2, fresh)));
        assertEquals(MyAuth.SHA2, a.plugin());
        assertArrayEquals(new byte[0], new MyBackendAuth("n1", "", false).next(authSwitch(MyAuth.NATIVE, fresh)),
                "no password: an empty answer, not null (null means send nothing)");
    }

    @Test
    void cachingSha2FullAuthenticationOverTlsSendsTheCleartext() throws Exception {
        MyBackendAuth a = new MyBackendAuth("n1", "pä", true);
        a.firstResponse(MyAuth.SHA2, SCRAMBLE);
        byte[] sent = a.next(new byte[] {1, 4});
        assertArrayEquals(new byte[] {'p', (byte) 0xC3, (byte) 0xA4, 0}, sent, "UTF-8 + NUL");
    }

    @Test
    void cachingSha2WithoutTlsFetchesTheKey() throws Exception {
        MyBackendAuth a = new MyBackendAuth("n1", "pw", false);
        a.firstResponse(MyAuth.SHA2, SCRAMBLE);
        assertArrayEquals(new byte[] {2}, a.next(new byte[] {1, 4}));
        byte[] pem = MyAuthTest.RSA.publicPem().getBytes(StandardCharsets.US_ASCII);
        byte[] keyPacket = new byte[pem.length + 1];
        keyPacket[0] = 1;
        System.arraycopy(pem, 0, keyPacket, 1, pem.length);
        assertEquals("pw", MyAuthTest.RSA.decryptPassword(a.next(keyPacket), SCRAMBLE));
    }

    @Test
    void fastAuthSuccessMeansWaitForOk() throws Exception {
        MyBackendAuth a = new MyBackendAuth("n1", "pw", false);
        a.firstResponse(MyAuth.SHA2, SCRAMBLE);
        assertNull(a.next(new byte[] {1, 3}));
    }

    @Test
    void nonsenseIsAnIoExceptionNamingTheNode() {
        MyBackendAuth a = new MyBackendAuth("n7", "pw", false);
        a.firstResponse(MyAuth.NATIVE, SCRAMBLE);
        for (byte[] p : new byte[][] {{}, {1, 3}, {1, 4}, {0x42}, {(byte) 0xFE, 'x'}}) {
            IOException e = assertThrows(IOException.class, () -> a.next(p));
            assertTrue(e.getMessage().startsWith("node n7: "), e.getMessage());
        }
        MyBackendAuth b = new MyBackendAuth("n7", "pw", false);
        b.firstResponse(MyAuth.SHA2, SCRAMBLE);
        assertThrows(IOException.class, () -> b.next(new byte[] {1, 9}));
        MyBackendAuth c = new MyBackendAuth("n7", "pw", false);
        c.firstResponse(MyAuth.SHA2, SCRAMBLE);
        IOException e = assertThrows(IOException.class, () -> {
            c.next(new byte[] {1, 4});
            c.next(new byte[] {1, 'n', 'o', 't', ' ', 'a', ' ', 'k', 'e', 'y'});
        });
        assertTrue(e.getMessage().contains("RSA public key"), e.getMessage());
    }
}
