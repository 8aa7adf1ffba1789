package dev.sluice.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.core.cache.CacheStats;
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
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The read cache through the driver, against a real primary with two replicas (docs/cache.md). Whether a
 * statement was served from the cache is asked of the servers, by counting how often they read a table.
 */
abstract class AbstractReadCacheIT {
    static DbCluster cluster;

    abstract String scheme();

    /** A read of {@code table} that calls a non-deterministic function. */
    abstract String nonDeterministicRead(String table);

    /** How many times the servers together have read {@code table} (scans or rows read of a one-row table). */
    abstract long serverReads(String table) throws Exception;

    /** Column definitions of the type-fidelity table, and a row of values (then a row of NULLs is added). */
    abstract String typesColumns();

    abstract String typesValues();

    String url(String extra) {
        String hosts = cluster.nodes().stream().map(n -> n.host() + ":" + n.port()).collect(Collectors.joining(","));
        return "jdbc:sluice:" + scheme() + "://" + hosts + "/" + cluster.database() + "?user=" + cluster.user()
                + "&password=" + cluster.password() + "&cache=on" + extra;
    }

    /** Runs {@code sql} as the application user directly on the primary: outside Sluice. */
    void direct(String... sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(cluster.primary().jdbcUrl(), cluster.user(), cluster.password());
             Statement st = c.createStatement()) {
            for (String s : sql) {
                st.execute(s);
            }
        }
    }

    void replicated() throws Exception {
        cluster.waitForReplication(Duration.ofSeconds(30));
    }

    static boolean hit(Statement st) throws SQLException {
        return DriverCache.HIT_NODE.equals(st.unwrap(SluiceRouted.class).lastRoute().node());
    }

    static CacheStats stats(Connection c) throws SQLException {
        return c.unwrap(SluiceAdmin.class).clusterStatus().cache();
    }

    @AfterAll
    static void shutdown() throws Exception {
        SluiceDriver.closeAll();
        if (cluster != null) {
            cluster.close();
        }
    }

    /**
     * The test: 1,000 times, a write through Sluice then reads of the written row. The writing session
     * (read-your-writes) must always see its value, hit or miss; another session may read a lagging replica on a
     * miss (replication, not the cache) but every one of its cache hits must be the latest value.
     */
    @Test
    void readAfterWriteThroughSluiceNeverReturnsTheOldValue() throws Exception {
        direct("CREATE TABLE raw_kv (k int PRIMARY KEY, v int NOT NULL)", "INSERT INTO raw_kv VALUES (1, 0), (2, 0)");
        replicated();
        String u = url("&cache-tables=raw_kv&read-your-writes=position");
        int writerHits = 0;
        int readerHits = 0;
        try (Connection w = DriverManager.getConnection(u); Connection r = DriverManager.getConnection(u);
             PreparedStatement upd = w.prepareStatement("UPDATE raw_kv SET v = ? WHERE k = 1");
             PreparedStatement wsel = w.prepareStatement("SELECT v FROM raw_kv WHERE k = ?");
             PreparedStatement rsel = r.prepareStatement("SELECT v FROM raw_kv WHERE k = ?")) {
            for (int i = 1; i <= 1000; i++) {
                upd.setInt(1, i);
                assertEquals(1, upd.executeUpdate());
                for (int read = 0; read < 2; read++) {
                    wsel.setInt(1, 1);
                    try (ResultSet rs = wsel.executeQuery()) {
                        assertTrue(rs.next());
                        assertEquals(i, rs.getInt(1), "iteration " + i + ", read " + read + (hit(wsel) ? " (cache hit)" : ""));
                    }
                    writerHits += hit(wsel) ? 1 : 0;
                }
                rsel.setInt(1, 1);
                try (ResultSet rs = rsel.executeQuery()) {
                    assertTrue(rs.next());
                    if (hit(rsel)) {
                        readerHits++;
                        assertEquals(i, rs.getInt(1), "another session's cache hit in iteration " + i);
                    }
                }
                rsel.setInt(1, 2); // never written: 0 from wherever it comes
                try (ResultSet rs = rsel.executeQuery()) {
                    assertTrue(rs.next());
                    assertEquals(0, rs.getInt(1));
                }
            }
            CacheStats s = stats(w);
            assertTrue(writerHits + readerHits >= 300, "the cache served reads: writer " + writerHits + ", reader " + readerHits + ", " + s);
            assertTrue(s.invalidationsByTable().getOrDefault("raw_kv", 0L) >= 1000, s.toString());
        }
    }

    /** A write made directly on the primary is only bounded by the TTL: visible within TTL + a replica's lag. */
    @Test
    void aWriteOutsideSluiceBecomesVisibleWithinTheTtl() throws Exception {
        direct("CREATE TABLE outside_kv (k int PRIMARY KEY, v varchar(20) NOT NULL)", "INSERT INTO outside_kv VALUES (1, 'before')");
        replicated();
        int ttl = 1000;
        int maxLag = 1000;
        try (Connection c = DriverManager.getConnection(url("&cache-tables=outside_kv&cache-ttl-ms=" + ttl + "&max-lag-ms=" + maxLag));
             Statement st = c.createStatement()) {
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            boolean cached = false;
            while (!cached && System.nanoTime() < deadline) { // until a replica is proven current and the result kept
                try (ResultSet rs = st.executeQuery("SELECT v FROM outside_kv WHERE k = 1")) {
                    rs.next();
                    assertEquals("before", rs.getString(1));
                }
                cached = hit(st);
            }
            assertTrue(cached, "the read was never served from the cache: " + stats(c));
            direct("UPDATE outside_kv SET v = 'after' WHERE k = 1");
            long written = System.nanoTime();
            String seen = "before";
            int oldHits = 0;
            while (seen.equals("before") && System.nanoTime() - written < Duration.ofMillis(ttl + maxLag + 3000).toNanos()) {
                try (ResultSet rs = st.executeQuery("SELECT v FROM outside_kv WHERE k = 1")) {
                    rs.next();
                    seen = rs.getString(1);
                }
                oldHits += seen.equals("before") && hit(st) ? 1 : 0;
            }
            long tookMs = (System.nanoTime() - written) / 1_000_000;
            assertEquals("after", seen, "not visible " + tookMs + " ms after the write");
            assertTrue(tookMs <= ttl + maxLag + 500, "visible after " + tookMs + " ms; bound TTL " + ttl + " + max lag " + maxLag);
            System.out.printf("outside write visible after %d ms (%d stale cache hits before)%n", tookMs, oldHits);
        }
    }

    /**
     * Reads in a transaction, non-deterministic reads and locking reads run on a server every time: the servers'
     * own counters see each execution. The same count for a cacheable read stays far below (the test can fail).
     */
    @Test
    void transactionsNonDeterministicAndLockingReadsAreNeverServedFromTheCache() throws Exception {
        List<String> tables = List.of("cnt_tx", "cnt_fn", "cnt_lock", "cnt_sqltx", "cnt_ok");
        for (String t : tables) {
            direct("CREATE TABLE " + t + " (id int PRIMARY KEY)", "INSERT INTO " + t + " VALUES (1)");
        }
        replicated();
        int n = 25;
        try (Connection c = DriverManager.getConnection(url("&cache-tables=" + String.join(",", tables)));
             Statement st = c.createStatement()) {
            long[] before = new long[tables.size()];
            for (int i = 0; i < tables.size(); i++) {
                before[i] = serverReads(tables.get(i));
            }
            for (int i = 0; i < n; i++) {
                c.setAutoCommit(false);
                read(st, "SELECT id FROM cnt_tx");
                c.commit();
                c.setAutoCommit(true);
                read(st, nonDeterministicRead("cnt_fn"));
                read(st, "SELECT id FROM cnt_lock FOR UPDATE");
                st.execute("BEGIN");
                read(st, "SELECT id FROM cnt_sqltx");
                st.execute("COMMIT");
                read(st, "SELECT id FROM cnt_ok");
            }
            for (int i = 0; i < 4; i++) {
                assertEquals(n, awaitReads(tables.get(i), before[i] + n) - before[i], tables.get(i) + ": every execution ran on a server");
            }
            long cacheable = awaitReads("cnt_ok", before[4] + 1) - before[4];
            assertTrue(cacheable <= n / 2, "cacheable reads ran " + cacheable + " times out of " + n + ": " + stats(c));
            assertTrue(stats(c).hits() > 0);
        }
    }

    private static void read(Statement st, String sql) throws SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            assertTrue(rs.next(), sql);
        }
        assertFalse(hit(st) && !sql.contains("cnt_ok"), sql + " was served from the cache");
    }

    /** Polls the servers' counters (PostgreSQL publishes them up to a second late) until {@code atLeast}, then once more. */
    private long awaitReads(String table, long atLeast) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        long v = serverReads(table);
        while (v < atLeast && System.nanoTime() < deadline) {
            Thread.sleep(50); // between polls of the deadline loop
            v = serverReads(table);
        }
        return v;
    }

    /** A cached result answers as the real driver's result set: values, types, metadata, scrolling. */
    @Test
    void aCachedResultSetBehavesLikeTheRealOne() throws Exception {
        direct("CREATE TABLE typed (" + typesColumns() + ")", "INSERT INTO typed VALUES (" + typesValues() + ")",
                "INSERT INTO typed (id) VALUES (2)");
        replicated();
        String sql = "SELECT t.*, i AS aliased, v AS \"Label\" FROM typed t ORDER BY id";
        try (Connection c = DriverManager.getConnection(url("&cache-tables=typed"))) {
            List<List<String>> real = describe(c, "/* sluice:no-cache */ " + sql, ResultSet.TYPE_FORWARD_ONLY, false);
            List<List<String>> cached = null;
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (cached == null && System.nanoTime() < deadline) {
                try (Statement st = c.createStatement()) {
                    st.executeQuery(sql).close();
                }
                List<List<String>> d = describe(c, sql, ResultSet.TYPE_FORWARD_ONLY, true);
                cached = d.isEmpty() ? null : d;
            }
            assertTrue(cached != null, "never served from the cache: " + stats(c));
            assertSameAnswers(real, cached);
            List<List<String>> scrolled = describe(c, sql, ResultSet.TYPE_SCROLL_INSENSITIVE, true);
            assertFalse(scrolled.isEmpty(), "a scrollable statement's read was not served from the cache");
            assertSameAnswers(describe(c, "/* sluice:no-cache */ " + sql, ResultSet.TYPE_SCROLL_INSENSITIVE, false), scrolled);
        }
    }

    /**
     * Every answer the real driver gives, the cached result gives too. Where the real driver throws (pgjdbc:
     * getObject(i, String.class) of an int; getDate of an int, an ArrayIndexOutOfBoundsException), the cached
     * result may answer instead: being stricter than a driver's conversion rules is not worth copying its bugs.
     */
    private static void assertSameAnswers(List<List<String>> real, List<List<String>> cached) {
        assertEquals(real.size(), cached.size(), "lines");
        List<String> diffs = new ArrayList<>();
        for (int i = 0; i < real.size(); i++) {
            List<String> r = real.get(i);
            List<String> x = cached.get(i);
            for (int j = 0; j < r.size(); j++) {
                if (!r.get(j).startsWith("throws ") && !r.get(j).equals(j < x.size() ? x.get(j) : null)) {
                    diffs.add(r.get(0) + " [" + j + "]: real " + r.get(j) + ", cached " + (j < x.size() ? x.get(j) : "-"));
                }
            }
        }
        assertTrue(diffs.isEmpty(), String.join("\n", diffs));
    }

    /**
     * Everything a result set tells about itself, as text lines (or the exception's class). {@code needHit}:
     * returns an empty list unless the execution was a cache hit.
     */
    private static List<List<String>> describe(Connection c, String sql, int type, boolean needHit) throws SQLException {
        List<List<String>> out = new ArrayList<>();
        try (Statement st = c.createStatement(type, ResultSet.CONCUR_READ_ONLY); ResultSet rs = st.executeQuery(sql)) {
            if (needHit && !hit(st)) {
                return List.of();
            }
            ResultSetMetaData md = rs.getMetaData();
            int cols = md.getColumnCount();
            for (int i = 1; i <= cols; i++) {
                out.add(List.of("meta", md.getColumnName(i), md.getColumnLabel(i), "" + md.getColumnType(i), md.getColumnTypeName(i),
                        md.getColumnClassName(i), "" + md.getPrecision(i), "" + md.getScale(i), "" + md.isNullable(i)));
            }
            out.add(List.of("type", "" + rs.getType(), "" + rs.getConcurrency()));
            if (type != ResultSet.TYPE_FORWARD_ONLY) {
                out.add(List.of("last", "" + rs.last(), "" + rs.getRow(), get(() -> rs.getString(1))));
                out.add(List.of("previous", "" + rs.previous(), "" + rs.getRow()));
                out.add(List.of("absolute", "" + rs.absolute(2), get(() -> rs.getString("id"))));
                rs.beforeFirst();
            } else {
                out.add(List.of("previous", get(rs::previous)));
            }
            while (rs.next()) {
                for (int i = 1; i <= cols; i++) {
                    int col = i;
                    String label = md.getColumnLabel(i);
                    out.add(List.of("row " + rs.getRow() + " col " + label, get(() -> rs.getObject(col)), get(() -> rs.getString(label)),
                            get(() -> rs.getInt(col)) + "/" + rs.wasNull(), get(() -> rs.getLong(col)), get(() -> rs.getBigDecimal(col)),
                            get(() -> rs.getDouble(col)), get(() -> rs.getBoolean(col)), get(() -> rs.getTimestamp(col)),
                            get(() -> rs.getDate(col)), get(() -> rs.getBytes(col)), get(() -> rs.getObject(col, String.class)),
                            get(() -> rs.getObject(col, java.time.LocalDateTime.class))));
                }
            }
            out.add(List.of("after", "" + rs.isAfterLast(), get(() -> rs.getString(1))));
        }
        return out;
    }

    private interface Get {
        Object get() throws Exception;
    }

    private static String get(Get g) {
        try {
            Object o = g.get();
            if (o instanceof byte[] b) {
                return "bytes" + Arrays.toString(b);
            }
            return o == null ? "null" : o.getClass().getSimpleName() + ":" + o;
        } catch (Exception e) {
            return "throws " + (e instanceof SQLException ? "SQLException" : e.getClass().getSimpleName());
        }
    }

    static long sum(List<DbNode> nodes, SqlLong f) throws Exception {
        long total = 0;
        for (DbNode n : nodes) {
            total += f.of(n);
        }
        return total;
    }

    interface SqlLong {
        long of(DbNode n) throws Exception;
    }

    @Test
    void theCacheIsBoundedAndCountedInTheClusterStatus() throws Exception {
        direct("CREATE TABLE many (id int PRIMARY KEY, pad varchar(200))");
        StringBuilder ins = new StringBuilder("INSERT INTO many VALUES ");
        for (int i = 1; i <= 200; i++) {
            ins.append(i > 1 ? "," : "").append('(').append(i).append(", '").append("x".repeat(200)).append("')");
        }
        direct(ins.toString());
        replicated();
        try (Connection c = DriverManager.getConnection(url("&cache-tables=many&cache-max-bytes=60000&cache-max-result-bytes=5000&cache-ttl-ms=1000"));
             PreparedStatement ps = c.prepareStatement("SELECT pad FROM many WHERE id = ?")) {
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (stats(c).stores() < 200 && System.nanoTime() < deadline) {
                for (int i = 1; i <= 200; i++) {
                    ps.setInt(1, i);
                    ps.executeQuery().close();
                }
            }
            CacheStats s = stats(c);
            assertTrue(s.stores() >= 200, s.toString());
            assertTrue(s.bytes() <= 60_000, "over the byte bound: " + s);
            assertTrue(s.evictions() > 0, s.toString());
            ps.setInt(1, 1);
            try (PreparedStatement big = c.prepareStatement("SELECT pad FROM many")) {
                big.executeQuery().close();
                big.executeQuery().close();
                assertFalse(hit(big), "a result over cache-max-result-bytes is not kept");
            }
            assertTrue(stats(c).notStored().getOrDefault("too-large", 0L) >= 2, stats(c).toString());
        }
    }
}
