package dev.sluice.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.proxy.pg.PgProxy;
import dev.sluice.proxy.shard.ShardEndpoints;
import dev.sluice.testsupport.Clusters;
import dev.sluice.testsupport.DbCluster;
import dev.sluice.testsupport.DbNode;
import dev.sluice.testsupport.ShardingDataSet;
import java.math.BigDecimal;
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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Sharding through the PostgreSQL proxy against real servers: a logical database {@code app} of three shards
 * (databases shard1..3 of one PostgreSQL primary with a streaming replica), the proxy in sharded mode in front
 * ({@code proxy.database: app}). The same data set is loaded through the proxy and directly into one unsharded
 * reference database ({@code ref}); every query shape of the driver's sharding tests (jdbc-driver
 * ShardingQueryTests, copied here: the two modules share no test code) must give exactly the reference result
 * through pgjdbc — values and their Java types, column labels, row order where ORDER BY fixes it — with
 * unnamed statements ({@code prepareThreshold=0}), named ones from the first execution (1: pgjdbc then asks
 * for binary results of the types it knows) and pgjdbc's default (5).
 */
class ShardedPgProxyIT {
    static final String USER = "app";
    static final String PASSWORD = "app-secret";
    static final String MD5_USER = "raw";
    static final String MD5_PASSWORD = "raw-secret";
    static final String[] MODES = {"prepareThreshold=0", "prepareThreshold=1", ""};

    static DbCluster cluster;
    static ProxyServer proxy;
    static Path yaml;

    @BeforeAll
    static void start() throws Exception {
        cluster = Clusters.startPostgres("shard-proxy-pg", 1);
        for (String db : List.of("shard1", "shard2", "shard3", "ref")) {
            try (Connection a = cluster.connectAdmin(cluster.primary()); Statement st = a.createStatement()) {
                st.execute("CREATE DATABASE " + db + " OWNER " + cluster.user());
            }
        }
        StringBuilder y = new StringBuilder("clusters:\n");
        for (int i = 1; i <= 3; i++) {
            y.append("  c").append(i).append(":\n    engine: postgresql\n    database: shard").append(i).append("\n    user: ")
                    .append(cluster.user()).append("\n    password: ").append(cluster.password()).append("\n    nodes:\n");
            for (DbNode n : cluster.nodes()) {
                y.append("      - { name: s").append(i).append(n.name()).append(", host: ").append(n.host()).append(", port: ")
                        .append(n.port()).append(" }\n");
            }
        }
        y.append("""
                databases:
                  app:
                    shards: [ { name: s1, cluster: c1 }, { name: s2, cluster: c2 }, { name: s3, cluster: c3 } ]
                """).append(ShardingDataSet.TABLES_YAML).append("""
                proxy:
                  listen: 127.0.0.1:0
                  admin-listen: 127.0.0.1:0
                  database: app
                  auth: md5
                  users:
                """).append("    - { name: ").append(USER).append(", password: \"").append(PgProxy.scramVerifier(PASSWORD)).append("\" }\n")
                .append("    - { name: ").append(MD5_USER).append(", password: \"md5").append(md5Hex(MD5_PASSWORD + MD5_USER)).append("\" }\n");
        yaml = Files.createTempFile("sluice-sharded-proxy", ".yaml");
        Files.writeString(yaml, y);
        proxy = new ProxyServer(ProxyConfig.load(yaml));
        awaitTopology();
        warmParser();
        try (Connection s = sluice(""); Statement st = s.createStatement(); Connection r = ref(); Statement rst = r.createStatement()) {
            for (String ddl : ShardingDataSet.DDL) {
                st.execute(ddl); // DDL goes to every shard
                rst.execute(ddl);
            }
            ShardingDataSet.load(s, r);
        }
        cluster.waitForReplication(Duration.ofSeconds(30));
    }

    @AfterAll
    static void stop() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        if (cluster != null) {
            cluster.close();
        }
        if (yaml != null) {
            Files.deleteIfExists(yaml);
        }
    }

    /**
     * The shard router parses each new statement text under a 200 ms (CPU-time) deadline, and a cold JSqlParser's
     * first parses (class loading, interpreted code) are the slowest. This test is not about that deadline: the
     * parser is warmed first, until the load's statements plan.
     */
    static void warmParser() throws InterruptedException {
        List<String> sqls = new ArrayList<>(List.of(ShardingDataSet.DDL));
        sqls.add("INSERT INTO orders (id, customer_id, amount, status, tag, country, created) VALUES ($1, $2, $3, $4, $5, $6, $7)");
        sqls.add("INSERT INTO events (id, kind, v) VALUES ($1, $2, $3)");
        for (int round = 0; round < 200; round++) {
            boolean all = true;
            for (String sql : sqls) {
                try {
                    proxy.shards().router().plan(sql + (round < 20 ? " /* warm " + round + " */" : ""));
                } catch (dev.sluice.core.shard.ShardingException e) {
                    all = false;
                }
            }
            if (all && round >= 20) {
                return;
            }
            Thread.sleep(round < 20 ? 0 : 50);
        }
        throw new AssertionError("the shard router could not plan the load's statements within its parse deadline");
    }

    static void awaitTopology() throws InterruptedException {
        long deadline = System.nanoTime() + 20_000_000_000L;
        for (ShardEndpoints.Shard s : proxy.shards().shards()) {
            while (true) {
                var t = s.runtime().router().topology();
                if (t.primary() != null && !t.replicas().isEmpty()) {
                    break;
                }
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("shard " + s.name() + " never saw its primary and replica: " + t);
                }
                Thread.sleep(50);
            }
        }
    }

    static Connection sluice(String mode) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + proxy.address().getPort() + "/app" + (mode.isEmpty() ? "" : "?" + mode),
                USER, PASSWORD);
    }

    static Connection ref() throws SQLException {
        DbNode p = cluster.primary();
        return DriverManager.getConnection("jdbc:postgresql://" + p.host() + ":" + p.port() + "/ref", cluster.user(), cluster.password());
    }

    static Connection direct(int shard) throws SQLException {
        DbNode p = cluster.primary();
        return DriverManager.getConnection("jdbc:postgresql://" + p.host() + ":" + p.port() + "/shard" + shard, cluster.user(), cluster.password());
    }


    // ---- comparison with the reference database ----

    /** Runs {@code sql} through the proxy (each pgjdbc mode) and on the reference database and asserts equal results. */
    static void assertSameAsUnsharded(String sql, Object... params) throws SQLException {
        List<List<Object>> want;
        try (Connection r = ref()) {
            want = rows(r, sql, params);
        }
        assertTrue(want.size() > 2 || sql.contains("count(") || sql.contains("sum("),
                "the reference result of " + sql + " is too small to prove anything: " + want);
        for (String mode : MODES) {
            try (Connection s = sluice(mode)) {
                // twice: pgjdbc's default mode switches to a named statement (and binary results) on a later execution
                for (int i = 0; i < (mode.isEmpty() ? 6 : 2); i++) {
                    assertEquals(want, rows(s, sql, params), sql + " [" + (mode.isEmpty() ? "default" : mode) + ", execution " + (i + 1) + "]");
                }
            }
        }
    }

    /** Column labels, then each row's values with their Java classes; rows sorted when the query has no ORDER BY. */
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
                    labels.add(md.getColumnLabel(i).toLowerCase(java.util.Locale.ROOT));
                }
                while (rs.next()) {
                    List<Object> row = new ArrayList<>();
                    for (int i = 1; i <= md.getColumnCount(); i++) {
                        Object v = rs.getObject(i);
                        row.add(v == null ? null : v.getClass().getSimpleName() + ":" + v);
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

    /** Statements each shard's inner proxy has routed so far (all nodes of the shard). */
    static long[] routedPerShard() {
        List<ShardEndpoints.Shard> shards = proxy.shards().shards();
        long[] out = new long[shards.size()];
        for (int i = 0; i < out.length; i++) {
            var rt = shards.get(i).runtime();
            for (dev.sluice.core.config.NodeConfig n : rt.config().nodes()) {
                out[i] += rt.router().routedTo(n.name());
            }
        }
        return out;
    }

    static SQLException assertRefused(Connection c, String sql, String why) {
        SQLException e = assertThrows(SQLException.class, () -> {
            try (Statement st = c.createStatement()) {
                st.execute(sql);
            }
        }, sql);
        assertEquals("0A000", e.getSQLState(), sql + ": " + e.getMessage());
        assertTrue(e.getMessage().contains(why), "'" + e.getMessage() + "' should say '" + why + "'");
        return e;
    }

    // ---- the query shapes ----

    @Test
    void singleShardQueriesByKey() throws Exception {
        assertSameAsUnsharded("SELECT * FROM orders WHERE customer_id = 17 ORDER BY id");
        assertSameAsUnsharded("SELECT id, amount, created FROM orders WHERE customer_id = ? ORDER BY id", 42L);
        assertSameAsUnsharded("SELECT id, status FROM orders WHERE customer_id = ? AND status IS NOT NULL ORDER BY id", 7);
        assertSameAsUnsharded("SELECT id, status FROM orders WHERE customer_id = ?::bigint ORDER BY id", "8"); // a text parameter
        assertSameAsUnsharded("SELECT count(*), sum(amount), avg(amount) FROM orders WHERE customer_id = 99");
    }

    @Test
    void keyListsAndRangesReachTheShardsThatHoldThem() throws Exception {
        assertSameAsUnsharded("SELECT id, customer_id FROM orders WHERE customer_id IN (1, 2, 3, 50, 99, 123) ORDER BY id");
        assertSameAsUnsharded("SELECT * FROM events WHERE id BETWEEN 900 AND 1100 ORDER BY id");
        assertSameAsUnsharded("SELECT * FROM events WHERE id BETWEEN ? AND ? ORDER BY id", 4990, 5010);
        assertSameAsUnsharded("SELECT count(*), sum(v), avg(v), min(kind), max(kind) FROM events WHERE id >= 4000");
        assertSameAsUnsharded("SELECT id, v FROM events WHERE id < 20 OR id > 6990 ORDER BY v DESC, id");
    }

    /** A range predicate reaches only the shards whose ranges it overlaps: the inner proxies' routing counters say so. */
    @Test
    void rangePredicatesReachOnlyOverlappingShards() throws Exception {
        for (String mode : MODES) {
            try (Connection c = sluice(mode); Statement st = c.createStatement()) {
                long[] before = routedPerShard();
                try (ResultSet rs = st.executeQuery("SELECT count(*) FROM events WHERE id BETWEEN 10 AND 20")) {
                    rs.next();
                    assertEquals(11, rs.getLong(1));
                }
                long[] mid = routedPerShard();
                assertReached(before, mid, new boolean[] {true, false, false}, "BETWEEN 10 AND 20 lies in s1 only");
                try (ResultSet rs = st.executeQuery("SELECT count(*) FROM events WHERE id BETWEEN 900 AND 1100")) {
                    rs.next();
                    assertEquals(201, rs.getLong(1));
                }
                long[] after = routedPerShard();
                assertReached(mid, after, new boolean[] {true, true, false}, "BETWEEN 900 AND 1100 spans s1 and s2");
                try (PreparedStatement ps = c.prepareStatement("SELECT id FROM events WHERE id >= ? ORDER BY id")) {
                    ps.setInt(1, 6000);
                    try (ResultSet rs = ps.executeQuery()) {
                        int n = 0;
                        while (rs.next()) {
                            n++;
                        }
                        assertEquals(1000, n);
                    }
                }
                assertReached(after, routedPerShard(), new boolean[] {false, false, true}, "id >= 6000 (bound as $1) lies in s3 only");
            }
        }
    }

    private static void assertReached(long[] a, long[] b, boolean[] expected, String what) {
        for (int i = 0; i < a.length; i++) {
            long d = b[i] - a[i];
            assertEquals(expected[i], d > 0, what + ": shard s" + (i + 1) + " routed " + d + " statements");
        }
    }

    @Test
    void scatterGatherOrderByLimitOffset() throws Exception {
        assertSameAsUnsharded("SELECT * FROM orders ORDER BY id");
        assertSameAsUnsharded("SELECT id, amount FROM orders ORDER BY amount DESC, id LIMIT 10");
        assertSameAsUnsharded("SELECT id, amount FROM orders ORDER BY amount, id LIMIT 10 OFFSET 25");
        assertSameAsUnsharded("SELECT id, amount FROM orders ORDER BY amount, id LIMIT ? OFFSET ?", 7, 100);
        assertSameAsUnsharded("SELECT id, created FROM orders ORDER BY created DESC, id LIMIT ?", 12);
        assertSameAsUnsharded("SELECT id, tag FROM orders ORDER BY tag, id LIMIT 60");
        assertSameAsUnsharded("SELECT id, tag FROM orders ORDER BY tag DESC, id DESC LIMIT 60");
        assertSameAsUnsharded("SELECT id, amount * 2 AS dbl FROM orders ORDER BY dbl DESC, id LIMIT 5");
        assertSameAsUnsharded("SELECT id, status FROM orders ORDER BY status, id LIMIT 40");
        assertSameAsUnsharded("SELECT customer_id, id FROM orders ORDER BY 1 DESC, 2 LIMIT 30");
        assertSameAsUnsharded("SELECT id, customer_id FROM orders WHERE amount > 900");
        assertSameAsUnsharded("SELECT id, customer_id FROM orders WHERE amount > ?", new BigDecimal("950.5"));
    }

    @Test
    void aggregatesAndGroupBy() throws Exception {
        assertSameAsUnsharded("SELECT count(*) FROM orders");
        assertSameAsUnsharded("SELECT count(*), count(amount), sum(amount), min(amount), max(amount), avg(amount) FROM orders");
        assertSameAsUnsharded("SELECT status, count(*), sum(amount), avg(amount), min(created), max(created) FROM orders "
                + "GROUP BY status ORDER BY status");
        assertSameAsUnsharded("SELECT customer_id, count(*) AS n FROM orders GROUP BY customer_id ORDER BY n DESC, customer_id LIMIT 5");
        assertSameAsUnsharded("SELECT created, count(*) FROM orders GROUP BY created ORDER BY created DESC LIMIT 7");
        assertSameAsUnsharded("SELECT country, status, count(*), max(tag) FROM orders GROUP BY country, status");
        assertSameAsUnsharded("SELECT DISTINCT status FROM orders ORDER BY status");
        assertSameAsUnsharded("SELECT DISTINCT country FROM orders");
        assertSameAsUnsharded("SELECT kind, avg(v), sum(v) FROM events GROUP BY kind ORDER BY kind");
        assertSameAsUnsharded("SELECT count(*), sum(v) FROM events WHERE v > ?", 500);
        assertSameAsUnsharded("SELECT count(*) FROM orders WHERE customer_id = 5 AND customer_id = 6");
    }

    @Test
    void broadcastAndHomeTables() throws Exception {
        assertSameAsUnsharded("SELECT * FROM countries ORDER BY code");
        assertSameAsUnsharded("SELECT k, v FROM settings ORDER BY k");
        assertSameAsUnsharded("SELECT o.id, c.name FROM orders o JOIN countries c ON o.country = c.code WHERE o.customer_id = 5 ORDER BY o.id");
        assertSameAsUnsharded("SELECT o.id, c.name FROM orders o JOIN countries c ON o.country = c.code ORDER BY o.id LIMIT 20");
        for (int i = 1; i <= 3; i++) {
            try (Connection d = direct(i); Statement st = d.createStatement(); ResultSet a = st.executeQuery("SELECT count(*) FROM countries")) {
                a.next();
                assertEquals(3, a.getInt(1), "countries on shard " + i);
                try (ResultSet b = st.executeQuery("SELECT count(*) FROM settings")) {
                    b.next();
                    assertEquals(i == 1 ? 2 : 0, b.getInt(1), "settings on shard " + i);
                }
            }
        }
    }

    /** SET reaches every shard's session (also connections opened later); the hint runs a statement on one shard. */
    @Test
    void sessionStateReachesEveryShard() throws Exception {
        try (Connection c = sluice(""); Statement st = c.createStatement()) {
            st.execute("SET application_name = 'sluice-shard-test'");
            for (String shard : List.of("s1", "s2", "s3")) {
                try (ResultSet rs = st.executeQuery("/* sluice:shard=" + shard + " */ SELECT current_setting('application_name'), current_database()")) {
                    assertTrue(rs.next());
                    assertEquals("sluice-shard-test", rs.getString(1), "session state on " + shard);
                    assertEquals("shard" + shard.substring(1), rs.getString(2), "the hint's shard");
                }
            }
        }
    }

    @Test
    void shapesThatCannotBeAnsweredFailClearly() throws Exception {
        try (Connection c = sluice("")) {
            assertRefused(c, "SELECT status, count(*) FROM orders GROUP BY status HAVING count(*) > 10", "HAVING across shards");
            assertRefused(c, "SELECT count(DISTINCT status) FROM orders", "COUNT(DISTINCT");
            assertRefused(c, "SELECT o.id FROM orders o JOIN events e ON o.customer_id = e.id", "cross-shard join");
            assertRefused(c, "SELECT * FROM orders WHERE id IN (SELECT id FROM events)", "cross-shard subquery");
            assertRefused(c, "UPDATE orders SET customer_id = 1 WHERE customer_id = 2", "would change the shard key");
            assertRefused(c, "INSERT INTO notes (id, k, body) VALUES (1, 1, 'a'), (2, 2, 'b'), (3, 3, 'c')", "multi-row INSERT");
            assertRefused(c, "SELECT * FROM nowhere", "not in the shard map");
            assertRefused(c, "DELETE FROM notes WHERE id > 0 RETURNING id", "RETURNING on several shards");
            // a binary parameter the proxy cannot read chooses no shard: an INSERT then fails clearly
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO notes (id, k, body) VALUES (1, ?::bigint, 'x')")) {
                ps.setBytes(1, new byte[] {1, 2, 3});
                SQLException e = assertThrows(SQLException.class, ps::executeUpdate);
                assertEquals("0A000", e.getSQLState(), e.getMessage());
                assertTrue(e.getMessage().contains("no shard can be chosen"), e.getMessage());
            }
            // a column the merge would have to order by but cannot read is refused by name, never guessed
            assertRefused(c, "SELECT id, ('x' || id)::bytea AS b FROM orders ORDER BY b, id LIMIT 3", "column 2 (\"b\") of type bytea");
            // (relayed without being read, it is fine)
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT id, ('x' || id)::bytea AS b FROM orders ORDER BY id LIMIT 3")) {
                assertTrue(rs.next());
                assertEquals("x1", new String(rs.getBytes(2), java.nio.charset.StandardCharsets.UTF_8));
            }
            // an error on one shard of a scatter names that shard
            SQLException div = assertThrows(SQLException.class, () -> rows(c, "SELECT id, 10 / (id - 5) FROM orders ORDER BY id"));
            assertEquals("22012", div.getSQLState(), div.getMessage());
            assertTrue(div.getMessage().contains("shard s") && div.getMessage().contains("division by zero"), div.getMessage());
            // and the session goes on
            assertEquals(List.of(List.of("?column?"), List.of("Integer:1")), rows(c, "SELECT 1"));
        }
        assertSameAsUnsharded("SELECT status, count(*) FROM orders WHERE customer_id IN (5) GROUP BY status HAVING count(*) >= 1 ORDER BY status");
    }

    @Test
    void writesByKeyAndOnSeveralShards() throws Exception {
        try (Connection c = sluice(""); Statement st = c.createStatement(); Connection r = ref(); Statement rst = r.createStatement()) {
            for (long k = 1; k <= 30; k++) {
                String sql = "INSERT INTO notes (id, k, body) VALUES (" + (1000 + k) + ", " + k + ", 'n" + k + "')";
                assertEquals(1, st.executeUpdate(sql));
                rst.executeUpdate(sql);
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
        }
        cluster.waitForReplication(Duration.ofSeconds(30));
        assertSameAsUnsharded("SELECT id, k, body FROM notes WHERE id > 1000 ORDER BY id");
        try (Connection r = ref(); Statement rst = r.createStatement(); Connection c = sluice(""); Statement st = c.createStatement()) {
            rst.executeUpdate("DELETE FROM notes WHERE id > 1000");
            assertEquals(29, st.executeUpdate("DELETE FROM notes WHERE id > 1000"));
        }
    }

    @Test
    void transactionsStayOnOneShard() throws Exception {
        long k1 = 1;
        long k2 = keyOnAnotherShard(k1);
        for (String mode : MODES) {
            try (Connection c = sluice(mode); Statement st = c.createStatement()) {
                c.setAutoCommit(false);
                st.executeUpdate("INSERT INTO notes (id, k, body) VALUES (5001, " + k1 + ", 'tx')");
                st.executeUpdate("INSERT INTO notes (id, k, body) VALUES (5002, " + k1 + ", 'tx')");
                SQLException e = assertThrows(SQLException.class,
                        () -> st.executeUpdate("INSERT INTO notes (id, k, body) VALUES (5003, " + k2 + ", 'tx')"));
                assertEquals("0A000", e.getSQLState());
                assertTrue(e.getMessage().contains("this transaction is on shard " + shardOf(k1)) && e.getMessage().contains(shardOf(k2)),
                        e.getMessage());
                c.rollback();
                // a committed single-shard transaction
                st.executeUpdate("INSERT INTO notes (id, k, body) VALUES (5004, " + k2 + ", 'tx')");
                try (PreparedStatement ps = c.prepareStatement("UPDATE notes SET body = ? WHERE k = ?")) {
                    ps.setString(1, "tx2");
                    ps.setLong(2, k2);
                    assertEquals(1, ps.executeUpdate());
                }
                c.commit();
                // SQL BEGIN … COMMIT with autocommit on: BEGIN goes to the first statement's shard
                c.setAutoCommit(true);
                st.execute("BEGIN");
                st.executeUpdate("INSERT INTO notes (id, k, body) VALUES (5005, " + k1 + ", 'sql-tx')");
                SQLException e2 = assertThrows(SQLException.class, () -> st.executeQuery("SELECT * FROM notes WHERE k = " + k2));
                assertEquals("0A000", e2.getSQLState());
                st.execute("COMMIT");
                // the session is still usable, and both transactions did what they said
                cluster.waitForReplication(Duration.ofSeconds(30));
                try (ResultSet rs = st.executeQuery("SELECT id, body FROM notes WHERE id BETWEEN 5001 AND 5010 ORDER BY id")) {
                    assertTrue(rs.next());
                    assertEquals(5004, rs.getLong(1), "the rolled-back rows are gone [" + mode + "]");
                    assertEquals("tx2", rs.getString(2));
                    assertTrue(rs.next());
                    assertEquals(5005, rs.getLong(1));
                    assertFalse(rs.next());
                }
                assertEquals(2, st.executeUpdate("DELETE FROM notes WHERE id BETWEEN 5001 AND 5010"));
            }
        }
    }

    static String shardOf(long k) {
        var rt = proxy.shards();
        return rt.map().names(rt.router().plan("SELECT 1 FROM notes WHERE k = " + k).targets(rt.map(), List.of())).get(0);
    }

    static long keyOnAnotherShard(long k) {
        String home = shardOf(k);
        for (long other = k + 1; ; other++) {
            if (!shardOf(other).equals(home)) {
                return other;
            }
        }
    }

    /** psql speaks the simple query protocol: point reads, a merged ORDER BY, aggregates, a refusal, a transaction. */
    @Test
    void psqlScripted() throws Exception {
        ClientTools.require("psql", "apt-get install postgresql-client");
        ProxyFixture.Run r = ProxyFixture.run(List.of("psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=0",
                "host=127.0.0.1 port=" + proxy.address().getPort() + " dbname=app user=" + USER), java.util.Map.of("PGPASSWORD", PASSWORD),
                """
                SELECT count(*) FROM orders;
                SELECT id FROM orders ORDER BY amount DESC NULLS LAST, id LIMIT 3;
                SELECT kind, count(*) FROM events GROUP BY kind ORDER BY kind;
                SELECT status, count(*) FROM orders GROUP BY status HAVING count(*) > 1;
                BEGIN;
                INSERT INTO notes (id, k, body) VALUES (7001, 1, 'psql');
                SELECT body FROM notes WHERE k = 1 AND id = 7001;
                ROLLBACK;
                SELECT count(*) FROM notes WHERE id = 7001;
                """, Duration.ofSeconds(60));
        List<String> want = new ArrayList<>();
        try (Connection c = ref(); Statement st = c.createStatement()) {
            for (String q : List.of("SELECT count(*) FROM orders", "SELECT id FROM orders ORDER BY amount DESC NULLS LAST, id LIMIT 3",
                    "SELECT kind || '|' || count(*) FROM events GROUP BY kind ORDER BY kind")) {
                try (ResultSet rs = st.executeQuery(q)) {
                    while (rs.next()) {
                        want.add(rs.getString(1));
                    }
                }
            }
        }
        want.add("psql");
        want.add("0");
        assertEquals(want, r.lines(), "stdout; stderr: " + r.err());
        assertTrue(r.err().contains("HAVING across shards is not supported"), r.err());
    }

    /** Every parameter type pgjdbc binds for an integer key finds the key's one shard (text or binary on the wire). */
    @Test
    void keyParametersOfEveryTypeRouteToOneShard() throws Exception {
        long want;
        try (Connection r = ref(); Statement st = r.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM orders WHERE customer_id = 42")) {
            rs.next();
            want = rs.getLong(1);
        }
        assertTrue(want > 0);
        Object[] keys = {42, 42L, (short) 42, new BigDecimal("42"), "42"};
        for (String mode : MODES) {
            try (Connection c = sluice(mode); PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM orders WHERE customer_id = ?::bigint")) {
                for (Object k : keys) {
                    for (int i = 0; i < 3; i++) {
                        long[] before = routedPerShard();
                        if (k instanceof String sk) {
                            ps.setString(1, sk);
                        } else {
                            ps.setObject(1, k);
                        }
                        try (ResultSet rs = ps.executeQuery()) {
                            rs.next();
                            assertEquals(want, rs.getLong(1), k.getClass().getSimpleName() + " [" + mode + "]");
                        }
                        long[] after = routedPerShard();
                        int reached = 0;
                        for (int s = 0; s < after.length; s++) {
                            reached += after[s] > before[s] ? 1 : 0;
                        }
                        assertEquals(1, reached, "a " + k.getClass().getSimpleName() + " key names one shard [" + mode + "]");
                    }
                }
            }
        }
    }

    /** A cancel (pgjdbc's query timeout) reaches every shard a statement runs on; the session goes on afterwards. */
    @Test
    void cancelReachesTheShards() throws Exception {
        try (Connection c = sluice(""); Statement st = c.createStatement()) {
            st.setQueryTimeout(1);
            for (String sql : List.of("/* sluice:shard=s2 */ SELECT pg_sleep(30)", "SELECT count(*) FROM orders WHERE pg_sleep(0.05) IS NOT NULL")) {
                long t0 = System.nanoTime();
                SQLException e = assertThrows(SQLException.class, () -> st.executeQuery(sql).close(), sql);
                assertEquals("57014", e.getSQLState(), sql + ": " + e.getMessage());
                assertTrue(System.nanoTime() - t0 < 15_000_000_000L, sql + " was not cancelled in time");
            }
            st.setQueryTimeout(0);
            assertEquals(List.of(List.of("count"), List.of("Long:3")), rows(c, "SELECT count(*) FROM countries"));
        }
    }

    /** COPY runs on one shard (by hint): out, and in with the client's data streamed to that shard. */
    @Test
    void copyOnOneShard() throws Exception {
        try (Connection c = sluice("")) {
            org.postgresql.copy.CopyManager cm = c.unwrap(org.postgresql.PGConnection.class).getCopyAPI();
            java.io.StringWriter out = new java.io.StringWriter();
            cm.copyOut("/* sluice:shard=s1 */ COPY (SELECT k, v FROM settings ORDER BY k) TO STDOUT", out);
            assertEquals("level\t3\nmode\tfast\n", out.toString());
            long n = cm.copyIn("/* sluice:shard=s3 */ COPY notes (id, k, body) FROM STDIN", new java.io.StringReader("9001\t1\tcopied\n9002\t2\tcopied\n"));
            assertEquals(2, n);
            try (Statement st = c.createStatement()) {
                assertEquals(2, st.executeUpdate("/* sluice:shard=s3 */ DELETE FROM notes WHERE id IN (9001, 9002)"));
            }
        }
    }

    static String md5Hex(String s) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("MD5").digest(s.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] body(Object... parts) {
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        for (Object p : parts) {
            if (p instanceof String str) {
                b.writeBytes(str.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                b.write(0);
            } else if (p instanceof Short sh) {
                b.write(sh >> 8);
                b.write(sh);
            } else if (p instanceof Integer in) {
                b.writeBytes(java.nio.ByteBuffer.allocate(4).putInt(in).array());
            } else {
                b.write((Character) p);
            }
        }
        return b.toByteArray();
    }

    /**
     * The wire protocol as no driver here sends it: a Describe of a portal on several shards answered on its own
     * (Flush, no Execute yet), its Execute later; a Bind of an unknown statement skips to the Sync.
     */
    @Test
    void describeOfAScatterPortalOnItsOwn() throws Exception {
        String sql = "SELECT id, amount FROM orders ORDER BY amount DESC NULLS LAST, id LIMIT 3";
        List<String> want = new ArrayList<>();
        try (Connection r = ref(); Statement st = r.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                want.add(rs.getString(1) + "|" + rs.getString(2));
            }
        }
        try (RawPg raw = new RawPg("127.0.0.1", proxy.address().getPort())) {
            raw.loginMd5("app", MD5_USER, MD5_PASSWORD);
            raw.send(RawPg.typed('P', body("", sql, (short) 0)));
            raw.send(RawPg.typed('B', body("", "", (short) 0, (short) 0, (short) 0)));
            raw.send(RawPg.typed('D', body('P', "")));
            raw.send(RawPg.typed('H', new byte[0]));
            assertEquals('1', raw.read().type());
            assertEquals('2', raw.read().type());
            RawPg.Msg t = raw.read();
            assertEquals('T', t.type(), "the merged row description, before any Execute");
            assertEquals(2, java.nio.ByteBuffer.wrap(t.body()).getShort(), "two columns: the hidden sort column is not shown");
            raw.send(RawPg.typed('E', body("", 0)));
            raw.send(RawPg.typed('S', new byte[0]));
            List<String> got = new ArrayList<>();
            RawPg.Msg m;
            while ((m = raw.read()).type() == 'D') {
                java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(m.body());
                b.getShort();
                byte[] id = new byte[b.getInt()];
                b.get(id);
                byte[] amount = new byte[b.getInt()];
                b.get(amount);
                got.add(new String(id) + "|" + new String(amount));
            }
            assertEquals(want, got);
            assertEquals('C', m.type());
            assertEquals("SELECT 3", new String(m.body(), 0, m.body().length - 1));
            assertEquals('Z', raw.read().type());
            // a Bind of a statement nobody prepared: an error, the rest skipped up to the Sync, and the session goes on
            raw.send(RawPg.typed('B', body("", "nope", (short) 0, (short) 0, (short) 0)));
            raw.send(RawPg.typed('E', body("", 0)));
            raw.send(RawPg.typed('S', new byte[0]));
            RawPg.Msg e = raw.read();
            assertEquals('E', e.type());
            assertEquals("26000", e.fields().get('C'), e.toString());
            assertEquals('Z', raw.read().type());
            raw.send(RawPg.query("SELECT count(*) FROM countries"));
            assertEquals('T', raw.read().type());
            RawPg.Msg row = raw.read();
            assertEquals('D', row.type());
            assertTrue(new String(row.body()).endsWith("3"), row.toString());
            raw.readUntil('Z');
        }
    }
}
