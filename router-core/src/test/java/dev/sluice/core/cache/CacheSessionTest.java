package dev.sluice.core.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.core.config.ClusterConfig;
import dev.sluice.core.config.Engine;
import dev.sluice.core.config.NodeConfig;
import dev.sluice.core.route.NodeRole;
import dev.sluice.core.route.NodeStatus;
import dev.sluice.core.route.Router;
import dev.sluice.core.route.Session;
import dev.sluice.core.route.Topology;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A session's view: what is eligible, what the key depends on, and when writes invalidate. */
class CacheSessionTest {
    private static Router router(Map<String, String> extra) {
        Map<String, String> opts = new HashMap<>(Map.of("cache", "on", "cache-tables", "users, orders, app.items"));
        opts.putAll(extra);
        Router r = new Router(ClusterConfig.of("test", "c", Engine.POSTGRESQL, "db",
                List.of(new NodeConfig("p", "h1", 1, 1), new NodeConfig("r1", "h2", 2, 1)), opts, Map.of()));
        r.updateTopology(Topology.of(List.of(new NodeStatus("p", NodeRole.PRIMARY, "t", 0),
                new NodeStatus("r1", NodeRole.REPLICA, "t", 0))));
        return r;
    }

    private final Router router = router(Map.of());
    private final Session session = router.newSession();
    private final CacheSession cs = new CacheSession(router.readCache(), session);

    /** Runs {@code sql} as a proxy or the driver would: route, look up, execute (a miss stores {@code value}), settle. */
    private Object run(Session s, CacheSession c, String sql, Object value) {
        var cl = router.classify(sql);
        CacheSession.Lookup l = c.lookup(sql, cl, null);
        if (l != null && l.isHit()) {
            return l.hit();
        }
        var d = s.route(cl);
        if (l != null) {
            c.store(l, "p", value, 10); // as if read on the primary, which is always current: freshness has its own tests
        }
        s.executed(d);
        c.ran(cl, sql);
        c.settled(s.inTransaction());
        return value;
    }

    @Test
    void aHitNeedsEveryTableOptedIn() {
        assertEquals("v1", run(session, cs, "SELECT * FROM users WHERE id = 1", "v1"));
        assertEquals("v1", run(session, cs, "SELECT * FROM users  WHERE id = 1", "v2"), "normalized text hits");
        assertEquals("x", run(session, cs, "SELECT * FROM users JOIN accounts ON true", "x"));
        assertEquals("y", run(session, cs, "SELECT * FROM users JOIN accounts ON true", "y"), "accounts is not opted in");
        assertEquals("i", run(session, cs, "SELECT * FROM app.items", "i"));
        assertEquals("i", run(session, cs, "SELECT * FROM app.items", "i2"));
        assertEquals("j", run(session, cs, "SELECT * FROM other.items", "j"));
        assertEquals("j2", run(session, cs, "SELECT * FROM other.items", "j2"), "only app.items is opted in");
        assertEquals("h", run(session, cs, "/* sluice:cache */ SELECT * FROM accounts", "h"));
        assertEquals("h", run(session, cs, "/* sluice:cache */ SELECT * FROM accounts", "h2"), "a hint opts a statement in");
        assertTrue(router.readCache().stats().bypassed().containsKey("table-not-opted-in"));
    }

    @Test
    void transactionsLocksPinsAndPrimaryHintsAreNeverCached() {
        run(session, cs, "SELECT * FROM users", "cached");
        run(session, cs, "BEGIN", null);
        assertEquals("in-tx", run(session, cs, "SELECT * FROM users", "in-tx"));
        run(session, cs, "COMMIT", null);
        assertEquals("locked", run(session, cs, "SELECT * FROM users FOR UPDATE", "locked"));
        assertEquals("hinted", run(session, cs, "/* sluice:primary */ SELECT * FROM users", "hinted"));
        assertEquals("cached", run(session, cs, "SELECT * FROM users", "again"));
        session.setAutoCommit(false);
        assertEquals("manual", run(session, cs, "SELECT * FROM users", "manual"));
        session.setAutoCommit(true);
        run(session, cs, "CREATE TEMPORARY TABLE tmp (a int)", null); // pins the session to the primary
        assertEquals("pinned", run(session, cs, "SELECT * FROM users", "pinned"));
        Map<String, Long> by = router.readCache().stats().bypassed();
        assertTrue(by.containsKey("in-transaction") && by.containsKey("autocommit-off") && by.containsKey("session-pinned")
                && by.containsKey("hint:primary"), by.toString());
    }

    @Test
    void writesInvalidateAtCommitNotBefore() {
        Session writer = router.newSession();
        CacheSession wc = new CacheSession(router.readCache(), writer);
        run(session, cs, "SELECT * FROM users", "old");
        run(writer, wc, "BEGIN", null);
        run(writer, wc, "UPDATE users SET name = 'n'", null);
        assertEquals("old", run(session, cs, "SELECT * FROM users", "x"), "uncommitted: others still see the old rows");
        run(writer, wc, "COMMIT", null);
        assertEquals("new", run(session, cs, "SELECT * FROM users", "new"));
        run(writer, wc, "BEGIN", null);
        run(writer, wc, "DELETE FROM users", null);
        run(writer, wc, "ROLLBACK", null);
        assertEquals("new", run(session, cs, "SELECT * FROM users", "y"), "rolled back: nothing to invalidate");
        run(writer, wc, "INSERT INTO users VALUES (1)", null);
        assertEquals("after-autocommit", run(session, cs, "SELECT * FROM users", "after-autocommit"));
        run(writer, wc, "CALL do_things()", null);
        assertEquals("after-call", run(session, cs, "SELECT * FROM users", "after-call"), "an unknown write flushes all");
    }

    @Test
    void jdbcCommitAndRollbackEndThePendingWrites() {
        Session writer = router.newSession();
        CacheSession wc = new CacheSession(router.readCache(), writer);
        writer.setAutoCommit(false);
        run(session, cs, "SELECT * FROM orders", "old");
        run(writer, wc, "UPDATE orders SET x = 1", null);
        assertEquals("old", run(session, cs, "SELECT * FROM orders", "x"));
        wc.ended(false);
        assertEquals("old", run(session, cs, "SELECT * FROM orders", "x"));
        run(writer, wc, "UPDATE orders SET x = 1", null);
        wc.ended(true);
        assertEquals("new", run(session, cs, "SELECT * FROM orders", "new"));
    }

    @Test
    void aRollbackAfterABeginInOneStringKeepsTheInvalidationOfWhatCameBefore() {
        run(session, cs, "SELECT * FROM users", "old");
        // as a proxy reports one simple-query cycle: each statement, then the final transaction state
        for (String sql : List.of("UPDATE users SET a = 1", "BEGIN", "UPDATE orders SET b = 2", "ROLLBACK")) {
            cs.ran(router.classify(sql), sql);
        }
        cs.settled(false);
        assertEquals("new", run(session, cs, "SELECT * FROM users", "new"));
    }

    @Test
    void sessionStateAndContextAreInTheKey() {
        Session other = router.newSession();
        CacheSession oc = new CacheSession(router.readCache(), other);
        run(session, cs, "SELECT * FROM users", "public");
        assertEquals("public", run(other, oc, "SELECT * FROM users", "x"), "same state: shared across sessions");
        oc.sessionState("SET search_path = tenant2");
        assertEquals("tenant2", run(other, oc, "SELECT * FROM users", "tenant2"));
        oc.context("user", "bob");
        assertEquals("bob", run(other, oc, "SELECT * FROM users", "bob"));
        oc.sessionState("SET autocommit = 0");
        oc.sessionState("SET autocommit = 1");
        String first = String.valueOf(run(other, oc, "SELECT * FROM orders", "toggled-once"));
        oc.sessionState("SET autocommit = 0");
        oc.sessionState("SET autocommit = 1");
        assertEquals(first, run(other, oc, "SELECT * FROM orders", "toggled-twice"), "toggling a setting back keys alike");
        oc.sessionState("SET SESSION TRANSACTION ISOLATION LEVEL READ UNCOMMITTED");
        assertNull(oc.lookup("SELECT * FROM users", router.classify("SELECT * FROM users"), null), "dirty reads are never cached");
        oc.reset();
        assertNotNull(oc.lookup("SELECT * FROM users", router.classify("SELECT * FROM users"), null));
    }

    @Test
    void nonDeterministicReadsAreNotCached() {
        assertEquals("a", run(session, cs, "SELECT *, now() FROM users", "a"));
        assertEquals("b", run(session, cs, "SELECT *, now() FROM users", "b"));
        assertFalse(router.readCache().stats().bypassed().isEmpty());
        assertEquals(0, router.readCache().stats().hits());
    }
}
