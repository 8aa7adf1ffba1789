package dev.sluice.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.core.cache.ReadCache;
import dev.sluice.testsupport.DbCluster;
import dev.sluice.testsupport.DbNode;
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
import org.junit.jupiter.api.Test;

/**
 * The read cache in a proxy (docs/cache.md), driven by a real JDBC driver over the wire, in the text protocol
 * (simple Query / COM_QUERY) and with server-side prepared statements (Bind/Execute / COM_STMT_EXECUTE).
 * Whether a statement was served from the cache is asked of the servers, by counting how often they read a
 * table; the proxy's own hit counter only tells which reads to compare with the latest write.
 */
abstract class AbstractProxyReadCacheIT {
    /** The cluster options every subclass's proxy is started with (RYW so the writer always reads its writes). */
    static final String CLUSTER_EXTRA = "    cache: on\n    cache-tables: \"*\"\n    read-your-writes: heartbeat\n";

    abstract DbCluster cluster();

    abstract ReadCache cache();

    /** A client connection to the proxy: {@code prepared} with server-side prepared statements, else the text protocol. */
    abstract Connection connect(boolean prepared) throws SQLException;

    abstract String nonDeterministicRead(String table);

    /** How many times the servers together have read {@code table} (a one-row table). */
    abstract long serverReads(String table) throws Exception;

    void direct(String... sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(cluster().primary().jdbcUrl(), cluster().user(), cluster().password());
             Statement st = c.createStatement()) {
            for (String s : sql) {
                st.execute(s);
            }
        }
    }

    static long sum(List<DbNode> nodes, Counter f) throws Exception {
        long total = 0;
        for (DbNode n : nodes) {
            total += f.of(n);
        }
        return total;
    }

    interface Counter {
        long of(DbNode n) throws Exception;
    }

    @Test
    void readAfterWriteThroughTheProxyNeverReturnsTheOldValueInEitherProtocol() throws Exception {
        direct("CREATE TABLE pkv (k int PRIMARY KEY, v int NOT NULL)", "INSERT INTO pkv VALUES (1, 0), (2, 0)");
        cluster().waitForReplication(Duration.ofSeconds(30));
        for (boolean prepared : new boolean[] {false, true}) {
            long hits = 0;
            try (Connection w = connect(prepared); Connection r = connect(prepared);
                 PreparedStatement upd = w.prepareStatement("UPDATE pkv SET v = ? WHERE k = 1");
                 PreparedStatement wsel = w.prepareStatement("SELECT v FROM pkv WHERE k = ?");
                 PreparedStatement rsel = r.prepareStatement("SELECT v FROM pkv WHERE k = ?")) {
                for (int i = 1; i <= 1000; i++) {
                    int v = prepared ? -i : i;
                    upd.setInt(1, v);
                    assertEquals(1, upd.executeUpdate());
                    for (int read = 0; read < 2; read++) {
                        long before = cache().hits();
                        assertEquals(v, value(wsel, 1), "iteration " + i + " read " + read + (cache().hits() > before ? " (hit)" : ""));
                        hits += cache().hits() - before;
                    }
                    long before = cache().hits();
                    int seen = value(rsel, 1);
                    if (cache().hits() > before) { // the other session's miss may read a lagging replica; a hit may not be old
                        hits++;
                        assertEquals(v, seen, "another session's cache hit, iteration " + i);
                    }
                    assertEquals(0, value(rsel, 2));
                }
            }
            assertTrue(hits >= 300, (prepared ? "prepared" : "text") + " protocol: only " + hits + " hits: " + cache().stats());
        }
    }

    private static int value(PreparedStatement ps, int k) throws SQLException {
        ps.setInt(1, k);
        try (ResultSet rs = ps.executeQuery()) {
            assertTrue(rs.next());
            return rs.getInt(1);
        }
    }

    @Test
    void aWriteOutsideSluiceBecomesVisibleWithinTheTtl() throws Exception {
        direct("CREATE TABLE pout (k int PRIMARY KEY, v varchar(20) NOT NULL)", "INSERT INTO pout VALUES (1, 'before')");
        cluster().waitForReplication(Duration.ofSeconds(30));
        long ttl = 1000; // the defaults: cache-ttl-ms = max-lag-ms = 1000
        try (Connection c = connect(false); Statement st = c.createStatement()) {
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            boolean cached = false;
            while (!cached && System.nanoTime() < deadline) {
                long before = cache().hits();
                assertEquals("before", text(st, "SELECT v FROM pout WHERE k = 1"));
                cached = cache().hits() > before;
            }
            assertTrue(cached, "never served from the cache: " + cache().stats());
            direct("UPDATE pout SET v = 'after' WHERE k = 1");
            long written = System.nanoTime();
            String seen = "before";
            while (seen.equals("before") && System.nanoTime() - written < Duration.ofMillis(2 * ttl + 3000).toNanos()) {
                seen = text(st, "SELECT v FROM pout WHERE k = 1");
            }
            long took = (System.nanoTime() - written) / 1_000_000;
            assertEquals("after", seen);
            assertTrue(took <= 2 * ttl + 500, "visible after " + took + " ms: TTL " + ttl + " + max-lag " + ttl);
        }
    }

    private static String text(Statement st, String sql) throws SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            assertTrue(rs.next());
            return rs.getString(1);
        }
    }

    @Test
    void transactionsAndNonDeterministicReadsAlwaysRunOnAServer() throws Exception {
        List<String> tables = List.of("pc_tx", "pc_fn", "pc_ptx", "pc_ok");
        for (String t : tables) {
            direct("CREATE TABLE " + t + " (id int PRIMARY KEY)", "INSERT INTO " + t + " VALUES (1)");
        }
        cluster().waitForReplication(Duration.ofSeconds(30));
        int n = 20;
        long[] before = new long[tables.size()];
        for (int i = 0; i < tables.size(); i++) {
            before[i] = serverReads(tables.get(i));
        }
        try (Connection text = connect(false); Connection prep = connect(true); Statement st = text.createStatement();
             PreparedStatement inTx = prep.prepareStatement("SELECT id FROM pc_ptx WHERE id = ?");
             PreparedStatement ok = prep.prepareStatement("SELECT id FROM pc_ok WHERE id = ?")) {
            for (int i = 0; i < n; i++) {
                st.execute("BEGIN");
                text(st, "SELECT id FROM pc_tx");
                st.execute("COMMIT");
                text(st, nonDeterministicRead("pc_fn"));
                prep.setAutoCommit(false);
                value(inTx, 1);
                prep.commit();
                prep.setAutoCommit(true);
                value(ok, 1);
            }
        }
        for (int i = 0; i < 3; i++) {
            assertEquals(n, awaitReads(tables.get(i), before[i] + n) - before[i], tables.get(i));
        }
        long cacheable = awaitReads("pc_ok", before[3] + 1) - before[3];
        assertTrue(cacheable <= n / 2, "cacheable reads ran " + cacheable + " of " + n + " times: " + cache().stats());
    }

    private long awaitReads(String table, long atLeast) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        long v = serverReads(table);
        while (v < atLeast && System.nanoTime() < deadline) {
            Thread.sleep(50); // between polls of the deadline loop: PostgreSQL publishes table counters up to ~1 s late
            v = serverReads(table);
        }
        return v;
    }

    /** A replayed reply reads exactly like the one relayed from the server: same rows, same metadata. */
    @Test
    void aReplayedReplyIsTheRelayedOne() throws Exception {
        direct("CREATE TABLE ptyped (id int PRIMARY KEY, n decimal(10,2), s varchar(30), d date)",
                "INSERT INTO ptyped VALUES (1, 1.50, 'one', '2024-01-02'), (2, NULL, 'two', NULL)");
        cluster().waitForReplication(Duration.ofSeconds(30));
        for (boolean prepared : new boolean[] {false, true}) {
            try (Connection c = connect(prepared); PreparedStatement ps = c.prepareStatement("SELECT * FROM ptyped WHERE id > ? ORDER BY id")) {
                List<String> first = null;
                long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
                boolean hit = false;
                while (!hit && System.nanoTime() < deadline) {
                    long before = cache().hits();
                    List<String> d = describe(ps);
                    hit = cache().hits() > before;
                    if (!hit) {
                        first = d;
                    } else {
                        assertEquals(first, d, prepared ? "prepared" : "text");
                    }
                }
                assertTrue(hit, "never served from the cache");
            }
        }
    }

    private static List<String> describe(PreparedStatement ps) throws SQLException {
        ps.setInt(1, 0);
        List<String> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            ResultSetMetaData md = rs.getMetaData();
            for (int i = 1; i <= md.getColumnCount(); i++) {
                out.add(md.getColumnLabel(i) + " " + md.getColumnType(i) + " " + md.getColumnTypeName(i) + " " + md.getPrecision(i));
            }
            while (rs.next()) {
                for (int i = 1; i <= md.getColumnCount(); i++) {
                    out.add(rs.getString(i) + "/" + rs.getObject(i));
                }
            }
        }
        return out;
    }
}
