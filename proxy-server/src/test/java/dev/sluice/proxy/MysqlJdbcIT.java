package dev.sluice.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * MySQL's Connector/J (behind HikariCP) and MariaDB Connector/J through the proxy, both with server-side
 * prepared statements (COM_STMT_PREPARE / EXECUTE): where statements ran, transactions ({@code SET
 * autocommit=0} as the drivers send it), a running query killed by the driver's cancel or timeout (a second
 * connection sending {@code KILL QUERY <id>}, the id from the first connection's handshake), a wrong password.
 */
class MysqlJdbcIT {
    /** jdbc:mysql: is MySQL Connector/J (pooled by HikariCP), jdbc:mariadb: MariaDB Connector/J. */
    static final String MYSQL = "mysql";
    static final String MARIADB = "mariadb";
    static MyProxyFixture f;
    static HikariDataSource pool;

    @BeforeAll
    static void start() throws Exception {
        f = MyProxyFixture.start("jdbc-maria", 2);
        HikariConfig hc = new HikariConfig();
        hc.setJdbcUrl(f.jdbcUrl(MYSQL, params(MYSQL)));
        hc.setUsername(MyProxyFixture.USER);
        hc.setPassword(MyProxyFixture.PASSWORD);
        hc.setMaximumPoolSize(4);
        pool = new HikariDataSource(hc);
        try (Connection c = pool.getConnection(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE items (id int PRIMARY KEY, name varchar(40), written_on int, driver varchar(10))");
        }
        f.cluster.waitForReplication(Duration.ofSeconds(30));
    }

    @AfterAll
    static void stop() {
        if (pool != null) {
            pool.close();
        }
        if (f != null) {
            f.close();
        }
    }

    static String params(String driver) {
        return MYSQL.equals(driver) ? "useServerPrepStmts=true&cachePrepStmts=true&connectTimeout=10000"
                : "useServerPrepStmts=true&connectTimeout=10000";
    }

    static Connection connect(String driver) throws SQLException {
        return MYSQL.equals(driver) ? pool.getConnection()
                : DriverManager.getConnection(f.jdbcUrl(MARIADB, params(MARIADB)), MyProxyFixture.USER, MyProxyFixture.PASSWORD);
    }

    static int port(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            assertTrue(rs.next());
            return rs.getInt(rs.getMetaData().getColumnCount());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {MYSQL, MARIADB})
    void preparedWritesRunOnThePrimaryAndPreparedReadsOnReplicas(String driver) throws Exception {
        int base = MYSQL.equals(driver) ? 0 : 100;
        try (Connection c = connect(driver)) {
            try (PreparedStatement ins = c.prepareStatement("INSERT INTO items VALUES (?, ?, @@port, ?)")) {
                for (int i = 1; i <= 10; i++) {
                    ins.setInt(1, base + i);
                    ins.setString(2, "item " + i + " 'q' ü");
                    ins.setString(3, driver);
                    assertEquals(1, ins.executeUpdate());
                }
            }
            f.cluster.waitForReplication(Duration.ofSeconds(30));
            Set<String> readers = new HashSet<>();
            try (PreparedStatement q = c.prepareStatement("SELECT name, written_on, @@port FROM items WHERE id = ?")) {
                for (int i = 1; i <= 10; i++) {
                    q.setInt(1, base + i);
                    try (ResultSet rs = q.executeQuery()) {
                        assertTrue(rs.next(), "row " + i + " visible");
                        assertEquals("item " + i + " 'q' ü", rs.getString(1));
                        f.assertOnPrimary(rs.getInt(2), driver + ": prepared INSERT");
                        f.assertOnReadNode(rs.getInt(3), driver + ": prepared autocommit SELECT");
                        readers.add(f.node(rs.getInt(3)));
                    }
                }
            }
            assertEquals(f.readNodes(), readers, driver + ": one prepared statement, run on every read node");
            f.assertOnPrimary(port(c, "SELECT id, @@port FROM items WHERE id = " + (base + 1) + " FOR UPDATE"), driver + ": FOR UPDATE");
            f.assertOnReadNode(port(c, "SELECT @@port"), driver + ": plain autocommit SELECT");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {MYSQL, MARIADB})
    void transactionsRunOnThePrimaryAndSeeTheirOwnWrites(String driver) throws Exception {
        int id = MYSQL.equals(driver) ? 50 : 150;
        try (Connection c = connect(driver)) {
            c.setAutoCommit(false);
            f.assertOnPrimary(port(c, "SELECT @@port"), driver + ": first read of the transaction");
            try (PreparedStatement ins = c.prepareStatement("INSERT INTO items VALUES (?, 'in tx', @@port, ?)")) {
                ins.setInt(1, id);
                ins.setString(2, driver);
                ins.executeUpdate();
            }
            try (PreparedStatement q = c.prepareStatement("SELECT name, @@port FROM items WHERE id = ?")) {
                q.setInt(1, id);
                try (ResultSet rs = q.executeQuery()) {
                    assertTrue(rs.next(), driver + ": the transaction sees its own INSERT");
                    f.assertOnPrimary(rs.getInt(2), driver + ": prepared read after the write");
                }
            }
            c.rollback();
            f.assertOnPrimary(port(c, "SELECT COUNT(*), @@port FROM items WHERE id = " + id), driver + ": next transaction");
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM items WHERE id = " + id)) {
                rs.next();
                assertEquals(0, rs.getInt(1), driver + ": rolled back");
            }
            c.commit();
            c.setAutoCommit(true);
            f.assertOnReadNode(port(c, "SELECT @@port"), driver + ": autocommit again");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {MYSQL, MARIADB})
    void aCancelledQueryStopsAtOnceAndTheConnectionGoesOn(String driver) throws Exception {
        try (Connection c = connect(driver)) {
            for (boolean inTransaction : new boolean[] {false, true}) {
                c.setAutoCommit(!inTransaction);
                String where = driver + (inTransaction ? " in a transaction" : " autocommit");
                long t0 = System.nanoTime();
                try (Statement st = c.createStatement()) {
                    if (MYSQL.equals(driver)) {
                        // Connector/J's timer opens a second connection and sends KILL QUERY <the handshake's id>
                        st.setQueryTimeout(1);
                        assertThrows(java.sql.SQLTimeoutException.class, () -> st.executeQuery("SELECT SLEEP(10)").close(), where);
                    } else {
                        // MariaDB Connector/J's cancel() does the same from another thread
                        CompletableFuture<Void> cancel = CompletableFuture.runAsync(() -> {
                            try {
                                Thread.sleep(1000);
                                st.cancel();
                            } catch (Exception x) {
                                throw new IllegalStateException(x);
                            }
                        });
                        SQLException e = assertThrows(SQLException.class, () -> st.executeQuery("SELECT SLEEP(10)").close(), where);
                        cancel.get(10, TimeUnit.SECONDS);
                        assertEquals(1317, e.getErrorCode(), where + ": query execution was interrupted: " + e);
                    }
                }
                // the next statement answers at once only if the server really stopped the SLEEP (else it waits for it)
                int p = port(c, "SELECT @@port");
                long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                assertTrue(ms < 5000, where + ": the cancelled SLEEP(10) and the next query took " + ms + " ms");
                if (inTransaction) {
                    f.assertOnPrimary(p, where + ": after the cancel");
                    c.rollback();
                } else {
                    f.assertOnReadNode(p, where + ": after the cancel");
                }
            }
            c.setAutoCommit(true);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {MYSQL, MARIADB})
    void mariadbsStatementTimeoutAndAWrongPassword(String driver) throws Exception {
        if (MARIADB.equals(driver)) {
            // against MariaDB the driver times out on the server: SET STATEMENT max_statement_time=1 FOR ...
            try (Connection c = connect(driver); Statement st = c.createStatement()) {
                st.setQueryTimeout(1);
                long t0 = System.nanoTime();
                SQLException e = assertThrows(SQLException.class, () -> st.executeQuery("SELECT SLEEP(10)").close());
                assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) < 5000, e.toString());
                assertTrue(e instanceof java.sql.SQLTimeoutException, e.toString());
                assertEquals(1969, e.getErrorCode(), "max_statement_time exceeded: " + e);
                f.assertOnReadNode(port(c, "SELECT @@port"), "after max_statement_time");
            }
        }
        SQLException e = assertThrows(SQLException.class,
                () -> DriverManager.getConnection(f.jdbcUrl(driver, params(driver)), MyProxyFixture.USER, "wrong").close());
        assertEquals(1045, e.getErrorCode(), driver + ": " + e);
        assertEquals("28000", e.getSQLState(), driver + ": " + e);
    }
}
