package dev.sluice.proxy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The MySQL proxy's less common commands and authentication paths, driven by MySQL Connector/J and the mariadb
 * CLI against a real MariaDB primary + 2 replicas: caching_sha2_password full authentication by RSA key exchange
 * then the fast path, COM_CHANGE_USER, COM_RESET_CONNECTION, server-side cursors (COM_STMT_FETCH), long data
 * (COM_STMT_SEND_LONG_DATA) on a statement re-prepared on another node, COM_INIT_DB, COM_STATISTICS.
 */
class MysqlProtocolIT {
    static MyProxyFixture f;

    @BeforeAll
    static void start() throws Exception {
        f = MyProxyFixture.start("myproto", 2);
        try (Connection c = f.cluster.connectAdmin(f.cluster.primary()); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS " + f.database() + ".proto (id INT PRIMARY KEY, b LONGBLOB)");
            s.execute("CREATE DATABASE IF NOT EXISTS other_db");
            s.execute("GRANT ALL PRIVILEGES ON other_db.* TO '" + f.cluster.user() + "'@'%'");
            s.execute("INSERT INTO " + f.database() + ".proto (id) SELECT seq FROM seq_1_to_100 ON DUPLICATE KEY UPDATE id = id");
        }
        f.cluster.waitForReplication(Duration.ofSeconds(30));
    }

    @AfterAll
    static void stop() {
        if (f != null) {
            f.close();
        }
    }

    private static Connection connectorJ(String user, String password, String params) throws SQLException {
        return DriverManager.getConnection("jdbc:mysql://127.0.0.1:" + f.port() + "/" + f.database() + "?sslMode=DISABLED" + params,
                user, password);
    }

    private static int port(Statement s) throws SQLException {
        try (ResultSet rs = s.executeQuery("SELECT @@port")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static Connection mariadbJ(String user, String password, String params) throws SQLException {
        return DriverManager.getConnection("jdbc:mariadb://127.0.0.1:" + f.port() + "/" + f.database() + "?" + params, user, password);
    }

    /**
     * MariaDB Connector/J here: MySQL Connector/J reads the MariaDB version string of the greeting ("5.5.5-10.11…")
     * as MySQL 5.5.5 and then takes caching_sha2's AuthMoreData marker for data — against MariaDB servers (which
     * have no caching_sha2_password) it never meets that exchange. docs/mysql-proxy.md says so.
     */
    @Test
    void cachingSha2FullAuthenticationByRsaThenTheFastPath() throws Exception {
        // no TLS: the first login must fetch the proxy's RSA key and send the password encrypted
        SQLException noKey = assertThrows(SQLException.class, () -> mariadbJ(MyProxyFixture.SHA2_USER, MyProxyFixture.SHA2_PASSWORD, ""));
        assertTrue(noKey.getMessage().contains("RSA public key is not available"), noKey.getMessage());
        try (Connection c = mariadbJ(MyProxyFixture.SHA2_USER, MyProxyFixture.SHA2_PASSWORD, "allowPublicKeyRetrieval=true");
             Statement s = c.createStatement()) {
            f.assertOnReadNode(port(s), "a read of the sha2 user");
        }
        // now cached: the fast path needs no key (the driver would refuse to ask for it without allowPublicKeyRetrieval)
        try (Connection c = mariadbJ(MyProxyFixture.SHA2_USER, MyProxyFixture.SHA2_PASSWORD, ""); Statement s = c.createStatement()) {
            f.assertOnReadNode(port(s), "a read after the fast path");
        }
        SQLException wrong = assertThrows(SQLException.class,
                () -> mariadbJ(MyProxyFixture.SHA2_USER, "wrong", "allowPublicKeyRetrieval=true"));
        assertEquals(1045, wrong.getErrorCode(), wrong.toString());
    }

    @Test
    void changeUserReauthenticatesAndResetsTheSession() throws Exception {
        try (Connection c = connectorJ(MyProxyFixture.USER, MyProxyFixture.PASSWORD, "");
             Statement s = c.createStatement()) {
            s.execute("SET @marker = 42");
            com.mysql.cj.jdbc.JdbcConnection j = c.unwrap(com.mysql.cj.jdbc.JdbcConnection.class);
            j.changeUser(MyProxyFixture.OTHER_USER, MyProxyFixture.OTHER_PASSWORD);
            try (ResultSet rs = s.executeQuery("SELECT @marker, @@port")) {
                rs.next();
                assertEquals(null, rs.getObject(1), "user variables are gone after a change of user");
                f.assertOnReadNode(rs.getInt(2), "a read after the change of user");
            }
            j.changeUser(MyProxyFixture.USER, MyProxyFixture.PASSWORD);
            assertEquals(1, s.executeUpdate("UPDATE proto SET b = NULL WHERE id = 1"));
            assertThrows(SQLException.class, () -> j.changeUser(MyProxyFixture.USER, "wrong"));
        }
    }

    @Test
    void resetConnectionDropsSessionStateAndRoutingGoesOn() throws Exception {
        try (Connection c = connectorJ(MyProxyFixture.USER, MyProxyFixture.PASSWORD, ""); Statement s = c.createStatement()) {
            s.execute("SET @marker = 7");
            c.setAutoCommit(false);
            s.executeUpdate("UPDATE proto SET b = NULL WHERE id = 2");
            c.unwrap(com.mysql.cj.jdbc.JdbcConnection.class).resetServerState(); // COM_RESET_CONNECTION
            c.setAutoCommit(true);
            try (ResultSet rs = s.executeQuery("SELECT @marker, @@port")) {
                rs.next();
                assertEquals(null, rs.getObject(1));
                f.assertOnReadNode(rs.getInt(2), "a read after the reset");
            }
        }
    }

    @Test
    void cursorsFetchFromTheNodeThatOpenedThem() throws Exception {
        try (Connection c = connectorJ(MyProxyFixture.USER, MyProxyFixture.PASSWORD, "&useServerPrepStmts=true&useCursorFetch=true");
             PreparedStatement p = c.prepareStatement("SELECT id, @@port FROM proto WHERE id <= ? ORDER BY id")) {
            p.setFetchSize(7);
            p.setInt(1, 100);
            int n = 0;
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    n++;
                    assertEquals(n, rs.getInt(1));
                    f.assertOnReadNode(rs.getInt(2), "row " + n + " of a cursor");
                }
            }
            assertEquals(100, n, "15 fetches of 7 rows");
        }
    }

    @Test
    void longDataReachesTheNodeTheExecuteRunsOn() throws Exception {
        byte[] blob = new byte[300_000];
        new java.util.Random(3).nextBytes(blob);
        try (Connection c = connectorJ(MyProxyFixture.USER, MyProxyFixture.PASSWORD, "&useServerPrepStmts=true")) {
            // prepared for a read (where reads go), executed as part of a write on the primary: re-prepared there,
            // the stream's long data sent there right before the execute
            try (PreparedStatement w = c.prepareStatement("UPDATE proto SET b = ? WHERE id = ?")) {
                w.setBinaryStream(1, new ByteArrayInputStream(blob));
                w.setInt(2, 3);
                assertEquals(1, w.executeUpdate());
            }
            c.setAutoCommit(false);
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT b, @@port FROM proto WHERE id = 3")) {
                rs.next();
                assertArrayEquals(blob, rs.getBytes(1));
                f.assertOnPrimary(rs.getInt(2), "a read in a transaction");
            }
            c.commit();
        }
    }

    @Test
    void initDbAndStatisticsAreRelayed() throws Exception {
        try (Connection c = connectorJ(MyProxyFixture.USER, MyProxyFixture.PASSWORD, "")) {
            c.setCatalog("other_db"); // USE on the session's node, replayed on the others
            // (a Statement made before setCatalog would switch back to its own database before each query)
            Statement s = c.createStatement();
            for (int i = 0; i < 4; i++) {
                try (ResultSet rs = s.executeQuery("SELECT DATABASE(), @@port")) {
                    rs.next();
                    assertEquals("other_db", rs.getString(1));
                    f.assertOnReadNode(rs.getInt(2), "read " + i);
                }
            }
        }
        // the CLI's status command asks the server for its statistics (COM_STATISTICS): "Uptime: …"
        ProxyFixture.Run r = MyProxyFixture.run(List.of("mariadb", "--no-defaults", "-h", "127.0.0.1", "-P", String.valueOf(f.port()),
                "-u", MyProxyFixture.USER, f.database(), "-e", "status"), f.cliEnv(), null, Duration.ofSeconds(30));
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("Uptime:") && r.out().contains("Threads:"), r.out());
        assertTrue(r.out().contains("MariaDB"), "the greeting shows the backend's version: " + r.out());
    }

    @Test
    void loadDataLocalInfileStreamsThroughTheProxyToThePrimary(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        StringBuilder csv = new StringBuilder();
        for (int i = 1; i <= 5000; i++) {
            csv.append(i).append(",row ").append(i).append('\n');
        }
        java.nio.file.Path file = dir.resolve("rows.csv");
        java.nio.file.Files.writeString(file, csv);
        ProxyFixture.Run r = MyProxyFixture.run(List.of("mariadb", "--no-defaults", "--local-infile=1", "-N", "-B", "-h", "127.0.0.1",
                "-P", String.valueOf(f.port()), "-u", MyProxyFixture.USER, f.database(), "-e",
                "CREATE TABLE IF NOT EXISTS loaded (id INT PRIMARY KEY, v VARCHAR(20));"
                        + " LOAD DATA LOCAL INFILE '" + file + "' INTO TABLE loaded FIELDS TERMINATED BY ',';"
                        + " BEGIN; SELECT count(*), @@port FROM loaded; COMMIT;"), f.cliEnv(), null, Duration.ofSeconds(60));
        assertEquals(0, r.exit(), r.err());
        String[] row = r.lines().get(0).split("\t");
        assertEquals("5000", row[0], r.out());
        f.assertOnPrimary(Integer.parseInt(row[1]), "the count in a transaction");
        f.cluster.waitForReplication(Duration.ofSeconds(30));
        try (Connection c = connectorJ(MyProxyFixture.USER, MyProxyFixture.PASSWORD, ""); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*), @@port FROM loaded")) {
            rs.next();
            assertEquals(5000, rs.getInt(1), "replicated");
            f.assertOnReadNode(rs.getInt(2), "a read of the loaded rows");
        }
    }

    @Test
    void metricsAndStatusCoverTheMysqlProxy() throws Exception {
        var http = java.net.http.HttpClient.newHttpClient();
        java.util.function.Supplier<Exposition> scrape = () -> {
            try {
                return new Exposition(http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:"
                        + f.server.adminAddress().getPort() + "/metrics")).GET().build(), java.net.http.HttpResponse.BodyHandlers.ofString()).body());
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        };
        Exposition before = scrape.get();
        try (Connection c = connectorJ(MyProxyFixture.USER, MyProxyFixture.PASSWORD, ""); Statement s = c.createStatement()) {
            for (int i = 0; i < 10; i++) {
                s.executeQuery("SELECT id FROM proto WHERE id = " + (i + 1)).close();
            }
            Exposition during = scrape.get();
            assertTrue(during.value("sluice_client_connections") >= 1, "a client is connected");
            double backends = f.replicaNames().stream().mapToDouble(n -> during.value("sluice_backend_connections", "node", n)).sum();
            assertTrue(backends >= 1, "backend connections to the replicas: " + backends);
        }
        Exposition after = scrape.get();
        double cycles = f.replicaNames().stream().mapToDouble(n -> after.value("sluice_statement_duration_seconds_count", "node", n)
                - before.value("sluice_statement_duration_seconds_count", "node", n)).sum();
        assertTrue(cycles >= 10, "statement latencies recorded on the replicas: " + cycles);
        var status = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:"
                + f.server.adminAddress().getPort() + "/api/status")).GET().build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(200, status.statusCode());
        assertTrue(status.body().contains(f.primaryName()) && status.body().contains("mariadb"), status.body());
    }
}
