package dev.sluice.proxy.mysql;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Map;

/**
 * The server side of one client connection's MySQL authentication, as a state machine over packet
 * payloads (the caller frames them and keeps the sequence numbers).
 *
 * <p>The conversation, and why each step is there:
 * <ol>
 * <li>The greeting offers {@code caching_sha2_password} with {@link #scramble()}: MySQL 8 clients expect it,
 * and older ones answer with {@code mysql_native_password} anyway, computed over the same scramble.
 * <li>The HandshakeResponse41 ({@link #start}) carries the plugin the client chose and its token. When that
 * is not the plugin the user's stored secret can check, the proxy sends an AuthSwitchRequest
 * ({@code 0xFE plugin\0 scramble\0}) with a fresh scramble, because a token is only good for the plugin it
 * was made for, and a fresh scramble keeps the answer from being one seen before on this connection.
 * <li>{@code caching_sha2_password}: the SHA-256 token can only be checked against SHA256(SHA256(pw)),
 * which the stored crypt string does not give. So the first login of a user needs the password itself:
 * {@code 0x01 0x04} ("perform full authentication"); the client sends it in clear over TLS, or over plain
 * TCP first asks for the proxy's RSA key ({@code 0x02} → {@code 0x01 + PEM}) and sends it encrypted. After
 * that login succeeds, SHA256(SHA256(pw)) goes into the caller's fast-auth cache, and later logins end
 * with {@code 0x01 0x03} ("fast auth success") followed by OK, exactly as against a MySQL server. A cleartext
 * password on a plain connection is refused, since it has already crossed the network readable.
 * <li>Failures answer like MySQL (1045, 28000, "Access denied ... (using password: YES|NO)"), so clients
 * and their users see the message they know.
 * </ol>
 * The cache is keyed by user name and stored secret together: after a config reload changes a password,
 * the old cached value is never consulted again.
 */
final class MyClientAuth {
    /** A configured client user: name and stored secret ({@link MyAuth#nativeHash} or {@link MyAuth#sha2Hash} form). */
    record User(String name, String secret) {
    }

    /** What the caller does next. */
    sealed interface Step {
        /** Send this payload as one packet and wait for the client's next one ({@link #next}). */
        record Send(byte[] payload) implements Step {
        }

        /**
         * Authenticated: send {@code before} (when not null) as one packet, then the OK packet.
         * {@code before} is caching_sha2's "fast auth success", which a client waits for ahead of the OK.
         */
        record Ok(String user, byte[] before) implements Step {
            Ok(String user) {
                this(user, null);
            }
        }

        /** Send an ERR packet with these and close the connection. */
        record Fail(int errno, String sqlState, String message) implements Step {
        }
    }

    static final int ER_ACCESS_DENIED = 1045;
    static final int ER_HANDSHAKE_ERROR = 1043;
    static final byte[] FAST_AUTH_SUCCESS = {0x01, 0x03};
    static final byte[] PERFORM_FULL_AUTH = {0x01, 0x04};
    static final byte REQUEST_PUBLIC_KEY = 0x02;

    private enum State { NEW, NATIVE_SWITCHED, SHA2_SWITCHED, SHA2_FULL, SHA2_RSA, DONE }

    private final Map<String, User> users;
    private final boolean trust;
    private final MyAuth.RsaKeys rsa;
    private final SecureRandom random;
    private final Map<String, byte[]> fastCache;
    private final String host;
    private final byte[] greetingScramble;
    private byte[] scramble;
    private State state = State.NEW;
    private String userName;
    private User user;
    private boolean secure;

    /**
     * @param users     configured users by name
     * @param trust     accept every user name without a password
     * @param rsa       the proxy's key for caching_sha2 full auth without TLS (null: such clients fail)
     * @param fastCache SHA256(SHA256(pw)) of users that logged in fully; thread-safe, outlives connections
     * @param host      the host part of "Access denied for user 'u'@'host'" (the client's address)
     */
    MyClientAuth(Map<String, User> users, boolean trust, MyAuth.RsaKeys rsa, SecureRandom random,
                 Map<String, byte[]> fastCache, String host) {
        this.users = users;
        this.trust = trust;
        this.rsa = rsa;
        this.random = random;
        this.fastCache = fastCache;
        this.host = host;
        this.greetingScramble = newScramble(random);
        this.scramble = greetingScramble;
    }

    /** 20 random bytes for the greeting (auth-plugin-data parts 1 and 2). */
    byte[] scramble() {
        return greetingScramble.clone();
    }

    String greetingPlugin() {
        return MyAuth.SHA2;
    }

    /**
     * The client's HandshakeResponse41 fields. {@code clientPlugin} is null for a client without
     * CLIENT_PLUGIN_AUTH, whose 4.1 token is mysql_native_password's. {@code secure}: the connection is TLS.
     */
    Step start(String user, String clientPlugin, byte[] authResponse, boolean secure) {
        if (state != State.NEW) {
            return badHandshake();
        }
        this.userName = user == null ? "" : user;
        this.secure = secure;
        if (trust) {
            return ok(null);
        }
        this.user = users.get(userName);
        if (this.user == null) {
            return denied(!MyAuth.isEmptyResponse(authResponse));
        }
        String plugin = clientPlugin == null ? MyAuth.NATIVE : clientPlugin;
        if (MyAuth.looksNative(this.user.secret())) {
            if (plugin.equals(MyAuth.NATIVE)) {
                return checkNative(authResponse);
            }
            return switchTo(MyAuth.NATIVE, State.NATIVE_SWITCHED);
        }
        if (MyAuth.looksSha2(this.user.secret())) {
            if (plugin.equals(MyAuth.SHA2)) {
                return sha2Token(authResponse);
            }
            return switchTo(MyAuth.SHA2, State.SHA2_SWITCHED);
        }
        // config validation keeps other forms out; should one slip through, nobody logs in with it
        return denied(!MyAuth.isEmptyResponse(authResponse));
    }

    /** The client's next packet payload while the conversation goes on (after a {@link Step.Send}). */
    Step next(byte[] payload) {
        switch (state) {
            case NATIVE_SWITCHED:
                return checkNative(payload);
            case SHA2_SWITCHED:
                return sha2Token(payload);
            case SHA2_FULL:
                return fullAuth(payload);
            case SHA2_RSA:
                return rsaPassword(payload);
            default:
                return badHandshake();
        }
    }

    private Step switchTo(String plugin, State next) {
        scramble = newScramble(random);
        byte[] name = plugin.getBytes(StandardCharsets.US_ASCII);
        byte[] out = new byte[1 + name.length + 1 + scramble.length + 1];
        out[0] = (byte) 0xFE;
        System.arraycopy(name, 0, out, 1, name.length);
        // the NUL after the scramble is what MySQL servers send; clients drop it
        System.arraycopy(scramble, 0, out, name.length + 2, scramble.length);
        state = next;
        return new Step.Send(out);
    }

    private Step checkNative(byte[] token) {
        return MyAuth.verifyNative(user.secret(), scramble, token) ? ok(null) : denied(!MyAuth.isEmptyResponse(token));
    }

    private Step sha2Token(byte[] token) {
        if (MyAuth.isEmptyResponse(token)) {
            // no password sent: only an account whose password is empty gets in, no cache involved
            return MyAuth.verifySha2Full(user.secret(), "") ? ok(null) : denied(false);
        }
        if (MyAuth.verifySha2Fast(fastCache.get(cacheKey()), scramble, token)) {
            return ok(FAST_AUTH_SUCCESS.clone());
        }
        // not cached, or cached for a password this token does not match: MySQL asks for the password then too
        state = State.SHA2_FULL;
        return new Step.Send(PERFORM_FULL_AUTH.clone());
    }

    private Step fullAuth(byte[] payload) {
        if (payload.length == 1 && payload[0] == REQUEST_PUBLIC_KEY) {
            if (rsa == null) {
                return denied(true);
            }
            byte[] pem = rsa.publicPem().getBytes(StandardCharsets.US_ASCII);
            byte[] out = new byte[1 + pem.length];
            out[0] = 0x01;
            System.arraycopy(pem, 0, out, 1, pem.length);
            state = State.SHA2_RSA;
            return new Step.Send(out);
        }
        if (secure) {
            int end = payload.length > 0 && payload[payload.length - 1] == 0 ? payload.length - 1 : payload.length;
            return checkFull(new String(payload, 0, end, StandardCharsets.UTF_8));
        }
        // plain TCP: a client that already has the proxy's key (server-public-key-path) sends ciphertext at once
        return rsaPassword(payload);
    }

    private Step rsaPassword(byte[] payload) {
        if (rsa == null) {
            return denied(true);
        }
        String password;
        try {
            password = rsa.decryptPassword(payload, scramble);
        } catch (GeneralSecurityException e) {
            // not our ciphertext: a cleartext password on a plain connection, or garbage
            return denied(true);
        }
        return checkFull(password);
    }

    private Step checkFull(String password) {
        if (!MyAuth.verifySha2Full(user.secret(), password)) {
            return denied(!password.isEmpty());
        }
        fastCache.put(cacheKey(), MyAuth.doubleSha256(password));
        return ok(null);
    }

    private String cacheKey() {
        return user.name() + '\0' + user.secret();
    }

    private Step ok(byte[] before) {
        state = State.DONE;
        return new Step.Ok(userName, before);
    }

    private Step denied(boolean usingPassword) {
        state = State.DONE;
        return new Step.Fail(ER_ACCESS_DENIED, "28000", "Access denied for user '" + userName + "'@'" + host
                + "' (using password: " + (usingPassword ? "YES" : "NO") + ")");
    }

    private Step badHandshake() {
        state = State.DONE;
        return new Step.Fail(ER_HANDSHAKE_ERROR, "08S01", "Bad handshake");
    }

    /**
     * Like MySQL's: 7-bit, never NUL (clients read the scramble as a NUL-terminated string) and never '$'
     * (which MySQL keeps out because the scramble may end up inside a crypt-style string).
     */
    static byte[] newScramble(SecureRandom random) {
        byte[] s = new byte[MyAuth.SCRAMBLE_LENGTH];
        random.nextBytes(s);
        for (int i = 0; i < s.length; i++) {
            s[i] = (byte) (s[i] & 0x7F);
            if (s[i] == 0 || s[i] == '$') {
                s[i]++;
            }
        }
        return s;
    }

    @Override
    public String toString() {
        // never the scramble or the secret: this object may end up in a log line
        return "MyClientAuth[" + userName + ", " + state + "]";
    }
}
