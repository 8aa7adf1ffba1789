package dev.sluice.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** pgjdbc behind HikariCP, through the proxy: routing, server-side prepared statements, transactions, session state, errors. */
class JdbcThroughProxyIT {
    static ProxyFixture f;
    static HikariDataSource ds;

    @BeforeAll
    static void start() throws Exception {
        f = ProxyFixture.start("jdbc-proxy-pg", 2, null, null);
        HikariConfig hc = new HikariConfig();
        hc.setJdbcUrl(f.jdbcUrl() + "?prepareThreshold=1"); // server-side named statements from the first use
        hc.setUsername(ProxyFixture.USER);
        hc.setPassword(ProxyFixture.PASSWORD);
        hc.setMaximumPoolSize(4);
        ds = new HikariDataSource(hc);
        try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS items (id int PRIMARY KEY, name text, written_on int)");
        }
        f.cluster.waitForReplication(Duration.ofSeconds(10));
    }

    @AfterAll
    static void stop() {
        if (ds != null) {
            ds.close();
        }
        if (f != null) {
            f.close();
        }
    }

    static String where(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT inet_server_port()")) {
            rs.next();
            return f.node(rs.getInt(1));
        }
    }

    @Test
    void preparedReadsSpreadOverReplicasAndWritesHitThePrimary() throws Exception {
        try (Connection c = ds.getConnection()) {
            try (PreparedStatement ins = c.prepareStatement("INSERT INTO items VALUES (?, ?, inet_server_port()) RETURNING written_on")) {
                for (int i = 1; i <= 10; i++) {
                    ins.setInt(1, i);
                    ins.setString(2, "item " + i);
                    try (ResultSet rs = ins.executeQuery()) {
                        rs.next();
                        assertEquals(f.primaryName(), f.node(rs.getInt(1)));
                    }
                }
            }
            f.cluster.waitForReplication(Duration.ofSeconds(10));
            Set<String> readers = new HashSet<>();
            try (PreparedStatement q = c.prepareStatement("SELECT name, inet_server_port() FROM items WHERE id = ?")) {
                for (int i = 1; i <= 10; i++) {
                    q.setInt(1, i);
                    try (ResultSet rs = q.executeQuery()) {
                        assertTrue(rs.next(), "row " + i + " visible");
                        assertEquals("item " + i, rs.getString(1));
                        readers.add(f.node(rs.getInt(2)));
                    }
                }
            }
            assertEquals(new HashSet<>(f.replicaNames()), readers, "one named statement ran on both replicas");
        }
    }

    @Test
    void transactionsStayOnOneNode() throws Exception {
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            String first = where(c);
            try (Statement st = c.createStatement()) {
                st.executeUpdate("UPDATE items SET name = name WHERE id = 1");
            }
            assertEquals(first, where(c));
            assertEquals(f.primaryName(), first, "a read-write transaction runs on the primary");
            c.commit();

            c.setReadOnly(true); // pgjdbc: BEGIN READ ONLY
            String ro = where(c);
            assertTrue(f.replicaNames().contains(ro), "read-only transaction on a replica, got " + ro);
            assertEquals(ro, where(c), "same replica for the whole transaction");
            c.commit();
            c.setReadOnly(false);
            c.setAutoCommit(true);
        }
    }

    @Test
    void sessionStateFollowsTheSessionToEveryNode() throws Exception {
        try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
            st.execute("SET application_name = 'proxy-state-test'");
            Set<String> seen = new HashSet<>();
            for (int i = 0; i < 6; i++) {
                try (ResultSet rs = st.executeQuery("SELECT current_setting('application_name'), inet_server_port()")) {
                    rs.next();
                    assertEquals("proxy-state-test", rs.getString(1), "on " + f.node(rs.getInt(2)));
                    seen.add(f.node(rs.getInt(2)));
                }
            }
            try (ResultSet rs = st.executeQuery("/* sluice:primary */ SELECT current_setting('application_name')")) {
                rs.next();
                assertEquals("proxy-state-test", rs.getString(1), "on the primary");
            }
            assertEquals(2, seen.size(), "reads on both replicas: " + seen);
            st.execute("RESET application_name");
        }
    }

    @Test
    void backendErrorsKeepTheirSqlStateAndTheSessionGoesOn() throws Exception {
        try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
            SQLException e = assertThrows(SQLException.class, () -> st.executeQuery("SELECT * FROM no_such_table"));
            assertEquals("42P01", e.getSQLState());
            SQLException dup = assertThrows(SQLException.class, () -> st.executeUpdate("INSERT INTO items VALUES (1, 'dup', 0)"));
            assertEquals("23505", dup.getSQLState());
            c.setAutoCommit(false);
            assertThrows(SQLException.class, () -> st.executeQuery("SELECT 1/0"));
            SQLException aborted = assertThrows(SQLException.class, () -> st.executeQuery("SELECT 1"));
            assertEquals("25P02", aborted.getSQLState(), "the server's own aborted-transaction state");
            c.rollback();
            c.setAutoCommit(true);
            try (ResultSet rs = st.executeQuery("SELECT 42")) {
                rs.next();
                assertEquals(42, rs.getInt(1));
            }
        }
    }

    @Test
    void tempTablePinsTheSessionToThePrimary() throws Exception {
        // its own connection: a pinned session stays pinned, and must not pin the pool's connections for other tests
        try (Connection c = java.sql.DriverManager.getConnection(f.jdbcUrl(), ProxyFixture.USER, ProxyFixture.PASSWORD);
             Statement st = c.createStatement()) {
            st.execute("CREATE TEMP TABLE scratch (x int)");
            st.execute("INSERT INTO scratch VALUES (7)");
            for (int i = 0; i < 3; i++) {
                try (ResultSet rs = st.executeQuery("SELECT x, inet_server_port() FROM scratch")) {
                    rs.next();
                    assertEquals(7, rs.getInt(1));
                    assertEquals(f.primaryName(), f.node(rs.getInt(2)));
                }
            }
            st.execute("DROP TABLE scratch");
            assertEquals(f.primaryName(), where(c), "the session stays pinned (the proxy cannot know no temp table is left)");
        }
    }
}
