package dev.sluice.jdbc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.testsupport.DbCluster;
import dev.sluice.testsupport.DbNode;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.Reader;
import java.io.StringReader;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.Date;
import java.sql.DriverManager;
import java.sql.ParameterMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.sql.Time;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The JDBC API through Sluice behaves as the real driver's, against a real primary with two replicas.
 * Where a statement ran is always asked of the server ({@link #whereSql()}), and where the real driver's
 * behaviour is the reference, the same call is made on a direct connection and compared.
 */
abstract class AbstractJdbcApiIT {
    static DbCluster cluster;

    /** SQL expression returning the answering server's port. */
    abstract String whereSql();

    abstract String scheme();

    /** SQL expression returning the session's transaction isolation. */
    abstract String isolationSql();

    /** An isolation level that is not the server default (and that a replica accepts). */
    abstract int nonDefaultIsolation();

    /** SQL expression returning the current schema (PG) / database (MariaDB). */
    abstract String namespaceSql();

    /** The namespace {@link #switchNamespace} switches to; created and replicated by the subclass. */
    abstract String otherNamespace();

    /** setSchema (PG) or setCatalog (MariaDB) to {@link #otherNamespace()}. */
    abstract void switchNamespace(Connection c) throws SQLException;

    /** (id auto-generated primary key, note varchar(100), written_by int). */
    abstract String autoIdTable(String name);

    /** (id int pk, i int, l bigint, s varchar(100), d decimal(20,6), dt date, tm time, ts timestamp(3), b boolean, bin binary, n int, o varchar(100)). */
    abstract String typesTable(String name);

    /** (id int pk, bin large binary, txt large text). */
    abstract String lobTable(String name);

    /** A read that sleeps 3 s, port as last column. */
    abstract String sleepSql();

    /** A session-state SQL statement, the expression it changes, and the value it sets. */
    abstract String[] sessionSetting();

    abstract Class<?> realStatementClass();

    abstract Class<?> realPreparedStatementClass();

    /** A connection whose driver accepts several statements in one string. */
    abstract Connection multiQueryConnection() throws SQLException;

    String url(String extra) {
        DbNode[] order = {cluster.replicas().get(0), cluster.primary(), cluster.replicas().get(1)};
        String hosts = java.util.Arrays.stream(order).map(AbstractJdbcApiIT::nodeName).collect(Collectors.joining(","));
        return "jdbc:sluice:" + scheme() + "://" + hosts + "/" + cluster.database()
                + "?user=" + cluster.user() + "&password=" + cluster.password() + extra;
    }

    Connection connect() throws SQLException {
        return DriverManager.getConnection(url(""));
    }

    static String nodeName(DbNode n) {
        return n.host() + ":" + n.port();
    }

    static Connection direct(DbNode n) throws SQLException {
        return DriverManager.getConnection(n.jdbcUrl(), cluster.user(), cluster.password());
    }

    int primaryPort() {
        return cluster.primary().port();
    }

    Set<Integer> replicaPorts() {
        return cluster.replicas().stream().map(DbNode::port).collect(Collectors.toSet());
    }

    static void replicate() throws Exception {
        cluster.waitForReplication(Duration.ofSeconds(15));
    }

    int port(Statement st, String sql) throws SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            assertTrue(rs.next(), "no row from " + sql);
            return rs.getInt(rs.getMetaData().getColumnCount());
        }
    }

    static String normalizeIsolation(String s) {
        return s.toLowerCase(Locale.ROOT).replace('-', ' ');
    }

    static String isolationName(int level) {
        switch (level) {
            case Connection.TRANSACTION_READ_UNCOMMITTED: return "read uncommitted";
            case Connection.TRANSACTION_READ_COMMITTED: return "read committed";
            case Connection.TRANSACTION_REPEATABLE_READ: return "repeatable read";
            case Connection.TRANSACTION_SERIALIZABLE: return "serializable";
            default: throw new IllegalArgumentException("level " + level);
        }
    }

    interface RowCheck {
        void check(ResultSet rs, int port) throws SQLException;
    }

    /** Runs a read (port as last column) until both replicas answered it, checking every answer. */
    void onEveryReplica(Statement st, String sql, RowCheck check) throws SQLException {
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 8 && !seen.equals(replicaPorts()); i++) {
            try (ResultSet rs = st.executeQuery(sql)) {
                assertTrue(rs.next(), "no row from " + sql);
                int p = rs.getInt(rs.getMetaData().getColumnCount());
                assertTrue(replicaPorts().contains(p), "read answered by " + p + ", replicas are " + replicaPorts());
                check.check(rs, p);
                seen.add(p);
            }
        }
        assertEquals(replicaPorts(), seen, "both replicas should have answered " + sql);
    }

    /** The same check on the primary, by hint. */
    void onPrimary(Statement st, String sql, RowCheck check) throws SQLException {
        try (ResultSet rs = st.executeQuery("/* sluice:primary */ " + sql)) {
            assertTrue(rs.next(), "no row from " + sql);
            int p = rs.getInt(rs.getMetaData().getColumnCount());
            assertEquals(primaryPort(), p, "hinted to the primary");
            check.check(rs, p);
        }
    }

    @AfterAll
    static void shutdown() throws Exception {
        SluiceDriver.closeAll();
        if (cluster != null) {
            cluster.close();
        }
    }

    // ---- Connection settings ----

    @Test
    void transactionIsolationIsHonouredOnEveryBackendConnection() throws Exception {
        int level = nonDefaultIsolation();
        String expected = isolationName(level);
        try (Connection c = connect(); Statement st = c.createStatement()) {
            // exactly one replica and the primary are held before the call; the other replica is opened after it
            int first = port(st, "SELECT " + whereSql());
            assertTrue(replicaPorts().contains(first));
            assertEquals(primaryPort(), port(st, "/* sluice:primary */ SELECT " + whereSql()));
            c.setTransactionIsolation(level);
            assertEquals(level, c.getTransactionIsolation());
            onEveryReplica(st, "SELECT " + isolationSql() + ", " + whereSql(),
                    (rs, p) -> assertEquals(expected, normalizeIsolation(rs.getString(1)), "isolation on replica " + p));
            onPrimary(st, "SELECT " + isolationSql() + ", " + whereSql(),
                    (rs, p) -> assertEquals(expected, normalizeIsolation(rs.getString(1)), "isolation on the primary"));
            // and inside a transaction on the primary
            c.setAutoCommit(false);
            assertEquals(primaryPort(), port(st, "SELECT " + whereSql()));
            try (ResultSet rs = st.executeQuery("SELECT " + isolationSql())) {
                rs.next();
                assertEquals(expected, normalizeIsolation(rs.getString(1)), "isolation of the transaction");
            }
            c.commit();
            assertEquals(level, c.getTransactionIsolation());
        }
    }

    @Test
    void networkTimeoutAndHoldabilityAreTheRealDriversAndReachLaterBackends() throws Exception {
        ExecutorService ex = Executors.newSingleThreadExecutor();
        try (Connection c = connect(); Statement st = c.createStatement()) {
            SluiceConnection sc = c.unwrap(SluiceConnection.class);
            String firstReplica = readNode(st);
            c.setNetworkTimeout(ex, 7_000);
            assertEquals(7_000, c.getNetworkTimeout());
            String secondReplica = readNode(st);
            assertTrue(!firstReplica.equals(secondReplica), "round-robin opened the second replica after the call");
            for (String n : List.of(firstReplica, secondReplica, nodeName(cluster.primary()))) {
                assertEquals(7_000, sc.physical(n).getNetworkTimeout(), "network timeout on " + n);
            }
            // real drivers accept a null executor; the setting must still reach connections opened later
            try (Connection c2 = connect(); Statement st2 = c2.createStatement()) {
                c2.setNetworkTimeout(null, 6_000);
                String n = readNode(st2);
                assertEquals(6_000, c2.unwrap(SluiceConnection.class).physical(n).getNetworkTimeout(), "null-executor timeout on " + n);
            }

            int hold = ResultSet.HOLD_CURSORS_OVER_COMMIT;
            int expectedHold;
            try (Connection d = direct(cluster.primary())) {
                hold = d.getHoldability() == ResultSet.HOLD_CURSORS_OVER_COMMIT ? ResultSet.CLOSE_CURSORS_AT_COMMIT : hold;
                d.setHoldability(hold);
                expectedHold = d.getHoldability();
            }
            c.setHoldability(hold);
            assertEquals(expectedHold, c.getHoldability(), "getHoldability as the real driver answers it");
            try (Statement s3 = c.createStatement(); ResultSet rs = s3.executeQuery("SELECT 1, " + whereSql())) {
                assertTrue(rs.next());
                assertTrue(replicaPorts().contains(rs.getInt(2)));
                assertEquals(expectedHold, s3.getResultSetHoldability(), "a replica statement's holdability");
            }
        } finally {
            ex.shutdownNow();
        }
    }

    String readNode(Statement st) throws SQLException {
        port(st, "SELECT " + whereSql());
        return st.unwrap(SluiceRouted.class).lastRoute().node();
    }

    @Test
    void clientInfoIsKept() throws Exception {
        try (Connection c = connect()) {
            c.setClientInfo("ApplicationName", "sluice-api-it");
            assertEquals("sluice-api-it", c.getClientInfo("ApplicationName"));
            assertEquals("sluice-api-it", c.getClientInfo().getProperty("ApplicationName"));
        }
    }

    // ---- PreparedStatement parameters ----

    @Test
    void preparedParametersOfManyTypesRoundTripFromPrimaryToReplicas() throws Exception {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute(typesTable("api_types"));
            Date dt = Date.valueOf("2024-02-29");
            Time tm = Time.valueOf("12:34:56");
            Timestamp ts = Timestamp.valueOf("2024-02-29 12:34:56.789");
            BigDecimal dec = new BigDecimal("12345.678901");
            try (PreparedStatement ins = c.prepareStatement(
                    "INSERT INTO api_types (id, i, l, s, d, dt, tm, ts, b, bin, n, o) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                for (int id = 1; id <= 4; id++) {
                    ins.setInt(1, id);
                    ins.setInt(2, -id * 1000);
                    ins.setObject(3, 9_000_000_000L + id);
                    ins.setString(4, "é-ü-" + id + "-'quote'");
                    ins.setBigDecimal(5, dec.add(BigDecimal.valueOf(id)));
                    ins.setDate(6, dt);
                    ins.setTime(7, tm);
                    ins.setTimestamp(8, ts);
                    ins.setBoolean(9, id % 2 == 0);
                    ins.setBytes(10, new byte[] {0, (byte) id, (byte) 0xff, 0x7f});
                    ins.setNull(11, Types.INTEGER);
                    ins.setObject(12, "obj-" + id);
                    assertEquals(1, ins.executeUpdate()); // replicas are read-only: only the primary accepts it
                }
            }
            replicate();
            Set<Integer> seen = new HashSet<>();
            try (PreparedStatement sel = c.prepareStatement(
                    "SELECT i, l, s, d, dt, tm, ts, b, bin, n, o, " + whereSql() + " FROM api_types WHERE id = ? AND s LIKE ?")) {
                for (int round = 0; round < 2; round++) {
                    for (int id = 1; id <= 4; id++) {
                        sel.setInt(1, id);
                        sel.setString(2, "%-" + id + "-%");
                        try (ResultSet rs = sel.executeQuery()) {
                            assertTrue(rs.next(), "row " + id);
                            assertEquals(-id * 1000, rs.getInt(1));
                            assertEquals(9_000_000_000L + id, rs.getLong(2));
                            assertEquals("é-ü-" + id + "-'quote'", rs.getString(3));
                            assertEquals(0, dec.add(BigDecimal.valueOf(id)).compareTo(rs.getBigDecimal(4)));
                            assertEquals(dt, rs.getDate(5));
                            assertEquals(tm, rs.getTime(6));
                            assertEquals(ts, rs.getTimestamp(7));
                            assertEquals(id % 2 == 0, rs.getBoolean(8));
                            assertArrayEquals(new byte[] {0, (byte) id, (byte) 0xff, 0x7f}, rs.getBytes(9));
                            assertEquals(0, rs.getInt(10));
                            assertTrue(rs.wasNull(), "setNull round-trips as NULL");
                            assertEquals("obj-" + id, rs.getObject(11));
                            int p = rs.getInt(12);
                            assertTrue(replicaPorts().contains(p), "read on a replica, got " + p);
                            seen.add(p);
                            assertFalse(rs.next());
                        }
                    }
                }
            }
            assertEquals(replicaPorts(), seen, "executions of one PreparedStatement spread over both replicas");
        }
    }

    /** The port of the node Sluice routed the statement's last execution to (for statements that fail). */
    private int routedPort(Statement s) throws SQLException {
        String node = s.unwrap(SluiceRouted.class).lastRoute().node();
        return Integer.parseInt(node.substring(node.lastIndexOf(':') + 1));
    }

    @Test
    void lobsRoundTripThroughStreamsAndBytes() throws Exception {
        byte[] bin = new byte[200_000];
        new Random(7).nextBytes(bin);
        StringBuilder sb = new StringBuilder();
        while (sb.length() < 100_000) {
            sb.append("Sluice ünïcödé ✓ line ").append(sb.length()).append('\n');
        }
        String txt = sb.toString();
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute(lobTable("api_lobs"));
            try (PreparedStatement ins = c.prepareStatement("INSERT INTO api_lobs (id, bin, txt) VALUES (?, ?, ?)")) {
                ins.setInt(1, 1);
                ins.setBinaryStream(2, new ByteArrayInputStream(bin), bin.length);
                ins.setCharacterStream(3, new StringReader(txt), txt.length());
                assertEquals(1, ins.executeUpdate());
                ins.setInt(1, 2);
                ins.setBytes(2, bin);
                ins.setString(3, txt);
                assertEquals(1, ins.executeUpdate());
                ins.setInt(1, 3);
                ins.setBinaryStream(2, new ByteArrayInputStream(bin), (long) bin.length);
                ins.setCharacterStream(3, new StringReader(txt), txt.length()); // pgjdbc lacks the long-length form
                assertEquals(1, ins.executeUpdate());
            }
            replicate();
            try (PreparedStatement sel = c.prepareStatement("SELECT bin, bin, txt, " + whereSql() + " FROM api_lobs WHERE id = ?")) {
                for (int id = 1; id <= 3; id++) {
                    sel.setInt(1, id);
                    try (ResultSet rs = sel.executeQuery()) {
                        assertTrue(rs.next());
                        assertTrue(replicaPorts().contains(rs.getInt(4)));
                        assertArrayEquals(bin, rs.getBytes(1), "getBytes of row " + id);
                        try (InputStream in = rs.getBinaryStream(2)) {
                            assertArrayEquals(bin, in.readAllBytes(), "getBinaryStream of row " + id);
                        }
                        try (Reader r = rs.getCharacterStream(3)) {
                            StringBuilder out = new StringBuilder();
                            char[] buf = new char[8192];
                            for (int n; (n = r.read(buf)) > 0; ) {
                                out.append(buf, 0, n);
                            }
                            assertEquals(txt, out.toString(), "getCharacterStream of row " + id);
                        }
                    }
                }
            }
        }
    }

    // ---- generated keys, batches, large updates ----

    @Test
    void generatedKeysBatchesAndLargeUpdates() throws Exception {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute(autoIdTable("api_keys"));
            st.execute("INSERT INTO api_keys(note, written_by) VALUES ('k1', " + whereSql() + ")", Statement.RETURN_GENERATED_KEYS);
            long k1;
            try (ResultSet keys = st.getGeneratedKeys()) {
                assertTrue(keys.next(), "Statement.execute(RETURN_GENERATED_KEYS) returns a key");
                k1 = keys.getLong(1);
                assertTrue(k1 > 0);
            }
            long k2;
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO api_keys(note, written_by) VALUES (?, " + whereSql() + ")",
                    new String[] {"id"})) {
                ps.setString(1, "k2");
                assertEquals(1, ps.executeUpdate());
                try (ResultSet keys = ps.getGeneratedKeys()) {
                    assertTrue(keys.next(), "prepareStatement(sql, columnNames) returns a key");
                    k2 = keys.getLong(1);
                    assertTrue(k2 > k1, k2 + " after " + k1);
                }
            }
            st.addBatch("INSERT INTO api_keys(note, written_by) VALUES ('b1', " + whereSql() + ")");
            st.addBatch("INSERT INTO api_keys(note, written_by) VALUES ('b2', " + whereSql() + ")");
            st.addBatch("UPDATE api_keys SET note = 'k1x' WHERE id = " + k1);
            int[] counts = st.executeBatch();
            assertEquals(3, counts.length);
            for (int n : counts) {
                assertTrue(n == 1 || n == Statement.SUCCESS_NO_INFO, "batch count " + n);
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO api_keys(note, written_by) VALUES (?, " + whereSql() + ")")) {
                for (String n : List.of("p1", "p2", "p3")) {
                    ps.setString(1, n);
                    ps.addBatch();
                }
                int[] pc = ps.executeBatch();
                assertEquals(3, pc.length);
                ps.setString(1, "p4");
                ps.addBatch();
                assertEquals(1, ps.executeLargeBatch().length);
            }
            assertEquals(8L, st.executeLargeUpdate("UPDATE api_keys SET written_by = written_by + 0 * " + whereSql()));
            try (PreparedStatement ps = c.prepareStatement("UPDATE api_keys SET note = ? WHERE note LIKE 'p%'")) {
                ps.setString(1, "pp");
                assertEquals(4L, ps.executeLargeUpdate());
            }
            replicate();
            onEveryReplica(st, "SELECT count(*), min(written_by), max(written_by), sum(CASE WHEN note = 'pp' THEN 1 ELSE 0 END), "
                    + "sum(CASE WHEN note = 'k1x' THEN 1 ELSE 0 END), " + whereSql() + " FROM api_keys", (rs, p) -> {
                        assertEquals(8, rs.getInt(1));
                        assertEquals(primaryPort(), rs.getInt(2), "every row written on the primary");
                        assertEquals(primaryPort(), rs.getInt(3));
                        assertEquals(4, rs.getInt(4));
                        assertEquals(1, rs.getInt(5));
                    });
        }
    }

    // ---- multiple result sets ----

    @Test
    void multipleResultSetsFromOneString() throws Exception {
        try (Connection c = multiQueryConnection(); Statement st = c.createStatement()) {
            assertTrue(st.execute("SELECT 1, " + whereSql() + "; SELECT 2, " + whereSql()));
            int p;
            try (ResultSet rs = st.getResultSet()) {
                assertTrue(rs.next());
                assertEquals(1, rs.getInt(1));
                p = rs.getInt(2);
                assertTrue(replicaPorts().contains(p), "a multi-statement read goes to a replica, got " + p);
            }
            assertTrue(st.getMoreResults(), "second result set");
            try (ResultSet rs = st.getResultSet()) {
                assertTrue(rs.next());
                assertEquals(2, rs.getInt(1));
                assertEquals(p, rs.getInt(2), "both results from the same node");
            }
            assertFalse(st.getMoreResults());
            assertEquals(-1, st.getUpdateCount());
        }
    }

    // ---- metadata ----

    @Test
    void databaseResultSetAndParameterMetaDataAreTheRealDrivers() throws Exception {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute(autoIdTable("api_meta"));
            replicate();
            DatabaseMetaData md = c.getMetaData();
            try (Connection d = direct(cluster.primary())) {
                DatabaseMetaData dmd = d.getMetaData();
                assertEquals(dmd.getDatabaseProductName(), md.getDatabaseProductName());
                assertEquals(dmd.getDatabaseProductVersion(), md.getDatabaseProductVersion());
                assertEquals(dmd.getDriverName(), md.getDriverName());
            }
            assertTrue(md.getURL().startsWith("jdbc:" + scheme() + "://"), md.getURL());
            assertTrue(md.getURL().contains(":" + primaryPort() + "/"), "metadata of the primary: " + md.getURL());
            try (ResultSet rs = md.getTables(null, null, "api_meta", new String[] {"TABLE"})) {
                assertTrue(rs.next(), "getTables finds api_meta");
                assertEquals("api_meta", rs.getString("TABLE_NAME"));
            }

            String q = "SELECT id, note, written_by, " + whereSql() + " AS port FROM api_meta";
            List<String> viaSluice;
            int p;
            try (ResultSet rs = st.executeQuery(q)) {
                p = st.unwrap(SluiceRouted.class).lastRoute().node().endsWith(":" + cluster.replicas().get(0).port()) ? 0 : 1;
                viaSluice = describe(rs.getMetaData());
            }
            try (Connection d = direct(cluster.replicas().get(p)); Statement ds = d.createStatement(); ResultSet rs = ds.executeQuery(q)) {
                assertEquals(describe(rs.getMetaData()), viaSluice, "ResultSetMetaData of a replica read");
            }
            assertEquals(4, viaSluice.size());

            String pq = "SELECT note FROM api_meta WHERE id = ? AND note = ?";
            try (PreparedStatement ps = c.prepareStatement(pq); Connection d = direct(cluster.primary());
                 PreparedStatement dps = d.prepareStatement(pq)) {
                ParameterMetaData pm = ps.getParameterMetaData();
                ParameterMetaData dpm = dps.getParameterMetaData();
                assertEquals(2, pm.getParameterCount());
                assertEquals(dpm.getParameterCount(), pm.getParameterCount());
                for (int i = 1; i <= 2; i++) {
                    int n = i;
                    Object expected;
                    try {
                        expected = dpm.getParameterType(n);
                    } catch (SQLException e) {
                        expected = e.getClass(); // MariaDB: SQLFeatureNotSupportedException, the same through Sluice
                    }
                    Object actual;
                    try {
                        actual = pm.getParameterType(n);
                    } catch (SQLException e) {
                        actual = e.getClass();
                    }
                    assertEquals(expected, actual, "parameter " + i + " type");
                }
                assertEquals(describe(dps.getMetaData()), describe(ps.getMetaData()), "PreparedStatement.getMetaData");
            }
        }
    }

    static List<String> describe(ResultSetMetaData md) throws SQLException {
        List<String> out = new ArrayList<>();
        for (int i = 1; i <= md.getColumnCount(); i++) {
            out.add(md.getColumnLabel(i) + ":" + md.getColumnType(i) + ":" + md.getColumnTypeName(i) + ":" + md.getColumnClassName(i));
        }
        return out;
    }

    // ---- savepoints ----

    @Test
    void savepointsWorkInATransactionOnThePrimary() throws Exception {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute(autoIdTable("api_sp"));
            c.setAutoCommit(false);
            st.executeUpdate("INSERT INTO api_sp(note, written_by) VALUES ('a', " + whereSql() + ")");
            Savepoint sp1 = c.setSavepoint("sp1");
            st.executeUpdate("INSERT INTO api_sp(note, written_by) VALUES ('b', " + whereSql() + ")");
            c.rollback(sp1);
            Savepoint sp2 = c.setSavepoint();
            st.executeUpdate("INSERT INTO api_sp(note, written_by) VALUES ('c', " + whereSql() + ")");
            c.releaseSavepoint(sp2);
            Savepoint sp3 = c.setSavepoint("sp3");
            st.executeUpdate("INSERT INTO api_sp(note, written_by) VALUES ('d', " + whereSql() + ")");
            c.rollback(sp3);
            assertEquals(primaryPort(), port(st, "SELECT count(*), " + whereSql() + " FROM api_sp"));
            c.commit();
            c.setAutoCommit(true);
            replicate();
            String q = "SELECT count(*), sum(CASE WHEN note IN ('a', 'c') THEN 1 ELSE 0 END), min(written_by), " + whereSql() + " FROM api_sp";
            RowCheck check = (rs, p) -> {
                assertEquals(2, rs.getInt(1), "a and c survive, b and d were rolled back to their savepoints");
                assertEquals(2, rs.getInt(2));
                assertEquals(primaryPort(), rs.getInt(3));
            };
            onPrimary(st, q, check);
            onEveryReplica(st, q, check);
        }
    }

    // ---- errors ----

    @Test
    void backendErrorsHaveTheRealDriversClassStateAndCode() throws Exception {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE api_uniq (id int PRIMARY KEY)");
            st.executeUpdate("INSERT INTO api_uniq VALUES (1)");
            SQLException viaSluice = assertThrows(SQLException.class, () -> st.executeUpdate("INSERT INTO api_uniq VALUES (1)"));
            SQLException viaSluicePs;
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO api_uniq VALUES (?)")) {
                ps.setInt(1, 1);
                viaSluicePs = assertThrows(SQLException.class, ps::executeUpdate);
            }
            SQLException syntax = assertThrows(SQLException.class, () -> st.execute("SELEC 1"));
            SQLException replicaSyntax = assertThrows(SQLException.class, () -> st.executeQuery("SELECT FROM WHERE 1"));
            try (Connection d = direct(cluster.primary()); Statement ds = d.createStatement()) {
                SQLException direct = assertThrows(SQLException.class, () -> ds.executeUpdate("INSERT INTO api_uniq VALUES (1)"));
                assertSame(direct, viaSluice, "unique violation");
                try (PreparedStatement dps = d.prepareStatement("INSERT INTO api_uniq VALUES (?)")) {
                    dps.setInt(1, 1);
                    assertSame(assertThrows(SQLException.class, dps::executeUpdate), viaSluicePs, "prepared unique violation");
                }
                assertSame(assertThrows(SQLException.class, () -> ds.execute("SELEC 1")), syntax, "syntax error");
                assertSame(assertThrows(SQLException.class, () -> ds.executeQuery("SELECT FROM WHERE 1")), replicaSyntax, "syntax error");
            }
        }
    }

    static void assertSame(SQLException expected, SQLException actual, String what) {
        assertEquals(expected.getClass(), actual.getClass(), what + ": " + actual);
        assertEquals(expected.getSQLState(), actual.getSQLState(), what + ": " + actual);
        assertEquals(expected.getErrorCode(), actual.getErrorCode(), what + ": " + actual);
    }

    // ---- statement settings ----

    @Test
    void statementSettingsReachTheRealStatements() throws Exception {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE api_rows (id int PRIMARY KEY)");
            st.executeUpdate("INSERT INTO api_rows VALUES (1), (2), (3), (4), (5)");
            replicate();
            st.setMaxRows(2);
            st.setFetchSize(3);
            assertEquals(2, st.getMaxRows());
            assertEquals(3, st.getFetchSize());
            Set<Integer> seen = new HashSet<>();
            for (int i = 0; i < 4; i++) {
                try (ResultSet rs = st.executeQuery("SELECT id, " + whereSql() + " FROM api_rows ORDER BY id")) {
                    int n = 0;
                    while (rs.next()) {
                        n++;
                        seen.add(rs.getInt(2));
                    }
                    assertEquals(2, n, "setMaxRows(2) limits a replica read of 5 rows");
                }
                Statement real = st.unwrap(realStatementClass().asSubclass(Statement.class));
                assertEquals(2, real.getMaxRows());
                assertEquals(3, real.getFetchSize());
            }
            assertEquals(replicaPorts(), seen);
            try (PreparedStatement ps = c.prepareStatement("SELECT id, " + whereSql() + " FROM api_rows WHERE id > ? ORDER BY id")) {
                ps.setMaxRows(3);
                ps.setInt(1, 0);
                for (int i = 0; i < 2; i++) {
                    try (ResultSet rs = ps.executeQuery()) {
                        int n = 0;
                        while (rs.next()) {
                            n++;
                        }
                        assertEquals(3, n, "setMaxRows(3) on a PreparedStatement");
                    }
                }
            }
        }
    }

    @Test
    void queryTimeoutFailsAsTheRealDriverDoes() throws Exception {
        SQLException direct;
        try (Connection d = direct(cluster.replicas().get(0)); Statement ds = d.createStatement()) {
            ds.setQueryTimeout(1);
            direct = assertThrows(SQLException.class, () -> ds.executeQuery(sleepSql()), "the real driver times out");
        }
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.setQueryTimeout(1);
            assertEquals(1, st.getQueryTimeout());
            for (int i = 0; i < 2; i++) { // both replicas' real statements
                long t0 = System.nanoTime();
                SQLException e = assertTimeoutPreemptively(Duration.ofSeconds(20),
                        () -> assertThrows(SQLException.class, () -> st.executeQuery(sleepSql())));
                long ms = (System.nanoTime() - t0) / 1_000_000;
                assertSame(direct, e, "query timeout");
                assertTrue(ms < 2_900, "timed out after " + ms + " ms, not after the 3 s sleep");
                assertTrue(replicaPorts().contains(routedPort(st)), "the sleep ran on a replica");
            }
        }
    }

    // ---- unwrap ----

    @Test
    void statementsUnwrapToTheRealDriversClasses() throws Exception {
        try (Connection c = connect(); Statement st = c.createStatement();
             PreparedStatement ps = c.prepareStatement("SELECT ?, " + whereSql())) {
            assertTrue(st.isWrapperFor(SluiceRouted.class));
            port(st, "SELECT " + whereSql());
            assertTrue(st.isWrapperFor(realStatementClass()));
            assertTrue(realStatementClass().isInstance(st.unwrap(realStatementClass())));
            ps.setInt(1, 5);
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next());
                assertEquals(5, rs.getInt(1));
            }
            assertTrue(ps.isWrapperFor(realPreparedStatementClass()));
            Object real = ps.unwrap(realPreparedStatementClass());
            assertTrue(realPreparedStatementClass().isInstance(real));
            assertTrue(real instanceof PreparedStatement && !(real instanceof SluiceStatement), real.getClass().getName());
            assertTrue(ps.unwrap(SluiceRouted.class).lastRoute().reason().startsWith("read:replica"));
            assertFalse(ps.isWrapperFor(String.class));
            assertThrows(SQLException.class, () -> ps.unwrap(String.class));
        }
    }

    // ---- closing ----

    @Test
    void closingRollsBackAnOpenTransactionAndThenRefusesWith08003() throws Exception {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute(autoIdTable("api_close"));
        }
        Connection c = connect();
        Statement st = c.createStatement();
        c.setTransactionIsolation(nonDefaultIsolation());
        c.setAutoCommit(false);
        st.executeUpdate("INSERT INTO api_close(note, written_by) VALUES ('jdbc-tx', " + whereSql() + ")");
        c.close();
        Connection c2 = connect();
        Statement st2 = c2.createStatement();
        st2.execute("BEGIN");
        st2.executeUpdate("INSERT INTO api_close(note, written_by) VALUES ('sql-tx', " + whereSql() + ")");
        c2.close();
        assertTrue(c.isClosed());
        try (Connection d = connect(); Statement ds = d.createStatement()) {
            onPrimary(ds, "SELECT count(*), " + whereSql() + " FROM api_close",
                    (rs, p) -> assertEquals(0, rs.getInt(1), "both open transactions were rolled back at close"));
        }
        List<Executable> calls = List.of(
                c::createStatement,
                () -> c.prepareStatement("SELECT 1"),
                () -> c.prepareCall("SELECT 1"),
                () -> c.setAutoCommit(true),
                c::commit,
                c::rollback,
                c::setSavepoint,
                c::getMetaData,
                () -> c.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED),
                c::getTransactionIsolation,
                c::getCatalog,
                c::getSchema,
                c::getHoldability,
                c::getTypeMap,
                c::getNetworkTimeout,
                () -> c.setClientInfo("ApplicationName", "x"),
                () -> c.setReadOnly(true),
                c::getWarnings,
                () -> c.nativeSQL("SELECT 1"),
                () -> st.executeQuery("SELECT 1"));
        for (int i = 0; i < calls.size(); i++) {
            SQLException e = assertThrows(SQLException.class, calls.get(i), "call " + i + " after close");
            if (i < calls.size() - 1) {
                assertEquals("08003", e.getSQLState(), "call " + i + " after close: " + e);
            }
        }
        assertFalse(c.isValid(1));
    }

    /** A SET leaves state on the backend connections: they must not go back to the pool as they are. */
    @Test
    void sessionStateDoesNotLeakThroughThePool() throws Exception {
        String[] s = sessionSetting();
        String probe = "SELECT " + s[1] + ", " + whereSql();
        String dflt;
        try (Connection d = direct(cluster.primary()); Statement ds = d.createStatement(); ResultSet rs = ds.executeQuery(probe)) {
            rs.next();
            dflt = rs.getString(1);
        }
        String tiny = url("&pool-max-size=1&pool-min-idle=1");
        try (Connection c = DriverManager.getConnection(tiny); Statement st = c.createStatement()) {
            port(st, "SELECT " + whereSql());
            st.execute(s[0]);
            onEveryReplica(st, probe, (rs, p) -> assertEquals(s[2], rs.getString(1)));
            onPrimary(st, probe, (rs, p) -> assertEquals(s[2], rs.getString(1)));
        }
        // one connection per node in the pool: a dirty one would be handed back here
        try (Connection c = DriverManager.getConnection(tiny); Statement st = c.createStatement()) {
            onEveryReplica(st, probe, (rs, p) -> assertEquals(dflt, rs.getString(1), "default again on replica " + p));
            onPrimary(st, probe, (rs, p) -> assertEquals(dflt, rs.getString(1), "default again on the primary"));
        }
    }

    /** Settings made through the JDBC API must not reach the next application connection either. */
    @Test
    void jdbcSettingsDoNotLeakThroughThePool() throws Exception {
        String probe = "SELECT " + isolationSql() + ", " + namespaceSql() + ", " + whereSql();
        String dfltIso;
        String dfltNs;
        int dfltHold;
        int dfltTimeout;
        String dfltApp;
        try (Connection d = direct(cluster.primary()); Statement ds = d.createStatement(); ResultSet rs = ds.executeQuery(probe)) {
            rs.next();
            dfltIso = rs.getString(1);
            dfltNs = rs.getString(2);
            dfltHold = d.getHoldability();
            dfltTimeout = d.getNetworkTimeout();
            dfltApp = d.getClientInfo("ApplicationName");
        }
        String tiny = url("&pool-max-size=1&pool-min-idle=0");
        ExecutorService ex = Executors.newSingleThreadExecutor();
        try (Connection c = DriverManager.getConnection(tiny); Statement st = c.createStatement()) {
            c.setTransactionIsolation(nonDefaultIsolation());
            switchNamespace(c);
            c.setHoldability(dfltHold == ResultSet.HOLD_CURSORS_OVER_COMMIT ? ResultSet.CLOSE_CURSORS_AT_COMMIT : ResultSet.HOLD_CURSORS_OVER_COMMIT);
            c.setNetworkTimeout(ex, 9_000);
            c.setClientInfo("ApplicationName", "leaky");
            onEveryReplica(st, probe, (rs, p) -> assertEquals(otherNamespace(), rs.getString(2)));
            onPrimary(st, probe, (rs, p) -> assertEquals(otherNamespace(), rs.getString(2)));
        } finally {
            ex.shutdownNow();
        }
        try (Connection c = DriverManager.getConnection(tiny); Statement st = c.createStatement()) {
            RowCheck clean = (rs, p) -> {
                assertEquals(dfltIso, rs.getString(1), "isolation back to the default on " + p);
                assertEquals(dfltNs, rs.getString(2), "schema/catalog back to the default on " + p);
            };
            onEveryReplica(st, probe, clean);
            onPrimary(st, probe, clean);
            SluiceConnection sc = c.unwrap(SluiceConnection.class);
            for (DbNode n : cluster.nodes()) {
                Connection real = sc.physical(nodeName(n));
                assertEquals(dfltHold, real.getHoldability(), "holdability back to the default on " + n.name());
                assertEquals(dfltTimeout, real.getNetworkTimeout(), "network timeout back to the default on " + n.name());
                assertEquals(dfltApp, real.getClientInfo("ApplicationName"), "client info back to the default on " + n.name());
            }
            assertNotNull(c.getMetaData());
        }
    }
}
