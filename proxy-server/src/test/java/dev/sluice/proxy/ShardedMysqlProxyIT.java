package dev.sluice.proxy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.core.config.NodeConfig;
import dev.sluice.testsupport.Clusters;
import dev.sluice.testsupport.DbCluster;
import dev.sluice.testsupport.DbNode;
import dev.sluice.testsupport.ShardingDataSet;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Sharding through the MySQL proxy against real servers: a logical database {@code app} of three shards (databases
 * shard1..3 of one MariaDB primary with a GTID replica), the proxy in sharded mode ({@code proxy.database: app}) in
 * front. The same data set is loaded through the proxy (split across the shards) and directly into an unsharded
 * reference database; query shapes run through MariaDB Connector/J on the proxy — text protocol, and
 * {@code useServerPrepStmts=true} for the binary protocol — must give the reference's result: values with their
 * types, column labels, and the order where ORDER BY fixes it.
 */
class ShardedMysqlProxyIT {
    static final String USER = "app";
    static final String PASSWORD = "app-secret";

    /** Query shapes (from the driver's ShardingQueryTests) and their parameters. */
    static final List<Object[]> SHAPES = List.of(
            new Object[] {"SELECT * FROM orders WHERE customer_id = 17 ORDER BY id"},
            new Object[] {"SELECT id, amount, created FROM orders WHERE customer_id = ? ORDER BY id", 42L},
            new Object[] {"SELECT count(*), sum(amount), avg(amount) FROM orders WHERE customer_id = 99"},
            new Object[] {"SELECT id, customer_id FROM orders WHERE customer_id IN (1, 2, 3, 50, 99, 123) ORDER BY id"},
            new Object[] {"SELECT * FROM events WHERE id BETWEEN 900 AND 1100 ORDER BY id"},
            new Object[] {"SELECT count(*), sum(v), avg(v), min(kind), max(kind) FROM events WHERE id >= 4000"},
            new Object[] {"SELECT id, v FROM events WHERE id < 20 OR id > 6990 ORDER BY v DESC, id"},
            new Object[] {"SELECT * FROM orders ORDER BY id"},
            new Object[] {"SELECT id, amount FROM orders ORDER BY amount DESC, id LIMIT 10"},
            new Object[] {"SELECT id, amount FROM orders ORDER BY amount, id LIMIT 10 OFFSET 25"},
            new Object[] {"SELECT id, amount FROM orders ORDER BY amount, id LIMIT ? OFFSET ?", 7, 100},
            new Object[] {"SELECT id, tag FROM orders ORDER BY tag, id LIMIT 60"},
            new Object[] {"SELECT id, tag FROM orders ORDER BY tag DESC, id DESC LIMIT 60"},
            new Object[] {"SELECT id, amount * 2 AS dbl FROM orders ORDER BY dbl DESC, id LIMIT 5"},
            new Object[] {"SELECT id, status FROM orders ORDER BY status, id LIMIT 40"},
            new Object[] {"SELECT customer_id, id FROM orders ORDER BY 1 DESC, 2 LIMIT 30"},
            new Object[] {"SELECT id, customer_id FROM orders WHERE amount > 900"},
            new Object[] {"SELECT count(*) FROM orders"},
            new Object[] {"SELECT count(*), count(amount), sum(amount), min(amount), max(amount), avg(amount) FROM orders"},
            new Object[] {"SELECT status, count(*), sum(amount), avg(amount), min(created), max(created) FROM orders GROUP BY status ORDER BY status"},
            new Object[] {"SELECT customer_id, count(*) AS n FROM orders GROUP BY customer_id ORDER BY n DESC, customer_id LIMIT 5"},
            new Object[] {"SELECT created, count(*) FROM orders GROUP BY created ORDER BY created DESC LIMIT 7"},
            new Object[] {"SELECT country, status, count(*), max(tag) FROM orders GROUP BY country, status"},
            new Object[] {"SELECT DISTINCT status FROM orders ORDER BY status"},
            new Object[] {"SELECT DISTINCT country FROM orders"},
            new Object[] {"SELECT kind, avg(v), sum(v) FROM events GROUP BY kind ORDER BY kind"},
            new Object[] {"SELECT upper(tag) AS t, count(*) FROM orders GROUP BY upper(tag) ORDER BY t"},
            new Object[] {"SELECT count(*) FROM orders WHERE customer_id = 5 AND customer_id = 6"},
            new Object[] {"SELECT * FROM countries ORDER BY code"},
            new Object[] {"SELECT k, v FROM settings ORDER BY k"},
            new Object[] {"SELECT o.id, c.name FROM orders o JOIN countries c ON o.country = c.code WHERE o.customer_id = 5 ORDER BY o.id"},
            new Object[] {"SELECT o.id, c.name FROM orders o JOIN countries c ON o.country = c.code ORDER BY o.id LIMIT 20"},
            new Object[] {"SELECT status, count(*) FROM orders WHERE customer_id IN (5) GROUP BY status HAVING count(*) >= 1 ORDER BY status"},
            new Object[] {"SELECT id, customer_id FROM orders WHERE customer_id = ? OR customer_id = ? ORDER BY id", 3L, 250L},
            new Object[] {"SELECT id, kind FROM events WHERE id BETWEEN ? AND ? ORDER BY id", 995, 1010});

    static DbCluster cluster;
    static ProxyServer server;
    static Path yaml;

    @BeforeAll
    static void start() throws Exception {
        cluster = Clusters.startMariaDb("shard-myproxy", 1);
        for (String db : List.of("shard1", "shard2", "shard3", "ref")) {
            try (Connection a = cluster.connectAdmin(cluster.primary()); Statement st = a.createStatement()) {
                st.execute("CREATE DATABASE " + db + " CHARACTER SET utf8mb4");
                st.execute("GRANT ALL PRIVILEGES ON " + db + ".* TO '" + cluster.user() + "'@'%'");
            }
        }
        StringBuilder y = new StringBuilder("clusters:\n");
        for (int i = 1; i <= 3; i++) {
            y.append("  c").append(i).append(":\n    engine: mariadb\n    database: shard").append(i).append("\n    user: ").append(cluster.user())
                    .append("\n    password: ").append(cluster.password()).append("\n    nodes:\n");
            for (DbNode n : cluster.nodes()) {
                y.append("      - { name: ").append(n.name()).append(", host: ").append(n.host()).append(", port: ").append(n.port()).append(" }\n");
            }
        }
        y.append("""
                databases:
                  app:
                    shards:
                      - { name: s1, cluster: c1 }
                      - { name: s2, cluster: c2 }
                      - { name: s3, cluster: c3 }
                """).append(ShardingDataSet.TABLES_YAML).append("""
                proxy:
                  listen: 127.0.0.1:0
                  database: app
                  users:
                """);
        y.append("    - { name: ").append(USER).append(", password: \"").append(dev.sluice.proxy.mysql.MyAuth.nativeHash(PASSWORD)).append("\" }\n");
        yaml = Files.createTempFile("sluice-sharded-mysql", ".yaml");
        Files.writeString(yaml, y);
        server = new ProxyServer(ProxyConfig.load(yaml));
        awaitTopology();
        try (Connection s = proxy(false); Statement st = s.createStatement(); Connection r = ref(); Statement rst = r.createStatement()) {
            for (String ddl : ShardingDataSet.DDL) {
                st.execute(ddl); // DDL goes to every shard
                rst.execute(ddl);
            }
        }
        load();
        cluster.waitForReplication(Duration.ofSeconds(30));
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    static void awaitTopology() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        for (var shard : server.shards().shards()) {
            while (shard.runtime().router().topology().primary() == null || shard.runtime().router().topology().replicas().isEmpty()) {
                assertTrue(System.nanoTime() < deadline, "shard " + shard.name() + " has no primary and replica after 30 s");
                Thread.sleep(50);
            }
        }
    }

    static String url(boolean binary) {
        return "jdbc:mariadb://127.0.0.1:" + server.address().getPort() + "/app?user=" + USER + "&password=" + PASSWORD
                + "&socketTimeout=60000" + (binary ? "&useServerPrepStmts=true" : "");
    }

    static Connection proxy(boolean binary) throws SQLException {
        return DriverManager.getConnection(url(binary));
    }

    static Connection ref() throws SQLException {
        DbNode p = cluster.primary();
        return DriverManager.getConnection("jdbc:mariadb://" + p.host() + ":" + p.port() + "/ref", cluster.user(), cluster.password());
    }

    /** The data set, through the proxy (binary protocol: each row's execute routed by its bound key) and into the reference. */
    private static void load() throws SQLException {
        try (Connection s = proxy(true); Connection r = ref()) {
            ShardingDataSet.load(s, r);
        }
    }

    // ---- comparison with the reference ----

    static void assertSameAsUnsharded(boolean binary, String sql, Object... params) throws SQLException {
        try (Connection s = proxy(binary); Connection r = ref()) {
            List<List<Object>> want = rows(r, sql, params);
            List<List<Object>> got = rows(s, sql, params);
            assertTrue(want.size() > 2 || sql.contains("count(") || sql.contains("sum("), "the reference result of " + sql + " is too small: " + want);
            assertEquals(want, got, (binary ? "binary protocol: " : "text protocol: ") + sql);
        }
    }

    /** Column labels and scales, then each row's values with their Java classes; sorted when the query has no ORDER BY. */
    static List<List<Object>> rows(Connection c, String sql, Object... params) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                ps.setObject(i + 1, params[i]);
            }
            List<List<Object>> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                ResultSetMetaData md = rs.getMetaData();
                List<Object> labels = new ArrayList<>();
                for (int i = 1; i <= md.getColumnCount(); i++) {
                    // the scale too: a merged AVG must say AVG's own decimals, not the SUM's the shards ran
                    labels.add(md.getColumnLabel(i).toLowerCase(java.util.Locale.ROOT) + " scale " + md.getScale(i));
                }
                while (rs.next()) {
                    List<Object> row = new ArrayList<>();
                    for (int i = 1; i <= md.getColumnCount(); i++) {
                        Object v = rs.getObject(i);
                        row.add(v == null ? null : v.getClass().getSimpleName() + ":" + (v instanceof byte[] b ? new String(b) : v));
                    }
                    out.add(row);
                }
                if (!sql.contains("ORDER BY")) {
                    out.sort(java.util.Comparator.comparing(Object::toString));
                }
                out.add(0, labels);
            }
            return out;
        }
    }

    @Test
    void queryShapesMatchTheUnshardedDatabase_textProtocol() throws Exception {
        for (Object[] shape : SHAPES) {
            assertSameAsUnsharded(false, (String) shape[0], java.util.Arrays.copyOfRange(shape, 1, shape.length));
        }
    }

    @Test
    void queryShapesMatchTheUnshardedDatabase_binaryProtocol() throws Exception {
        for (Object[] shape : SHAPES) {
            assertSameAsUnsharded(true, (String) shape[0], java.util.Arrays.copyOfRange(shape, 1, shape.length));
        }
    }

    /**
     * utf8mb4_general_ci orders alpha and Alpha as equals before Beta and beta, where code points would put Beta (0x42)
     * before alpha (0x61): the merge compares the WEIGHT_STRING bytes each shard returns in a hidden column.
     */
    @Test
    void stringsMergeInTheColumnsCollation() throws Exception {
        for (boolean binary : new boolean[] {false, true}) {
            try (Connection s = proxy(binary); Statement st = s.createStatement();
                 ResultSet rs = st.executeQuery("SELECT tag FROM orders WHERE tag IN ('alpha', 'Alpha', 'beta', 'Beta') ORDER BY tag LIMIT 3000")) {
                List<String> tags = new ArrayList<>();
                while (rs.next()) {
                    tags.add(rs.getString(1));
                }
                assertTrue(tags.containsAll(List.of("alpha", "Alpha", "beta", "Beta")), "every spelling came back");
                int lastAlpha = Math.max(tags.lastIndexOf("alpha"), tags.lastIndexOf("Alpha"));
                int firstBeta = Math.min(tags.indexOf("beta"), tags.indexOf("Beta"));
                assertTrue(lastAlpha < firstBeta, (binary ? "binary: " : "text: ") + "alpha/Alpha before beta/Beta (general_ci), but Beta or beta came at "
                        + firstBeta + " and alpha or Alpha at " + lastAlpha);
            }
        }
    }

    /** Statement.cancel() sends KILL QUERY with the proxy's connection id: the sharded session kills it on its shard. */
    @Test
    void cancelStopsTheRunningStatementOnItsShard() throws Exception {
        try (Connection c = proxy(false); Statement st = c.createStatement()) {
            java.util.concurrent.ScheduledExecutorService ex = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
            try {
                ex.schedule(() -> {
                    st.cancel();
                    return null;
                }, 1, TimeUnit.SECONDS);
                long t0 = System.nanoTime();
                try (ResultSet rs = st.executeQuery("SELECT sleep(20)")) {
                    assertTrue(rs.next());
                    assertEquals(1, rs.getInt(1), "an interrupted SLEEP returns 1");
                } catch (SQLException e) {
                    assertTrue(e.getMessage().contains("interrupted"), e.getMessage());
                }
                long ms = (System.nanoTime() - t0) / 1_000_000;
                assertTrue(ms < 10_000, "the sleep ran " + ms + " ms: the cancel did not stop it");
            } finally {
                ex.shutdownNow();
            }
            try (ResultSet rs = st.executeQuery("SELECT count(*) FROM countries")) {
                assertTrue(rs.next());
                assertEquals(3, rs.getInt(1), "the session goes on");
            }
        }
    }

    /** Statements each shard's inner proxy routed so far (all nodes of the shard). */
    static long[] routedPerShard() {
        var shards = server.shards().shards();
        long[] out = new long[shards.size()];
        for (int i = 0; i < out.length; i++) {
            for (NodeConfig n : shards.get(i).cluster().nodes()) {
                out[i] += shards.get(i).runtime().router().routedTo(n.name());
            }
        }
        return out;
    }

    static long[] delta(long[] a, long[] b) {
        long[] d = new long[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = b[i] - a[i];
        }
        return d;
    }

    @Test
    void rangePredicatesReachOnlyOverlappingShards() throws Exception {
        for (boolean binary : new boolean[] {false, true}) {
            try (Connection c = proxy(binary)) {
                try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM events")) {
                    rs.next(); // opens this session's connection to every shard first (their session replay is routed too)
                    assertEquals(7000, rs.getLong(1));
                }
                long[] before = routedPerShard();
                try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM events WHERE id BETWEEN ? AND ?")) {
                    ps.setInt(1, 10);
                    ps.setInt(2, 20);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        assertEquals(11, rs.getLong(1));
                    }
                    long[] mid = routedPerShard();
                    assertArrayEquals(new long[] {1, 0, 0}, delta(before, mid), "BETWEEN 10 AND 20 lies in s1 only");
                    ps.setInt(1, 900);
                    ps.setInt(2, 1100);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        assertEquals(201, rs.getLong(1));
                    }
                    long[] after = routedPerShard();
                    assertArrayEquals(new long[] {1, 1, 0}, delta(mid, after), "BETWEEN 900 AND 1100 spans s1 and s2");
                    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT id FROM events WHERE id >= 6000 ORDER BY id")) {
                        int n = 0;
                        while (rs.next()) {
                            n++;
                        }
                        assertEquals(1000, n);
                    }
                    assertArrayEquals(new long[] {0, 0, 1}, delta(after, routedPerShard()), "id >= 6000 lies in s3 only");
                }
            }
        }
    }

    static SQLException assertRefused(Connection c, String sql, String why) {
        SQLException e = assertThrows(SQLException.class, () -> {
            try (Statement st = c.createStatement()) {
                st.execute(sql);
            }
        }, sql);
        assertEquals("0A000", e.getSQLState(), sql + ": " + e.getMessage());
        assertEquals(1235, e.getErrorCode(), sql + ": " + e.getMessage());
        assertTrue(e.getMessage().contains(why), "'" + e.getMessage() + "' should say '" + why + "'");
        return e;
    }

    @Test
    void shapesThatCannotBeAnsweredFailClearly() throws Exception {
        for (boolean binary : new boolean[] {false, true}) {
            try (Connection c = proxy(binary)) {
                assertRefused(c, "SELECT status, count(*) FROM orders GROUP BY status HAVING count(*) > 10", "HAVING across shards");
                assertRefused(c, "SELECT count(DISTINCT status) FROM orders", "COUNT(DISTINCT");
                assertRefused(c, "SELECT o.id FROM orders o JOIN events e ON o.customer_id = e.id", "cross-shard join");
                assertRefused(c, "SELECT * FROM orders WHERE id IN (SELECT id FROM events)", "cross-shard subquery");
                assertRefused(c, "UPDATE orders SET customer_id = 1 WHERE customer_id = 2", "would change the shard key");
                assertRefused(c, "INSERT INTO notes (id, k, body) VALUES (1, 1, 'a'), (2, 2, 'b'), (3, 3, 'c')", "multi-row INSERT");
                assertRefused(c, "SELECT * FROM nowhere", "not in the shard map");
                // the session goes on
                try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM orders")) {
                    assertTrue(rs.next());
                    assertEquals(3000, rs.getLong(1));
                }
            }
        }
    }

    @Test
    void writesByKeyAndOnSeveralShards() throws Exception {
        try (Connection c = proxy(true); Statement st = c.createStatement(); Connection r = ref(); Statement rst = r.createStatement()) {
            try (PreparedStatement ins = c.prepareStatement("INSERT INTO notes (id, k, body) VALUES (?, ?, ?)")) {
                for (long k = 1; k <= 30; k++) {
                    ins.setLong(1, 1000 + k);
                    ins.setLong(2, k);
                    ins.setString(3, "n" + k);
                    assertEquals(1, ins.executeUpdate());
                    rst.executeUpdate("INSERT INTO notes (id, k, body) VALUES (" + (1000 + k) + ", " + k + ", 'n" + k + "')");
                }
            }
            String upd = "UPDATE notes SET body = 'changed' WHERE k = 7";
            assertEquals(1, st.executeUpdate(upd));
            rst.executeUpdate(upd);
            String scatter = "UPDATE notes SET body = 'many' WHERE id > 1020"; // no key: every shard, counts added up
            assertEquals(10, st.executeUpdate(scatter));
            rst.executeUpdate(scatter);
            try (PreparedStatement del = c.prepareStatement("DELETE FROM notes WHERE k = ?")) {
                del.setLong(1, 3);
                assertEquals(1, del.executeUpdate());
            }
            rst.executeUpdate("DELETE FROM notes WHERE k = 3");
            try (PreparedStatement bad = c.prepareStatement("INSERT INTO notes (id, k, body) VALUES (?, ?, ?)")) {
                bad.setLong(1, 1999);
                bad.setBytes(2, new byte[] {7}); // a blob parameter: its value names no shard
                bad.setString(3, "blob key");
                SQLException e = assertThrows(SQLException.class, bad::executeUpdate);
                assertEquals("0A000", e.getSQLState(), e.getMessage());
                assertTrue(e.getMessage().contains("shard key k") && e.getMessage().contains("no shard can be chosen"), e.getMessage());
            }
            try (PreparedStatement upd2 = c.prepareStatement("UPDATE notes SET body = ? WHERE id > ?")) {
                upd2.setString(1, "bound");
                upd2.setLong(2, 1025);
                assertEquals(5, upd2.executeUpdate(), "a scatter write through the binary protocol");
                rst.executeUpdate("UPDATE notes SET body = 'bound' WHERE id > 1025");
            }
        }
        cluster.waitForReplication(Duration.ofSeconds(30));
        assertSameAsUnsharded(false, "SELECT id, k, body FROM notes WHERE id > 1000 ORDER BY id");
        try (Connection r = ref(); Statement rst = r.createStatement(); Connection c = proxy(false); Statement st = c.createStatement()) {
            rst.executeUpdate("DELETE FROM notes WHERE id > 1000");
            assertEquals(29, st.executeUpdate("DELETE FROM notes WHERE id > 1000"));
        }
    }

    /** A key of {@code notes} on another shard than {@code k}'s. */
    static long keyOnAnotherShard(long k) {
        var router = server.shards().router();
        var map = server.shards().map();
        long home = router.plan("SELECT 1 FROM notes WHERE k = " + k).targets(map, List.of());
        for (long other = k + 1; ; other++) {
            if (router.plan("SELECT 1 FROM notes WHERE k = " + other).targets(map, List.of()) != home) {
                return other;
            }
        }
    }

    static String shardOf(long k) {
        var map = server.shards().map();
        return map.names(server.shards().router().plan("SELECT 1 FROM notes WHERE k = " + k).targets(map, List.of())).get(0);
    }

    @Test
    void transactionsStayOnOneShard() throws Exception {
        long k1 = 1;
        long k2 = keyOnAnotherShard(k1);
        for (boolean binary : new boolean[] {false, true}) {
            try (Connection c = proxy(binary); Statement st = c.createStatement()) {
                c.setAutoCommit(false);
                st.executeUpdate("INSERT INTO notes (id, k, body) VALUES (5001, " + k1 + ", 'tx')");
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO notes (id, k, body) VALUES (?, ?, 'tx')")) {
                    ps.setLong(1, 5002);
                    ps.setLong(2, k1);
                    ps.executeUpdate();
                    ps.setLong(1, 5003);
                    ps.setLong(2, k2);
                    SQLException e = assertThrows(SQLException.class, ps::executeUpdate);
                    assertEquals("0A000", e.getSQLState(), e.getMessage());
                    assertTrue(e.getMessage().contains("pinned to shard " + shardOf(k1)) && e.getMessage().contains(shardOf(k2)), e.getMessage());
                }
                c.rollback();
                // usable after: a committed single-shard transaction on the other shard
                st.executeUpdate("INSERT INTO notes (id, k, body) VALUES (5004, " + k2 + ", 'tx')");
                st.executeUpdate("UPDATE notes SET body = 'tx2' WHERE k = " + k2 + " AND id = 5004");
                c.commit();
                // SQL BEGIN … COMMIT with autocommit on: BEGIN goes to the first statement's shard
                c.setAutoCommit(true);
                st.execute("BEGIN");
                st.executeUpdate("INSERT INTO notes (id, k, body) VALUES (5005, " + k1 + ", 'sql-tx')");
                SQLException e2 = assertThrows(SQLException.class, () -> st.executeQuery("SELECT * FROM notes WHERE k = " + k2).close());
                assertEquals("0A000", e2.getSQLState());
                st.execute("COMMIT");
            }
            cluster.waitForReplication(Duration.ofSeconds(30));
            try (Connection c = proxy(binary); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT id, body FROM notes WHERE id BETWEEN 5001 AND 5010 ORDER BY id")) {
                assertTrue(rs.next());
                assertEquals(5004, rs.getLong(1), "the rolled-back rows are gone");
                assertEquals("tx2", rs.getString(2));
                assertTrue(rs.next());
                assertEquals(5005, rs.getLong(1));
                assertFalse(rs.next());
                st.executeUpdate("DELETE FROM notes WHERE id BETWEEN 5001 AND 5010");
            }
        }
    }

    /** SET reaches every shard's session; {@code /* sluice:shard=NAME *&#47;} runs a statement on that shard. */
    @Test
    void sessionStateReachesEveryShard() throws Exception {
        try (Connection c = proxy(false); Statement st = c.createStatement()) {
            st.execute("SET @sluice_marker = 'sluice-shard-test'");
            for (int i = 1; i <= 3; i++) {
                try (ResultSet rs = st.executeQuery("/* sluice:shard=s" + i + " */ SELECT @sluice_marker, DATABASE()")) {
                    assertTrue(rs.next());
                    assertEquals("sluice-shard-test", rs.getString(1), "session state on s" + i);
                    assertEquals("shard" + i, rs.getString(2), "the hint's shard");
                }
            }
        }
    }

    /**
     * pymysql does not ask for CLIENT_DEPRECATE_EOF: merged results must end their column definitions and rows with
     * EOF packets. Same rows as the reference, through the proxy.
     */
    @Test
    void pymysqlWithoutDeprecateEof() throws Exception {
        String python = "/usr/bin/python3"; // Debian's, where python3-pymysql installs
        ClientTools.require(python, "apt-get install python3");
        String script = String.join("\n",
                "import sys, pymysql",
                // DB-API clients start with autocommit off: a read on several shards would then be refused (docs)
                "c = pymysql.connect(host=sys.argv[1], port=int(sys.argv[2]), user=sys.argv[3], password=sys.argv[4], database=sys.argv[5],"
                        + " autocommit=True)",
                "assert not (c.client_flag & (1 << 24)), 'pymysql asked for DEPRECATE_EOF'",
                "cur = c.cursor()",
                "for q in ['SELECT id, tag FROM orders ORDER BY tag, id LIMIT 15',",
                "          'SELECT status, count(*), avg(amount), max(created) FROM orders GROUP BY status ORDER BY status',",
                "          'SELECT count(*), sum(v) FROM events']:",
                "    cur.execute(q)",
                "    print([d[0] for d in cur.description])",
                "    for r in cur.fetchall():",
                "        print(repr(r))",
                "c.close()", "");
        Path py = Files.createTempFile("sluice-shard-pymysql", ".py");
        Files.writeString(py, script);
        ProxyFixture.Run viaProxy = ProxyFixture.run(List.of(python, py.toString(), "127.0.0.1", String.valueOf(server.address().getPort()), USER,
                PASSWORD, "app"), Map.of(), null, Duration.ofSeconds(60));
        DbNode p = cluster.primary();
        ProxyFixture.Run direct = ProxyFixture.run(List.of(python, py.toString(), p.host(), String.valueOf(p.port()), cluster.user(),
                cluster.password(), "ref"), Map.of(), null, Duration.ofSeconds(60));
        assertEquals(0, direct.exit(), direct.err());
        assertEquals(0, viaProxy.exit(), viaProxy.err());
        assertEquals(3 + 15 + 4 + 1, direct.lines().size(), direct.out());
        assertEquals(direct.out(), viaProxy.out());
    }

    /** The mariadb CLI (text protocol, its own client library) through the proxy prints what it prints for the reference. */
    @Test
    void mariadbCliThroughTheProxy() throws Exception {
        String mariadb = ClientTools.require("mariadb", "apt-get install mariadb-client");
        String script = "SELECT count(*), sum(amount), avg(amount) FROM orders;\n"
                + "SELECT id, tag FROM orders ORDER BY tag, id LIMIT 12;\n"
                + "SELECT status, count(*), min(created), max(created) FROM orders GROUP BY status ORDER BY status;\n"
                + "SELECT kind, avg(v) FROM events WHERE id BETWEEN 500 AND 5500 GROUP BY kind ORDER BY kind;\n";
        ProxyFixture.Run viaProxy = ProxyFixture.run(List.of(mariadb, "--no-defaults", "--protocol=TCP", "-h", "127.0.0.1", "-P",
                String.valueOf(server.address().getPort()), "-u", USER, "-N", "-B", "app"), Map.of("MYSQL_PWD", PASSWORD), script, Duration.ofSeconds(60));
        DbNode p = cluster.primary();
        ProxyFixture.Run direct = ProxyFixture.run(List.of(mariadb, "--no-defaults", "--protocol=TCP", "-h", p.host(), "-P", String.valueOf(p.port()),
                "-u", cluster.user(), "-N", "-B", "ref"), Map.of("MYSQL_PWD", cluster.password()), script, Duration.ofSeconds(60));
        assertEquals(0, viaProxy.exit(), viaProxy.err());
        assertEquals(0, direct.exit(), direct.err());
        assertEquals(1 + 12 + 4 + 5, direct.lines().size(), direct.out());
        assertEquals(direct.out(), viaProxy.out());
        ProxyFixture.Run refused = ProxyFixture.run(List.of(mariadb, "--no-defaults", "--protocol=TCP", "-h", "127.0.0.1", "-P",
                String.valueOf(server.address().getPort()), "-u", USER, "-N", "-B", "app"), Map.of("MYSQL_PWD", PASSWORD),
                "SELECT status FROM orders GROUP BY status HAVING count(*) > 1;\n", Duration.ofSeconds(60));
        assertTrue(refused.exit() != 0 && refused.err().contains("1235") && refused.err().contains("HAVING across shards"), refused.err());
    }
}
