package dev.sluice.jdbc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The sharding tests every engine and shard layout runs (see {@link AbstractShardingIT}). */
abstract class ShardingQueryTests extends AbstractShardingIT {

    @Test
    void singleShardQueriesByKey() throws Exception {
        assertSameAsUnsharded("SELECT * FROM orders WHERE customer_id = 17 ORDER BY id");
        assertSameAsUnsharded("SELECT id, amount, created FROM orders WHERE customer_id = ? ORDER BY id", 42L);
        assertSameAsUnsharded("SELECT id, status FROM orders WHERE customer_id = ? AND status IS NOT NULL ORDER BY id", 7);
        assertSameAsUnsharded("SELECT count(*), sum(amount), avg(amount) FROM orders WHERE customer_id = 99");
        try (Connection c = sluice(); PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM orders WHERE customer_id = ?")) {
            ps.setLong(1, 5);
            ps.executeQuery().close();
            assertEquals(1, ps.unwrap(SluiceSharded.class).lastShards().size(), "a key names one shard");
        }
    }

    @Test
    void keyListsAndRangesReachTheShardsThatHoldThem() throws Exception {
        assertSameAsUnsharded("SELECT id, customer_id FROM orders WHERE customer_id IN (1, 2, 3, 50, 99, 123) ORDER BY id");
        assertSameAsUnsharded("SELECT * FROM events WHERE id BETWEEN 900 AND 1100 ORDER BY id");
        assertSameAsUnsharded("SELECT count(*), sum(v), avg(v), min(kind), max(kind) FROM events WHERE id >= 4000");
        assertSameAsUnsharded("SELECT id, v FROM events WHERE id < 20 OR id > 6990 ORDER BY v DESC, id");
    }

    /** The range strategy sends a range predicate only to the shards whose ranges it overlaps (router counters). */
    @Test
    void rangePredicatesReachOnlyOverlappingShards() throws Exception {
        try (Connection c = sluice(); Statement st = c.createStatement()) {
            long[] before = routedPerShard(c);
            try (ResultSet rs = st.executeQuery("SELECT count(*) FROM events WHERE id BETWEEN 10 AND 20")) {
                rs.next();
                assertEquals(11, rs.getLong(1));
            }
            long[] mid = routedPerShard(c);
            assertArrayEquals(new long[] {1, 0, 0}, delta(before, mid), "BETWEEN 10 AND 20 lies in s1 only");
            try (ResultSet rs = st.executeQuery("SELECT count(*) FROM events WHERE id BETWEEN 900 AND 1100")) {
                rs.next();
                assertEquals(201, rs.getLong(1));
            }
            long[] after = routedPerShard(c);
            assertArrayEquals(new long[] {1, 1, 0}, delta(mid, after), "BETWEEN 900 AND 1100 spans s1 and s2");
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
            assertArrayEquals(new long[] {0, 0, 1}, delta(after, routedPerShard(c)), "id >= 6000 lies in s3 only");
        }
    }

    private static long[] delta(long[] a, long[] b) {
        long[] d = new long[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = b[i] - a[i];
        }
        return d;
    }

    @Test
    void scatterGatherOrderByLimitOffset() throws Exception {
        assertSameAsUnsharded("SELECT * FROM orders ORDER BY id");
        assertSameAsUnsharded("SELECT id, amount FROM orders ORDER BY amount DESC, id LIMIT 10");
        assertSameAsUnsharded("SELECT id, amount FROM orders ORDER BY amount, id LIMIT 10 OFFSET 25");
        assertSameAsUnsharded("SELECT id, amount FROM orders ORDER BY amount, id LIMIT ? OFFSET ?", 7, 100);
        assertSameAsUnsharded("SELECT id, tag FROM orders ORDER BY tag, id LIMIT 60"); // strings in the column's collation
        assertSameAsUnsharded("SELECT id, tag FROM orders ORDER BY tag DESC, id DESC LIMIT 60");
        assertSameAsUnsharded("SELECT id, amount * 2 AS dbl FROM orders ORDER BY dbl DESC, id LIMIT 5");
        assertSameAsUnsharded("SELECT id, status FROM orders ORDER BY status, id LIMIT 40"); // NULLs where the engine puts them
        assertSameAsUnsharded("SELECT customer_id, id FROM orders ORDER BY 1 DESC, 2 LIMIT 30");
        assertSameAsUnsharded("SELECT id, customer_id FROM orders WHERE amount > 900");
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
        assertSameAsUnsharded("SELECT count(*) FROM orders WHERE customer_id = 5 AND customer_id = 6");
    }

    @Test
    void broadcastAndHomeTables() throws Exception {
        assertSameAsUnsharded("SELECT * FROM countries ORDER BY code");
        assertSameAsUnsharded("SELECT k, v FROM settings ORDER BY k");
        assertSameAsUnsharded("SELECT o.id, c.name FROM orders o JOIN countries c ON o.country = c.code WHERE o.customer_id = 5 ORDER BY o.id");
        assertSameAsUnsharded("SELECT o.id, c.name FROM orders o JOIN countries c ON o.country = c.code ORDER BY o.id LIMIT 20");
        // broadcast rows are on every shard, the home table's only on s1
        for (int i = 0; i < SHARDS.size(); i++) {
            try (Connection d = direct(SHARDS.get(i)); Statement st = d.createStatement();
                 ResultSet a = st.executeQuery("SELECT count(*) FROM countries")) {
                a.next();
                assertEquals(3, a.getInt(1), "countries on shard " + (i + 1));
                try (ResultSet b = st.executeQuery("SELECT count(*) FROM settings")) {
                    b.next();
                    assertEquals(i == 0 ? 2 : 0, b.getInt(1), "settings on shard " + (i + 1));
                }
            }
        }
    }

    /** SET reaches every shard's session; {@code /* sluice:shard=NAME *&#47;} runs a statement on that shard. */
    @Test
    void sessionStateReachesEveryShard() throws Exception {
        boolean pg = SHARDS.get(0).cluster().engine() == dev.sluice.testsupport.Engine.POSTGRESQL;
        try (Connection c = sluice(); Statement st = c.createStatement()) {
            st.execute(pg ? "SET application_name = 'sluice-shard-test'" : "SET @sluice_marker = 'sluice-shard-test'");
            assertEquals(List.of("s1", "s2", "s3"), st.unwrap(SluiceSharded.class).lastShards());
            for (String shard : List.of("s1", "s2", "s3")) {
                try (ResultSet rs = st.executeQuery("/* sluice:shard=" + shard + " */ SELECT "
                        + (pg ? "current_setting('application_name'), current_database()" : "@sluice_marker, DATABASE()"))) {
                    assertTrue(rs.next());
                    assertEquals("sluice-shard-test", rs.getString(1), "session state on " + shard);
                    assertEquals(SHARDS.get(Integer.parseInt(shard.substring(1)) - 1).database(), rs.getString(2), "the hint's shard");
                }
            }
        }
    }

    @Test
    void shapesThatCannotBeAnsweredFailClearly() throws Exception {
        try (Connection c = sluice()) {
            assertRefused(c, "SELECT status, count(*) FROM orders GROUP BY status HAVING count(*) > 10", "HAVING across shards");
            assertRefused(c, "SELECT count(DISTINCT status) FROM orders", "COUNT(DISTINCT");
            assertRefused(c, "SELECT o.id FROM orders o JOIN events e ON o.customer_id = e.id", "cross-shard join");
            assertRefused(c, "SELECT * FROM orders WHERE id IN (SELECT id FROM events)", "cross-shard subquery");
            assertRefused(c, "UPDATE orders SET customer_id = 1 WHERE customer_id = 2", "would change the shard key");
            assertRefused(c, "INSERT INTO notes (id, k, body) VALUES (1, 1, 'a'), (2, 2, 'b'), (3, 3, 'c')", "multi-row INSERT");
            assertRefused(c, "SELECT * FROM nowhere", "not in the shard map");
            assertRefused(c, "DELETE FROM notes WHERE k IN (SELECT customer_id FROM orders)", "cross-shard subquery");
            if (SHARDS.get(0).cluster().engine() == dev.sluice.testsupport.Engine.POSTGRESQL) {
                assertRefused(c, "DELETE FROM notes WHERE id > 0 RETURNING id", "RETURNING on several shards");
            }
            // but the same HAVING on one shard is fine: the shard answers it whole
            assertSameAsUnsharded("SELECT status, count(*) FROM orders WHERE customer_id IN (5) GROUP BY status HAVING count(*) >= 1 ORDER BY status");
        }
    }

    @Test
    void writesByKeyAndOnSeveralShards() throws Exception {
        try (Connection c = sluice(); Statement st = c.createStatement(); Connection r = ref(); Statement rst = r.createStatement()) {
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
        for (var cl : CLUSTERS) {
            cl.waitForReplication(Duration.ofSeconds(30));
        }
        assertSameAsUnsharded("SELECT id, k, body FROM notes WHERE id > 1000 ORDER BY id");
        try (Connection r = ref(); Statement rst = r.createStatement(); Connection c = sluice(); Statement st = c.createStatement()) {
            rst.executeUpdate("DELETE FROM notes WHERE id > 1000");
            assertEquals(29, st.executeUpdate("DELETE FROM notes WHERE id > 1000"));
        }
    }

    @Test
    void transactionsStayOnOneShard() throws Exception {
        long k1 = 1;
        long k2 = keyOnAnotherShard(k1);
        try (Connection c = sluice(); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            st.executeUpdate("INSERT INTO notes (id, k, body) VALUES (5001, " + k1 + ", 'tx')");
            st.executeUpdate("INSERT INTO notes (id, k, body) VALUES (5002, " + k1 + ", 'tx')");
            String pinned = c.unwrap(SluiceSharded.class).transactionShard();
            SQLException e = assertThrows(SQLException.class,
                    () -> st.executeUpdate("INSERT INTO notes (id, k, body) VALUES (5003, " + k2 + ", 'tx')"));
            assertEquals("0A000", e.getSQLState());
            String other = c.unwrap(ShardedConnection.class).rt.map.names(c.unwrap(ShardedConnection.class).rt.router
                    .plan("SELECT * FROM notes WHERE k = " + k2).targets(c.unwrap(ShardedConnection.class).rt.map, List.of())).get(0);
            assertTrue(e.getMessage().contains(pinned) && e.getMessage().contains(other), e.getMessage());
            c.rollback();
            assertNull(c.unwrap(SluiceSharded.class).transactionShard());
            // a committed single-shard transaction
            st.executeUpdate("INSERT INTO notes (id, k, body) VALUES (5004, " + k2 + ", 'tx')");
            st.executeUpdate("UPDATE notes SET body = 'tx2' WHERE k = " + k2);
            c.commit();
            // SQL BEGIN … COMMIT with autocommit on: BEGIN goes to the first statement's shard
            c.setAutoCommit(true);
            st.execute("BEGIN");
            st.executeUpdate("INSERT INTO notes (id, k, body) VALUES (5005, " + k1 + ", 'sql-tx')");
            SQLException e2 = assertThrows(SQLException.class, () -> st.executeQuery("SELECT * FROM notes WHERE k = " + k2));
            assertEquals("0A000", e2.getSQLState());
            st.execute("COMMIT");
        }
        for (var cl : CLUSTERS) {
            cl.waitForReplication(Duration.ofSeconds(30));
        }
        try (Connection c = sluice(); Statement st = c.createStatement();
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

    /** A key whose shard differs from {@code k}'s. */
    private static long keyOnAnotherShard(long k) throws SQLException {
        try (Connection c = sluice()) {
            ShardedRuntime rt = c.unwrap(ShardedConnection.class).rt;
            long home = rt.router.plan("SELECT 1 FROM notes WHERE k = " + k).targets(rt.map, List.of());
            for (long other = k + 1; ; other++) {
                if (rt.router.plan("SELECT 1 FROM notes WHERE k = " + other).targets(rt.map, List.of()) != home) {
                    return other;
                }
            }
        }
    }
}
