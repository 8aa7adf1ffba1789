package dev.sluice.proxy.net;

import io.netty.handler.ssl.SslContext;
import java.net.InetSocketAddress;
import java.util.Map;

/**
 * What a client-facing proxy listener (PostgreSQL or MySQL) needs from its surroundings. Both engines take the same
 * settings; they differ only in the values {@code auth} and {@code users} may hold, which the proxy checks.
 *
 * @param auth  the login method, as configured: PostgreSQL {@code scram-sha-256}, {@code md5} or {@code trust};
 *              MySQL {@code password} or {@code trust}
 * @param users user name → stored secret: for PostgreSQL a SCRAM-SHA-256 verifier or an md5 hash; for MySQL a
 *              mysql_native_password hash ({@code *HEX}) or a SHA-256-crypt string ({@code $5$…}) for
 *              caching_sha2_password
 * @param ssl   null: no TLS offered
 */
public record ListenerSettings(InetSocketAddress listen, String auth, Map<String, String> users, SslContext ssl,
                               boolean tlsRequired, int maxClients, int maxMessageBytes, int threads, int authTimeoutMs,
                               boolean logRoutes, int authFailureLimit, int authFailureWindowMs) {
    /** No password asked (allowed only on a loopback listener, which the configuration checks). */
    public boolean trust() {
        return "trust".equals(auth);
    }
}
