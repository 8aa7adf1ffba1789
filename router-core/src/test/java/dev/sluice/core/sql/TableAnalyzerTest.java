package dev.sluice.core.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** What the read cache learns from a statement's tokens: tables read and written, and what may be cached. */
class TableAnalyzerTest {
    private final TableAnalyzer pg = new TableAnalyzer(Dialect.POSTGRESQL);
    private final TableAnalyzer my = new TableAnalyzer(Dialect.MYSQL);

    private static void reads(TableAnalyzer a, String sql, String... tables) {
        TableAccess t = a.analyze(sql);
        assertNull(t.notCacheable(), () -> sql + " should be cacheable");
        assertEquals(Set.of(tables), t.reads(), sql);
    }

    private static void writes(TableAnalyzer a, String sql, String... tables) {
        TableAccess t = a.analyze(sql);
        assertFalse(t.writesAll(), () -> sql + " should name its tables");
        assertTrue(t.writes().containsAll(Set.of(tables)), () -> sql + ": " + t.writes());
    }

    @Test
    void readsOfCommonQueryShapes() {
        reads(pg, "SELECT id, name FROM users WHERE id = $1", "users");
        reads(pg, "SELECT * FROM app.users u JOIN orders o ON o.user_id = u.id LEFT OUTER JOIN items i USING (order_id)",
                "app.users", "orders", "items");
        reads(pg, "SELECT * FROM a, b AS bb, c cc WHERE a.x = bb.x", "a", "b", "c");
        reads(pg, "SELECT * FROM a JOIN b ON a.id = b.id, c", "a", "b", "c");
        reads(pg, "SELECT (SELECT max(v) FROM t2) FROM t1 WHERE x IN (SELECT y FROM t3, t4)", "t1", "t2", "t3", "t4");
        reads(pg, "SELECT * FROM (SELECT * FROM inner_t) s, outer_t", "inner_t", "outer_t");
        reads(pg, "SELECT * FROM ((a JOIN b ON a.i = b.i) JOIN c ON c.i = a.i)", "a", "b", "c");
        reads(pg, "SELECT * FROM \"Mixed\".\"Ca\"\"se\" WHERE true", "mixed.ca\"se");
        reads(pg, "SELECT * FROM ONLY parent", "parent");
        reads(pg, "TABLE settings", "settings");
        reads(pg, "SELECT a FROM t1 UNION SELECT b FROM t2 ORDER BY 1", "t1", "t2");
        reads(pg, "WITH recent AS (SELECT * FROM orders WHERE id > 5), x(n) AS (SELECT 1 FROM dual_t) SELECT * FROM recent, x",
                "orders", "dual_t");
        reads(pg, "SELECT EXTRACT(YEAR FROM created) FROM events", "events");
        reads(pg, "SELECT SUBSTRING(name FROM 2 FOR 3), x FROM people", "people");
        reads(my, "SELECT * FROM `db`.`T1` STRAIGHT_JOIN t2 USE INDEX (i1, i2), t3", "db.t1", "t2", "t3");
        reads(my, "SELECT * FROM {OJ a LEFT OUTER JOIN b ON a.x = b.x}", "a", "b");
        reads(my, "SELECT * FROM t1 LEFT JOIN (t2, t3) ON t2.a = t1.a", "t1", "t2", "t3");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "SELECT now() FROM t", "SELECT * FROM t WHERE d > current_date", "SELECT random() FROM t",
        "SELECT * FROM t ORDER BY rand()", "SELECT uuid() FROM t", "SELECT gen_random_uuid() FROM t",
        "SELECT nextval('s') FROM t", "SELECT pg_backend_pid() FROM t", "SELECT txid_current() FROM t",
        "SELECT clock_timestamp() FROM t", "SELECT * FROM t WHERE owner = current_user", "SELECT user FROM t",
        "SELECT * FROM generate_series(1, 10)", "SELECT * FROM t, LATERAL unnest(t.arr)", "SELECT 1",
        "SELECT * FROM pg_stat_activity", "SELECT * FROM information_schema.tables", "SELECT * FROM sluice_heartbeat",
        "SELECT * FROM t TABLESAMPLE SYSTEM (10)", "SELECT 1; SELECT 2", "SELECT * FROM t WHERE (a = 1",
        "SHOW search_path", "EXPLAIN SELECT * FROM t", "INSERT INTO t VALUES (1)", "SELECT * FROM t /* unterminated",
        "SELECT statement_timestamp() FROM t", "SELECT inet_server_port() FROM t", "SELECT version() FROM t"})
    void notCacheableOnPostgres(String sql) {
        assertTrue(pg.analyze(sql).notCacheable() != null, sql);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "SELECT sysdate() FROM t", "SELECT @x FROM t", "SELECT @@port FROM t", "SELECT last_insert_id() FROM t",
        "SELECT found_rows() FROM t", "SELECT connection_id() FROM t", "SELECT USER() FROM t", "SELECT unix_timestamp() FROM t",
        "SELECT a INTO @v FROM t", "SELECT * FROM mysql.user", "SELECT utc_timestamp FROM t", "SELECT database() FROM t",
        "SELECT * FROM JSON_TABLE('[]', '$[*]' COLUMNS (a INT PATH '$')) j", "SELECT 1 FROM DUAL"})
    void notCacheableOnMysql(String sql) {
        assertTrue(my.analyze(sql).notCacheable() != null, sql);
    }

    @Test
    void aBareUserIsAColumnInMysql() {
        reads(my, "SELECT user, host FROM accounts", "accounts");
    }

    @Test
    void writesNameTheirTables() {
        writes(pg, "INSERT INTO app.users (id, name) VALUES ($1, $2)", "users");
        writes(pg, "UPDATE users SET name = 'x' FROM orders WHERE orders.uid = users.id", "users", "orders");
        writes(pg, "DELETE FROM ONLY sessions WHERE expired", "sessions");
        writes(pg, "INSERT INTO t SELECT * FROM s ON CONFLICT (id) DO UPDATE SET v = excluded.v", "t", "s");
        writes(pg, "MERGE INTO stock USING deliveries d ON d.id = stock.id WHEN MATCHED THEN UPDATE SET n = n + 1", "stock", "deliveries");
        writes(pg, "COPY items FROM STDIN", "items");
        writes(my, "INSERT IGNORE INTO t1 VALUES (1)", "t1");
        writes(my, "INSERT LOW_PRIORITY t2 VALUES (1)", "t2");
        writes(my, "REPLACE INTO `Shop`.`Prices` SET id = 1", "prices");
        writes(my, "UPDATE LOW_PRIORITY IGNORE t1, t2 SET t1.a = t2.a", "t1", "t2");
        writes(my, "UPDATE t1 JOIN t2 ON t1.id = t2.id SET t1.a = 1", "t1", "t2");
        writes(my, "DELETE t1, t2 FROM t1 INNER JOIN t2 ON t1.id = t2.id", "t1", "t2");
        writes(my, "DELETE FROM t1 USING t1, t3 WHERE t1.id = t3.id", "t1", "t3");
        writes(my, "LOAD DATA LOCAL INFILE '/tmp/x' REPLACE INTO TABLE loaded", "loaded");
        writes(my, "INSERT INTO t VALUES (1); UPDATE u SET a = 2", "t", "u");
    }

    @ParameterizedTest
    @ValueSource(strings = {"CALL p()", "DO $$ BEGIN PERFORM 1; END $$", "TRUNCATE t", "ALTER TABLE t ADD c int",
        "DROP TABLE t", "WITH x AS (UPDATE t SET a = 1 RETURNING *) SELECT * FROM x", "EXECUTE stmt(1)",
        "SELECT my_writing_function()", "INSERT INTO t VALUES (1); CALL p()", "UPDATE t SET a = 'unterminated"})
    void writesThatCannotBeNamedInvalidateEverything(String sql) {
        assertTrue(pg.analyze(sql).writesAll(), sql);
    }

    @Test
    void normalizationKeepsMeaningAndDropsLayout() {
        String a = pg.analyze("SELECT  id\n FROM users /* c */ WHERE id=$1").normalized();
        assertEquals("SELECT id FROM users WHERE id=$1", a);
        assertEquals(a, pg.analyze("/* sluice:replica */ SELECT id FROM   users WHERE id=$1;").normalized());
        // tokens that touch keep touching: these differ, and so must their keys
        assertNotEquals(pg.analyze("SELECT * FROM t WHERE a<=1").normalized(), pg.analyze("SELECT * FROM t WHERE a< =1").normalized());
        // case is kept (MySQL table names may be case-sensitive), string contents are untouched
        assertNotEquals(my.analyze("SELECT * FROM T").normalized(), my.analyze("SELECT * FROM t").normalized());
        assertEquals("SELECT 'a  b' FROM t", my.analyze("SELECT 'a  b'   FROM t").normalized());
    }

    @Test
    void cacheHints() {
        assertEquals(5000, pg.analyze("/* sluice:cache ttl=5s */ SELECT * FROM t").cacheHint());
        assertEquals(250, pg.analyze("/*sluice:cache ttl = 250ms*/ SELECT * FROM t").cacheHint());
        assertEquals(TableAccess.CACHE_DEFAULT_TTL, pg.analyze("/* sluice:cache */ SELECT * FROM t").cacheHint());
        assertEquals(TableAccess.NO_CACHE, pg.analyze("/* sluice:no-cache */ SELECT * FROM t").cacheHint());
        assertEquals(TableAccess.NO_CACHE, pg.analyze("/* sluice:cache */ /* sluice:no-cache */ SELECT * FROM t").cacheHint());
        assertEquals(TableAccess.NO_HINT, pg.analyze("/* sluice:cache ttl=soon */ SELECT * FROM t").cacheHint());
        assertEquals(TableAccess.NO_HINT, pg.analyze("SELECT * FROM t /* sluice:cache */").cacheHint(), "only leading comments");
        assertEquals(TableAccess.NO_HINT, pg.analyze("/* sluice:primary */ SELECT * FROM t").cacheHint());
    }
}
