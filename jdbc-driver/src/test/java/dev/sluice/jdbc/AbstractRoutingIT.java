package dev.sluice.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.sluice.core.route.RouteDecision;
import dev.sluice.testsupport.DbCluster;
import dev.sluice.testsupport.DbNode;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Routing through the driver against a real primary with two replicas. Every assertion about routing
 * asks the server which node answered ({@link #whereSql()}), never Sluice itself.
 */
abstract class AbstractRoutingIT {
    static DbCluster cluster;

    /** SQL expression returning the answering server's port. */
    abstract String whereSql();

    abstract String scheme();

    /** A read that needs the primary's session (sequence / last insert id), returning the port as column 2. */
    abstract String sessionReadSql();

    abstract String createTable(String name);

    abstract Class<?> realConnectionClass();

    String hosts(DbNode... order) {
        return java.util.Arrays.stream(order).map(n -> n.host() + ":" + n.port()).collect(Collectors.joining(","));
    }

    /** Replica first: the primary must be discovered, not assumed from host order. */
    String url(String extra) {
        DbNode[] order = {cluster.replicas().get(0), cluster.primary(), cluster.replicas().get(1)};
        return "jdbc:sluice:" + scheme() + "://" + hosts(order) + "/" + cluster.database()
                + "?user=" + cluster.user() + "&password=" + cluster.password() + extra;
    }

    Connection connect() throws SQLException {
        return DriverManager.getConnection(url(""));
    }

    int port(Statement st, String sql) throws SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            assertTrue(rs.next(), "no row from " + sql);
            return rs.getInt(rs.getMetaData().getColumnCount());
        }
    }

    int primaryPort() {
        return cluster.primary().port();
    }

    Set<Integer> replicaPorts() {
        return cluster.replicas().stream().map(DbNode::port).collect(Collectors.toSet());
    }

    @AfterAll
    static void shutdown() throws Exception {
        SluiceDriver.closeAll();
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void autocommitReadsGoToBothReplicasAndNeverThePrimary() throws Exception {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            Set<Integer> seen = new HashSet<>();
            for (int i = 0; i < 10; i++) {
                int p = port(st, "SELECT " + whereSql());
                assertTrue(replicaPorts().contains(p), "read answered by " + p + ", replicas are " + replicaPorts());
                seen.add(p);
            }
            assertEquals(replicaPorts(), seen, "round-robin should use every replica");
            assertTrue(st.unwrap(SluiceRouted.class).lastRoute().reason().startsWith("read:replica"));
        }
    }

    @Test
    void writesGoToThePrimaryAndReplicate() throws Exception {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute(createTable("w1"));
            assertEquals(1, st.executeUpdate("INSERT INTO w1(note, written_by) VALUES ('a', " + whereSql() + ")"));
            RouteDecision d = st.unwrap(SluiceRouted.class).lastRoute();
            assertTrue(d.reason().startsWith("write:"), d.reason());
            cluster.waitForReplication(Duration.ofSeconds(10));
            try (ResultSet rs = st.executeQuery("SELECT written_by, " + whereSql() + " FROM w1")) {
                assertTrue(rs.next());
                assertEquals(primaryPort(), rs.getInt(1), "the INSERT ran on the primary");
                assertTrue(replicaPorts().contains(rs.getInt(2)), "the read after it ran on a replica");
            }
        }
    }

    @Test
    void lockingAndSessionBoundReadsGoToThePrimary() throws Exception {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute(createTable("l1"));
            st.executeUpdate("INSERT INTO l1(note, written_by) VALUES ('x', 0)");
            c.setAutoCommit(false);
            assertEquals(primaryPort(), port(st, "SELECT id, " + whereSql() + " FROM l1 FOR UPDATE"));
            c.commit();
            c.setAutoCommit(true);
            // autocommit locking read
            assertEquals(primaryPort(), port(st, "SELECT id, " + whereSql() + " FROM l1 FOR UPDATE"));
            assertEquals(primaryPort(), port(st, sessionReadSql()));
            assertEquals(primaryPort(), port(st, "/* sluice:primary */ SELECT " + whereSql()));
            assertTrue(replicaPorts().contains(port(st, "/* sluice:replica */ SELECT " + whereSql())));
        }
    }

    @Test
    void aTransactionStaysOnThePrimaryIncludingItsReads() throws Exception {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute(createTable("t1"));
            c.setAutoCommit(false);
            assertEquals(primaryPort(), port(st, "SELECT " + whereSql()));
            st.executeUpdate("INSERT INTO t1(note, written_by) VALUES ('tx', " + whereSql() + ")");
            try (ResultSet rs = st.executeQuery("SELECT count(*) FROM t1")) {
                rs.next();
                assertEquals(1, rs.getInt(1), "the transaction sees its own uncommitted row");
            }
            c.rollback();
            c.setAutoCommit(true);
            cluster.waitForReplication(Duration.ofSeconds(10));
            try (ResultSet rs = st.executeQuery("/* sluice:primary */ SELECT count(*) FROM t1")) {
                rs.next();
                assertEquals(0, rs.getInt(1), "rolled back");
            }
            // explicit BEGIN in autocommit mode
            st.execute("BEGIN");
            assertEquals(primaryPort(), port(st, "SELECT " + whereSql()));
            st.execute("COMMIT");
            assertTrue(replicaPorts().contains(port(st, "SELECT " + whereSql())), "after COMMIT reads go back to replicas");
        }
    }

    @Test
    void aReadOnlyTransactionUsesOneReplicaThroughout() throws Exception {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            c.setReadOnly(true);
            c.setAutoCommit(false);
            int first = port(st, "SELECT " + whereSql());
            assertTrue(replicaPorts().contains(first));
            for (int i = 0; i < 5; i++) {
                assertEquals(first, port(st, "SELECT " + whereSql()), "same replica for the whole transaction");
            }
            c.commit();
            c.setAutoCommit(true);
            c.setReadOnly(false);
            st.execute("START TRANSACTION READ ONLY");
            int p = port(st, "SELECT " + whereSql());
            assertTrue(replicaPorts().contains(p));
            assertEquals(p, port(st, "SELECT " + whereSql()));
            st.execute("COMMIT");
        }
    }

    @Test
    void preparedStatementsRouteWithTheirParameters() throws Exception {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute(createTable("p1"));
            try (PreparedStatement ins = c.prepareStatement("INSERT INTO p1(note, written_by) VALUES (?, " + whereSql() + ")",
                    Statement.RETURN_GENERATED_KEYS)) {
                ins.setString(1, "one");
                assertEquals(1, ins.executeUpdate());
                try (ResultSet keys = ins.getGeneratedKeys()) {
                    assertTrue(keys.next(), "generated key from the real driver");
                    assertTrue(keys.getLong(1) > 0);
                }
                ins.setString(1, "two");
                ins.addBatch();
                ins.setString(1, "three");
                ins.addBatch();
                int[] counts = ins.executeBatch();
                assertEquals(2, counts.length);
            }
            cluster.waitForReplication(Duration.ofSeconds(10));
            try (PreparedStatement sel = c.prepareStatement("SELECT note, written_by, " + whereSql() + " FROM p1 WHERE note = ?")) {
                for (String note : new String[] {"one", "two", "three"}) {
                    sel.setString(1, note);
                    try (ResultSet rs = sel.executeQuery()) {
                        assertTrue(rs.next(), "row " + note);
                        assertEquals(note, rs.getString(1));
                        assertEquals(primaryPort(), rs.getInt(2), "written on the primary");
                        assertTrue(replicaPorts().contains(rs.getInt(3)), "read on a replica");
                    }
                }
            }
        }
    }

    @Test
    void backendErrorsArriveUnchanged() throws Exception {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            SQLException viaSluice = assertThrows(SQLException.class, () -> st.executeQuery("SELECT * FROM no_such_table_x"));
            SQLException direct;
            try (Connection d = DriverManager.getConnection(cluster.replicas().get(0).jdbcUrl(), cluster.user(), cluster.password());
                 Statement ds = d.createStatement()) {
                direct = assertThrows(SQLException.class, () -> ds.executeQuery("SELECT * FROM no_such_table_x"));
            }
            assertEquals(direct.getSQLState(), viaSluice.getSQLState());
            assertEquals(direct.getErrorCode(), viaSluice.getErrorCode());
            assertEquals(direct.getClass(), viaSluice.getClass());
        }
    }

    @Test
    void unwrapReachesTheRealDriver() throws Exception {
        try (Connection c = connect()) {
            Object real = c.unwrap(realConnectionClass());
            assertTrue(realConnectionClass().isInstance(real));
            assertTrue(c.getMetaData().getDatabaseProductName().length() > 0);
        }
    }

    @Test
    void aHikariPoolSwitchesByChangingOnlyTheUrl() throws Exception {
        HikariConfig hc = new HikariConfig();
        hc.setJdbcUrl(url(""));
        hc.setMaximumPoolSize(3);
        try (HikariDataSource ds = new HikariDataSource(hc)) {
            Set<Integer> seen = new HashSet<>();
            for (int i = 0; i < 6; i++) {
                try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
                    seen.add(port(st, "SELECT " + whereSql()));
                }
            }
            assertTrue(replicaPorts().containsAll(seen) && !seen.isEmpty(), "reads through Hikari went to " + seen);
            try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
                st.execute(createTable("h1"));
                st.executeUpdate("INSERT INTO h1(note, written_by) VALUES ('h', " + whereSql() + ")");
                assertEquals(primaryPort(), port(st, "/* sluice:primary */ SELECT max(written_by) FROM h1"));
            }
        }
    }

    @Test
    void aClusterWithoutPrimaryRefusesWritesClearlyButServesReads() throws Exception {
        String onlyReplicas = "jdbc:sluice:" + scheme() + "://" + hosts(cluster.replicas().get(0), cluster.replicas().get(1))
                + "/" + cluster.database() + "?user=" + cluster.user() + "&password=" + cluster.password();
        try (Connection c = DriverManager.getConnection(onlyReplicas); Statement st = c.createStatement()) {
            assertTrue(replicaPorts().contains(port(st, "SELECT " + whereSql())));
            SQLException e = assertThrows(SQLException.class, () -> st.executeUpdate("UPDATE w1 SET note = 'x'"));
            assertTrue(e.getMessage().contains("no primary"), e.getMessage());
            assertEquals("08001", e.getSQLState());
        }
    }

    @Test
    void anUnreachableNodeIsRoutedAround() throws Exception {
        int deadPort;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            deadPort = s.getLocalPort();
        }
        String withDead = url("&probe-timeout-ms=500").replace("://", "://127.0.0.1:" + deadPort + ",");
        try (Connection c = DriverManager.getConnection(withDead); Statement st = c.createStatement()) {
            for (int i = 0; i < 4; i++) {
                assertTrue(replicaPorts().contains(port(st, "SELECT " + whereSql())));
            }
            SluiceConnection sc = c.unwrap(SluiceConnection.class);
            assertEquals(dev.sluice.core.route.NodeRole.DOWN,
                    sc.runtime().router.topology().status("127.0.0.1:" + deadPort).role());
        }
    }

    @Test
    void badUrlParametersAreNamed() {
        SQLException e = assertThrows(SQLException.class, () -> DriverManager.getConnection(url("&balancingg=round-robin")));
        assertTrue(e.getMessage().contains("balancingg"), e.getMessage());
        SQLException e2 = assertThrows(SQLException.class, () -> DriverManager.getConnection(url("&balancing=fastest")));
        assertTrue(e2.getMessage().contains("fastest"), e2.getMessage());
        String twice = "jdbc:sluice:" + scheme() + "://" + hosts(cluster.primary(), cluster.primary()) + "/" + cluster.database();
        SQLException e3 = assertThrows(SQLException.class, () -> DriverManager.getConnection(twice));
        assertTrue(e3.getMessage().contains("twice"), e3.getMessage());
    }

    @Test
    void yamlFileConfigurationWorks() throws Exception {
        java.nio.file.Path f = java.nio.file.Files.createTempFile("sluice", ".yaml");
        StringBuilder y = new StringBuilder("clusters:\n  main:\n    engine: " + scheme() + "\n    database: " + cluster.database()
                + "\n    user: " + cluster.user() + "\n    password: " + cluster.password() + "\n    balancing: least-outstanding\n    nodes:\n");
        for (DbNode n : cluster.nodes()) {
            y.append("      - { name: ").append(n.name()).append(", host: ").append(n.host()).append(", port: ").append(n.port()).append(" }\n");
        }
        java.nio.file.Files.writeString(f, y);
        try (Connection c = DriverManager.getConnection("jdbc:sluice:file:" + f); Statement st = c.createStatement()) {
            assertTrue(replicaPorts().contains(port(st, "SELECT " + whereSql())));
            assertEquals(primaryPort(), port(st, "/* sluice:primary */ SELECT " + whereSql()));
            assertNotEquals(null, st.unwrap(SluiceRouted.class).lastRoute().node());
            assertEquals(cluster.primary().name(), st.unwrap(SluiceRouted.class).lastRoute().node());
        } finally {
            java.nio.file.Files.deleteIfExists(f);
        }
    }
}
