package dev.sluice.proxy.mysql;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Arrays;

/**
 * The client side of logging in to one backend MariaDB/MySQL server (or, for the sharded session, to an inner
 * proxy): {@link #response} answers the greeting; the caller frames the other payloads and handles OK (0x00)
 * and ERR (0xFF) itself: every other packet of the login goes to {@link #next}).
 *
 * <p>The greeting's plugin is only the server's default; the account's own plugin, if different, arrives
 * as an AuthSwitchRequest with a new scramble. So an unknown greeting plugin is answered as
 * mysql_native_password (the server then switches us), and only a switch to a plugin Sluice cannot speak
 * is an error: the operator has to change that account, and the message says which plugin it has.
 *
 * <p>caching_sha2_password may ask for the password itself ("perform full authentication"): over TLS it
 * goes in clear, as the connection protects it; over plain TCP the server's RSA key is requested each time
 * rather than pinned, as the proxy has no configured key to check it against.
 */
public final class MyBackendAuth {
    private enum State { STARTED, SHA2_SENT, AWAIT_KEY, DONE }

    private final String node;
    private final String password;
    private final boolean secure;
    private String plugin;
    private byte[] scramble;
    private State state = State.STARTED;

    /**
     * @param node     the backend's name, for messages
     * @param password the configured backend password (null or "" for none)
     * @param secure   the backend connection is TLS
     */
    public MyBackendAuth(String node, String password, boolean secure) {
        this.node = node;
        this.password = password == null ? "" : password;
        this.secure = secure;
    }

    /**
     * The HandshakeResponse41 answering greeting {@code g}, asking for {@code caps} (CONNECT_WITH_DB added when
     * {@code database} is not null) as far as the server offers them.
     */
    public ByteBuf response(ByteBufAllocator alloc, int seq, Handshake.Greeting g, int caps, int collation, String user,
                            String database) {
        byte[] token = firstResponse(g.plugin(), g.scramble());
        int c = caps | (database != null ? My.CONNECT_WITH_DB : 0);
        return new Handshake.Response(c & g.caps(), My.MAX_PAYLOAD, collation, user, token, database, plugin(),
                Handshake.proxyAttrs(), false).encode(alloc, seq);
    }

    /** The auth response of HandshakeResponse41 for the greeting's plugin and scramble (auth-plugin-data). */
    byte[] firstResponse(String greetingPlugin, byte[] greetingScramble) {
        plugin = MyAuth.SHA2.equals(greetingPlugin) ? MyAuth.SHA2 : MyAuth.NATIVE;
        scramble = scrambleOf(greetingScramble);
        return token();
    }

    /** The plugin name to put into HandshakeResponse41: the one {@link #firstResponse} answered for. */
    String plugin() {
        return plugin;
    }

    /**
     * The server's next packet payload that is neither OK nor ERR. Returns the payload to send back, or
     * null when there is nothing to send and the server's OK (or ERR) comes next.
     *
     * @throws IOException for a plugin Sluice does not speak or a packet that makes no sense here
     */
    public byte[] next(byte[] serverPayload) throws IOException {
        if (serverPayload.length == 0) {
            throw unexpected("an empty packet");
        }
        int tag = serverPayload[0] & 0xFF;
        if (tag == 0xFE && state != State.AWAIT_KEY) {
            return authSwitch(serverPayload);
        }
        if (tag != 0x01) {
            throw unexpected(String.format("a packet starting 0x%02X", tag));
        }
        byte[] data = Arrays.copyOfRange(serverPayload, 1, serverPayload.length);
        if (state == State.AWAIT_KEY) {
            try {
                state = State.DONE;
                return MyAuth.encryptPassword(password, scramble, new String(data, StandardCharsets.US_ASCII));
            } catch (GeneralSecurityException e) {
                throw new IOException("node " + node + ": cannot use the backend's RSA public key: " + e.getMessage(), e);
            }
        }
        if (state != State.SHA2_SENT || data.length != 1) {
            throw unexpected("auth data (0x01) after " + plugin + " in state " + state);
        }
        if (data[0] == 0x03) { // fast auth success: the OK follows
            state = State.DONE;
            return null;
        }
        if (data[0] != 0x04) {
            throw unexpected(String.format("caching_sha2_password status 0x%02X", data[0]));
        }
        // perform full authentication: the server has no cached hash of this password yet
        if (secure) {
            state = State.DONE;
            byte[] pw = password.getBytes(StandardCharsets.UTF_8);
            return Arrays.copyOf(pw, pw.length + 1);
        }
        state = State.AWAIT_KEY;
        return new byte[] {MyClientAuth.REQUEST_PUBLIC_KEY};
    }

    private byte[] authSwitch(byte[] p) throws IOException {
        int nul = 1;
        while (nul < p.length && p[nul] != 0) {
            nul++;
        }
        if (nul == p.length) {
            throw unexpected("an AuthSwitchRequest without a plugin name");
        }
        String requested = new String(p, 1, nul - 1, StandardCharsets.US_ASCII);
        if (!requested.equals(MyAuth.NATIVE) && !requested.equals(MyAuth.SHA2)) {
            throw new IOException("node " + node + ": backend asks for auth plugin '" + requested
                    + "', Sluice supports " + MyAuth.NATIVE + " and " + MyAuth.SHA2);
        }
        plugin = requested;
        scramble = scrambleOf(Arrays.copyOfRange(p, nul + 1, p.length));
        return token();
    }

    private byte[] token() {
        if (plugin.equals(MyAuth.SHA2)) {
            state = State.SHA2_SENT;
            return MyAuth.sha2Token(password, scramble);
        }
        state = State.STARTED; // a native answer gets OK, ERR or another switch
        return MyAuth.nativeToken(password, scramble);
    }

    /** The 20 scramble bytes: servers terminate auth-plugin-data with a NUL that is not part of it. */
    private static byte[] scrambleOf(byte[] data) {
        int n = data.length;
        if (n > 0 && data[n - 1] == 0) {
            n--;
        }
        return Arrays.copyOf(data, n);
    }

    private IOException unexpected(String what) {
        return new IOException("node " + node + ": unexpected " + what + " during login");
    }

    @Override
    public String toString() {
        return "MyBackendAuth[" + node + ", " + plugin + ", " + state + "]";
    }
}
