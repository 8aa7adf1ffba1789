package dev.sluice.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Client authentication at the proxy with pgjdbc (and a raw socket to look at what the proxy asks for).
 * The proxy runs with {@code auth: md5}: the md5 user gets md5, the SCRAM user still gets SCRAM (as in
 * PostgreSQL), so both methods are exercised by one proxy.
 */
class AuthIT {
    static ProxyFixture f;

    @BeforeAll
    static void start() throws Exception {
        f = ProxyFixture.start("auth-pg", 0, null, "  auth: md5\n");
    }

    @AfterAll
    static void stop() {
        if (f != null) {
            f.close();
        }
    }

    static Connection connect(String database, String user, String password) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        p.setProperty("password", password);
        p.setProperty("connectTimeout", "20");
        return DriverManager.getConnection("jdbc:postgresql://" + f.host() + ":" + f.port() + "/" + database, p);
    }

    static String sqlStateOfLogin(String database, String user, String password) {
        SQLException e = assertThrows(SQLException.class, () -> connect(database, user, password).close(),
                "login of " + user + " to " + database + " must fail");
        return e.getSQLState() + " " + e.getMessage();
    }

    static void works(Connection c) throws SQLException {
        try (ResultSet rs = c.createStatement().executeQuery("SELECT 40 + 2")) {
            assertTrue(rs.next());
            assertEquals(42, rs.getInt(1));
        }
    }

    @Test
    void scramUserWithTheRightPasswordLogsIn() throws Exception {
        try (Connection c = connect(f.cluster.database(), ProxyFixture.USER, ProxyFixture.PASSWORD)) {
            works(c);
        }
    }

    @Test
    void wrongPasswordIs28P01() {
        String s = sqlStateOfLogin(f.cluster.database(), ProxyFixture.USER, "not-the-password");
        assertTrue(s.startsWith("28P01 "), s);
        assertTrue(s.contains("password authentication failed for user \"app\""), s);
    }

    @Test
    void unknownUserIs28P01LikeAWrongPassword() {
        // the same answer as a wrong password: a client cannot probe which user names exist
        String s = sqlStateOfLogin(f.cluster.database(), "nobody-here", "whatever");
        assertTrue(s.startsWith("28P01 "), s);
    }

    @Test
    void md5UserLogsInAndAWrongMd5PasswordIs28P01() throws Exception {
        try (Connection c = connect(f.cluster.database(), ProxyFixture.MD5_USER, ProxyFixture.MD5_PASSWORD)) {
            works(c);
        }
        String s = sqlStateOfLogin(f.cluster.database(), ProxyFixture.MD5_USER, "wrong");
        assertTrue(s.startsWith("28P01 "), s);
    }

    @Test
    void underScramOnlyAnMd5OnlyUserCannotLogIn() throws Exception {
        // auth: scram-sha-256 (the default) asks everyone for SCRAM, which an md5 hash cannot answer (as in PostgreSQL)
        try (ProxyFixture scram = ProxyFixture.start("auth-scram-pg", 0, null, null)) {
            Properties p = new Properties();
            p.setProperty("user", ProxyFixture.MD5_USER);
            p.setProperty("password", ProxyFixture.MD5_PASSWORD);
            SQLException e = assertThrows(SQLException.class, () -> DriverManager.getConnection(scram.jdbcUrl(), p).close());
            assertEquals("28P01", e.getSQLState(), e.getMessage());
            p.setProperty("user", ProxyFixture.USER);
            p.setProperty("password", ProxyFixture.PASSWORD);
            try (Connection c = DriverManager.getConnection(scram.jdbcUrl(), p)) {
                works(c);
            }
        }
    }

    @Test
    void otherDatabaseIs3D000() {
        String s = sqlStateOfLogin("postgres", ProxyFixture.USER, ProxyFixture.PASSWORD);
        assertTrue(s.startsWith("3D000 "), s);
        // a user with no database parameter asks for the database named like the user (libpq's default)
        String d = sqlStateOfLogin("app", ProxyFixture.USER, ProxyFixture.PASSWORD);
        assertTrue(d.startsWith("3D000 "), d);
    }

    @Test
    void trustIsNotUsedEveryoneIsAskedForAPassword() throws Exception {
        // what the proxy sends right after the startup packet, before any password: never AuthenticationOk (0)
        for (var e : Map.of(ProxyFixture.USER, 10, ProxyFixture.MD5_USER, 5, "nobody-here", 10).entrySet()) {
            try (RawPg raw = new RawPg(f.host(), f.port())) {
                raw.send(RawPg.startupPacket(Map.of("user", e.getKey(), "database", f.cluster.database())));
                RawPg.Msg m = raw.read();
                assertEquals('R', m.type(), e.getKey() + ": " + m);
                assertEquals(e.getValue(), m.authCode(), e.getKey() + ": 10 = SASL (SCRAM-SHA-256), 5 = md5; never 0 (trust)");
            }
        }
        // and a client that has no password gets no further (pgjdbc: no password configured)
        Properties p = new Properties();
        p.setProperty("user", ProxyFixture.USER);
        SQLException noPw = assertThrows(SQLException.class,
                () -> DriverManager.getConnection("jdbc:postgresql://" + f.host() + ":" + f.port() + "/" + f.cluster.database(), p).close());
        assertTrue(noPw.getMessage().contains("password"), noPw.getMessage());
    }

    static Connection connectFrom(String source, String user, String password) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        p.setProperty("password", password);
        p.setProperty("connectTimeout", "20");
        p.setProperty("localSocketAddress", source); // the whole of 127/8 is loopback: another client address on this machine
        return DriverManager.getConnection("jdbc:postgresql://" + f.host() + ":" + f.port() + "/" + f.cluster.database(), p);
    }

    @Test
    void fiveFailedLoginsFromOneAddressLockItOutButNoOtherAddress() throws Exception {
        String attacker = "127.0.0.7";
        try (Connection c = connectFrom(attacker, ProxyFixture.USER, ProxyFixture.PASSWORD)) {
            works(c); // a success does not count
        }
        for (int i = 0; i < 5; i++) { // auth-failure-limit: 5 (the default), wrong passwords and unknown users alike
            String user = i % 2 == 0 ? ProxyFixture.USER : "nobody-" + i;
            SQLException e = assertThrows(SQLException.class, () -> connectFrom(attacker, user, "guess").close());
            assertEquals("28P01", e.getSQLState(), "failure " + (i + 1) + ": " + e.getMessage());
        }
        // now even the right password is refused from that address, before any password is asked for
        SQLException locked = assertThrows(SQLException.class, () -> connectFrom(attacker, ProxyFixture.USER, ProxyFixture.PASSWORD).close());
        assertEquals("28000", locked.getSQLState(), locked.getMessage());
        assertTrue(locked.getMessage().contains("too many failed logins from this address; try again in"), locked.getMessage());
        assertTrue(locked.getMessage().contains("(auth-failure-limit)"), locked.getMessage());
        try (RawPg raw = new RawPg(f.host(), f.port(), attacker)) {
            raw.send(RawPg.startupPacket(Map.of("user", ProxyFixture.USER, "database", f.cluster.database())));
            RawPg.Msg m = raw.read();
            assertEquals('E', m.type(), "no authentication request for a locked-out address: " + m);
        }
        // other addresses are not affected
        try (Connection c = connectFrom("127.0.0.8", ProxyFixture.USER, ProxyFixture.PASSWORD)) {
            works(c);
        }
        try (Connection c = connect(f.cluster.database(), ProxyFixture.USER, ProxyFixture.PASSWORD)) {
            works(c);
        }
    }
}
