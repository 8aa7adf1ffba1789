package dev.sluice.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS between clients and the proxy: negotiated with psql (libpq) and pgjdbc when a certificate is
 * configured, refused cleanly when it is not, and enforced by {@code tls-required}. Each case runs its own
 * proxy over a one-node cluster.
 */
class TlsIT {
    @TempDir
    static Path dir;
    static Path cert;
    static Path key;

    @BeforeAll
    static void certificate() throws Exception {
        String openssl = ClientTools.require("openssl", "apt-get install openssl");
        ClientTools.require("psql", "apt-get install postgresql-client-15");
        cert = dir.resolve("cert.pem");
        key = dir.resolve("key.pem");
        // openssl 3 writes the key as PKCS#8 (BEGIN PRIVATE KEY), the format tls-key wants
        ProxyFixture.Run r = ProxyFixture.run(List.of(openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key.toString(),
                "-out", cert.toString(), "-days", "1", "-subj", "/CN=localhost"), java.util.Map.of(), null, Duration.ofSeconds(120));
        assertEquals(0, r.exit(), "openssl: " + r.err());
        assertTrue(Files.readString(key).contains("BEGIN PRIVATE KEY"), "PKCS#8 key expected");
    }

    static String tls(boolean required) {
        return "  tls-cert: " + cert + "\n  tls-key: " + key + "\n" + (required ? "  tls-required: true\n" : "");
    }

    static ProxyFixture.Run psql(ProxyFixture f, String conninfo) throws Exception {
        return ProxyFixture.run(List.of("psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", conninfo, "-c", "\\conninfo", "-c", "SELECT 40 + 2"),
                f.pgEnv(), null, Duration.ofSeconds(60));
    }

    static Connection jdbc(ProxyFixture f, String sslmode) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", ProxyFixture.USER);
        p.setProperty("password", ProxyFixture.PASSWORD);
        p.setProperty("sslmode", sslmode);
        p.setProperty("connectTimeout", "20");
        return DriverManager.getConnection(f.jdbcUrl(), p);
    }

    static void works(Connection c) throws SQLException {
        try (ResultSet rs = c.createStatement().executeQuery("SELECT 40 + 2")) {
            assertTrue(rs.next());
            assertEquals(42, rs.getInt(1));
        }
    }

    @Test
    void withACertificateClientsNegotiateTls() throws Exception {
        try (ProxyFixture f = ProxyFixture.start("tls-on-pg", 0, null, tls(false))) {
            ProxyFixture.Run r = psql(f, f.conninfo("sslmode=require"));
            assertEquals(0, r.exit(), r.err());
            assertTrue(r.out().contains("SSL connection (protocol: TLS"), "psql reports TLS: " + r.out());
            assertTrue(r.lines().contains("42"), r.out());

            // the certificate the proxy serves is the configured one: libpq verifies it against itself as root
            ProxyFixture.Run verified = psql(f, "host=localhost port=" + f.port() + " dbname=" + f.cluster.database() + " user="
                    + ProxyFixture.USER + " sslmode=verify-full sslrootcert=" + cert);
            assertEquals(0, verified.exit(), verified.err());
            assertTrue(verified.out().contains("SSL connection"), verified.out());

            // prefer takes TLS when offered; disable still works (TLS is not required here)
            ProxyFixture.Run prefer = psql(f, f.conninfo("sslmode=prefer"));
            assertEquals(0, prefer.exit(), prefer.err());
            assertTrue(prefer.out().contains("SSL connection"), prefer.out());
            ProxyFixture.Run plain = psql(f, f.conninfo("sslmode=disable"));
            assertEquals(0, plain.exit(), plain.err());
            assertFalse(plain.out().contains("SSL connection"), plain.out());

            try (Connection c = jdbc(f, "require")) {
                works(c);
            }
        }
    }

    @Test
    void withoutACertificateRequireFailsAndPreferFallsBack() throws Exception {
        try (ProxyFixture f = ProxyFixture.start("tls-off-pg", 0, null, null)) {
            ProxyFixture.Run r = psql(f, f.conninfo("sslmode=require"));
            assertNotEquals(0, r.exit(), r.out());
            assertTrue(r.err().contains("server does not support SSL"), r.err());

            ProxyFixture.Run prefer = psql(f, f.conninfo("sslmode=prefer"));
            assertEquals(0, prefer.exit(), prefer.err());
            assertFalse(prefer.out().contains("SSL connection"), prefer.out());
            assertTrue(prefer.lines().contains("42"), prefer.out());

            SQLException e = assertThrows(SQLException.class, () -> jdbc(f, "require").close());
            assertTrue(e.getMessage().contains("does not support SSL"), e.getMessage());
            try (Connection c = jdbc(f, "prefer")) {
                works(c);
            }
        }
    }

    @Test
    void tlsRequiredRefusesPlainClientsWithAClearMessage() throws Exception {
        try (ProxyFixture f = ProxyFixture.start("tls-req-pg", 0, null, tls(true))) {
            ProxyFixture.Run plain = psql(f, f.conninfo("sslmode=disable"));
            assertNotEquals(0, plain.exit(), plain.out());
            assertTrue(plain.err().contains("TLS is required"), plain.err());

            SQLException e = assertThrows(SQLException.class, () -> jdbc(f, "disable").close());
            assertEquals("28000", e.getSQLState(), e.getMessage());
            assertTrue(e.getMessage().contains("TLS is required"), e.getMessage());

            ProxyFixture.Run tls = psql(f, f.conninfo("sslmode=require"));
            assertEquals(0, tls.exit(), tls.err());
            assertTrue(tls.out().contains("SSL connection"), tls.out());
            try (Connection c = jdbc(f, "require")) {
                works(c);
                // pgjdbc sends its CancelRequest on a plain connection: like PostgreSQL, the proxy accepts
                // cancels without TLS (the key is the secret), so tls-required must not break cancelling
                CancelIT.sleepAndCancel(f, c, "cancel-under-tls-required");
                works(c);
            }
        }
    }
}
