package dev.sluice.proxy.mysql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.proxy.ProxyConfigs;
import dev.sluice.proxy.ProxyServer;
import dev.sluice.testsupport.Clusters;
import dev.sluice.testsupport.DbCluster;
import dev.sluice.testsupport.DbNode;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The MySQL proxy in front of a real MariaDB primary + 2 replicas, driven by MariaDB Connector/J. */
class MySqlProxySmokeIT {
    static DbCluster cluster;
    static ProxyServer server;
    static Map<Integer, String> nodeByPort;

    @BeforeAll
    static void start() throws Exception {
        cluster = Clusters.startMariaDb("mysmoke", 2);
        server = ProxyConfigs.startMysql(cluster, "");
        nodeByPort = cluster.nodes().stream().collect(Collectors.toMap(DbNode::port, DbNode::name));
        try (Connection c = DriverManager.getConnection(cluster.primary().jdbcUrl(), cluster.user(), cluster.password());
             Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS smoke (id INT PRIMARY KEY, v VARCHAR(100))");
        }
        cluster.waitForReplication(java.time.Duration.ofSeconds(20));
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    static Connection connect(String extra) throws SQLException {
        return DriverManager.getConnection("jdbc:mariadb://127.0.0.1:" + server.address().getPort() + "/" + cluster.database()
                + (extra.isEmpty() ? "" : "?" + extra), ProxyConfigs.MYSQL_USER, ProxyConfigs.MYSQL_PASSWORD);
    }

    static String where(Statement s) throws SQLException {
        try (ResultSet rs = s.executeQuery("SELECT @@port")) {
            rs.next();
            return nodeByPort.get(rs.getInt(1));
        }
    }

    @Test
    void readsGoToReplicasWritesAndTransactionsToThePrimary() throws Exception {
        try (Connection c = connect(""); Statement s = c.createStatement()) {
            Set<String> readNodes = new HashSet<>();
            for (int i = 0; i < 6; i++) {
                readNodes.add(where(s));
            }
            assertEquals(Set.copyOf(cluster.replicas().stream().map(DbNode::name).toList()), readNodes);
            s.executeUpdate("INSERT INTO smoke VALUES (1, 'one') ON DUPLICATE KEY UPDATE v = 'one'");
            c.setAutoCommit(false);
            assertEquals(cluster.primary().name(), where(s));
            s.executeUpdate("UPDATE smoke SET v = 'uno' WHERE id = 1");
            try (ResultSet rs = s.executeQuery("SELECT v FROM smoke WHERE id = 1")) {
                rs.next();
                assertEquals("uno", rs.getString(1), "a read inside the transaction sees its own write (same node)");
            }
            c.commit();
            c.setAutoCommit(true);
            String after = where(s);
            assertTrue(cluster.replicas().stream().anyMatch(r -> r.name().equals(after)), "read after the transaction went to " + after);
        }
    }

    @Test
    void serverPreparedStatementsRunOnWhicheverNodeTheyAreRoutedTo() throws Exception {
        try (Connection c = connect("useServerPrepStmts=true")) {
            try (PreparedStatement w = c.prepareStatement("INSERT INTO smoke VALUES (?, ?) ON DUPLICATE KEY UPDATE v = VALUES(v)")) {
                for (int i = 10; i < 20; i++) {
                    w.setInt(1, i);
                    w.setString(2, "v" + i);
                    assertEquals(true, w.executeUpdate() >= 1);
                }
            }
            try (PreparedStatement r = c.prepareStatement("SELECT @@port, ? + 1")) {
                Set<String> nodes = new HashSet<>();
                for (int i = 0; i < 6; i++) {
                    r.setInt(1, i);
                    try (ResultSet rs = r.executeQuery()) {
                        rs.next();
                        nodes.add(nodeByPort.get(rs.getInt(1)));
                        assertEquals(i + 1, rs.getInt(2));
                    }
                }
                assertEquals(Set.copyOf(cluster.replicas().stream().map(DbNode::name).toList()), nodes);
            }
        }
    }

    @Test
    void errorsReachTheClientWithTheirCodeAndTheSessionGoesOn() throws Exception {
        try (Connection c = connect(""); Statement s = c.createStatement()) {
            SQLException e = assertThrows(SQLException.class, () -> s.executeQuery("SELECT * FROM no_such_table"));
            assertEquals(1146, e.getErrorCode());
            assertEquals("42S02", e.getSQLState());
            try (ResultSet rs = s.executeQuery("SELECT 41 + 1")) {
                rs.next();
                assertEquals(42, rs.getInt(1));
            }
        }
    }

    @Test
    void wrongPasswordIsDenied() {
        SQLException e = assertThrows(SQLException.class, () -> DriverManager.getConnection("jdbc:mariadb://127.0.0.1:"
                + server.address().getPort() + "/" + cluster.database(), ProxyConfigs.MYSQL_USER, "wrong"));
        assertEquals(1045, e.getErrorCode(), e.toString());
    }
}
