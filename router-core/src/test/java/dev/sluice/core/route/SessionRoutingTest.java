package dev.sluice.core.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.core.config.ClusterConfig;
import dev.sluice.core.config.Engine;
import dev.sluice.core.config.NodeConfig;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Pure routing logic over a fixed topology (no servers): which node, and the reason. */
class SessionRoutingTest {
    static ClusterConfig config(Map<String, String> opts) {
        return ClusterConfig.of("test", "c", Engine.POSTGRESQL, "db",
                List.of(new NodeConfig("p", "h1", 1, 1), new NodeConfig("r1", "h2", 2, 1), new NodeConfig("r2", "h3", 3, 3)),
                opts, Map.of());
    }

    static Router router(Map<String, String> opts, NodeRole p, NodeRole r1, NodeRole r2) {
        Router r = new Router(config(opts));
        r.updateTopology(Topology.of(List.of(new NodeStatus("p", p, "t", 0), new NodeStatus("r1", r1, "t", 0),
                new NodeStatus("r2", r2, "t", 0))));
        return r;
    }

    static Router healthy() {
        return router(Map.of(), NodeRole.PRIMARY, NodeRole.REPLICA, NodeRole.REPLICA);
    }

    @Test
    void readsGoToReplicasRoundRobinWritesToPrimary() {
        Session s = healthy().newSession();
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 4; i++) {
            RouteDecision d = s.route("SELECT * FROM t WHERE id = 1");
            seen.add(d.node());
            assertTrue(d.reason().startsWith("read:replica"), d.reason());
        }
        assertEquals(Set.of("r1", "r2"), seen);
        assertEquals("p", s.route("UPDATE t SET a = 1").node());
        assertEquals("p", s.route("SELECT * FROM t FOR UPDATE").node());
        assertEquals("p", s.route("SELECT nextval('s')").node());
    }

    @Test
    void unparsedGoesToPrimaryWithReason() {
        RouteDecision d = healthy().newSession().route("FROBNICATE THE DATABASE");
        assertEquals("p", d.node());
        assertEquals("unparsed", d.reason());
    }

    @Test
    void explicitTransactionStaysOnItsNode() {
        Session s = healthy().newSession();
        assertEquals("p", s.route("BEGIN").node());
        assertEquals("p", s.route("SELECT 1").node());
        assertTrue(s.route("SELECT 1").reason().startsWith("in-transaction"));
        assertEquals("p", s.route("COMMIT").node());
        assertNotEquals("p", s.route("SELECT 1").node());
    }

    @Test
    void readOnlyTransactionPicksOneReplica() {
        Session s = healthy().newSession();
        String node = s.route("START TRANSACTION READ ONLY").node();
        assertNotEquals("p", node);
        for (int i = 0; i < 5; i++) {
            assertEquals(node, s.route("SELECT 1").node());
        }
        s.route("COMMIT");
        assertTrue(!s.inTransaction());
    }

    @Test
    void autocommitOffReadOnlyUsesReplicaReadWriteUsesPrimary() {
        Session s = healthy().newSession();
        s.setAutoCommit(false);
        assertEquals("p", s.route("SELECT 1").node());
        s.endTransaction();
        s.setReadOnly(true);
        String n = s.route("SELECT 1").node();
        assertNotEquals("p", n);
        assertEquals(n, s.route("SELECT 2").node());
        s.setAutoCommit(true);
        assertTrue(!s.inTransaction());
    }

    @Test
    void sessionStateGoesEverywhere() {
        RouteDecision d = healthy().newSession().route("SET search_path TO x");
        assertTrue(d.allConnections());
        assertEquals("p", d.node());
    }

    @Test
    void temporaryTablePinsToPrimary() {
        Session s = healthy().newSession();
        s.route("CREATE TEMPORARY TABLE x (a int)");
        RouteDecision d = s.route("SELECT * FROM x");
        assertEquals("p", d.node());
        assertTrue(d.reason().startsWith("session-pinned"), d.reason());
    }

    @Test
    void hints() {
        Session s = healthy().newSession();
        assertEquals("p", s.route("/* sluice:primary */ SELECT 1").node());
        assertEquals("hint:primary", s.route("/* sluice:primary */ SELECT 1").reason());
        RouteDecision ignored = s.route("/* sluice:replica */ DELETE FROM t");
        assertEquals("p", ignored.node());
        assertTrue(ignored.reason().startsWith("hint-replica-ignored"), ignored.reason());
        Session off = router(Map.of("hints", "false"), NodeRole.PRIMARY, NodeRole.REPLICA, NodeRole.REPLICA).newSession();
        assertNotEquals("p", off.route("/* sluice:primary */ SELECT 1").node());
    }

    @Test
    void noHealthyReplicaFallsBackToPrimaryAndCounts() {
        Router r = router(Map.of(), NodeRole.PRIMARY, NodeRole.DOWN, NodeRole.DOWN);
        RouteDecision d = r.newSession().route("SELECT 1");
        assertEquals("p", d.node());
        assertTrue(d.reason().startsWith("read:primary(no-healthy-replica)"), d.reason());
        assertEquals(1, r.primaryFallbacks());
    }

    static Router lagging(Map<String, String> opts) {
        Router r = new Router(config(opts));
        r.updateTopology(Topology.of(List.of(
                new NodeStatus("p", NodeRole.PRIMARY, dev.sluice.core.health.NodeState.UP, "t", 0, null, null, null),
                new NodeStatus("r1", NodeRole.REPLICA, dev.sluice.core.health.NodeState.LAGGING, "lag", 0, 5000L, 1L, null),
                new NodeStatus("r2", NodeRole.REPLICA, dev.sluice.core.health.NodeState.LAGGING, "lag", 0, 2000L, 1L, null))));
        return r;
    }

    @Test
    void lagFallbackModes() {
        assertEquals("p", lagging(Map.of()).newSession().route("SELECT 1").node(), "primary is the default fallback");
        RouteDecision least = lagging(Map.of("lag-fallback", "least-lagged")).newSession().route("SELECT 1");
        assertEquals("r2", least.node(), "the replica with the smallest known lag");
        assertTrue(least.reason().startsWith("read:least-lagged(no-healthy-replica)"), least.reason());
        NoRouteException e = assertThrows(NoRouteException.class,
                () -> lagging(Map.of("lag-fallback", "error")).newSession().route("SELECT 1"));
        assertTrue(e.getMessage().contains("lag-fallback is error"), e.getMessage());
        Router counted = lagging(Map.of());
        counted.newSession().route("SELECT 1");
        assertEquals(Map.of("no-healthy-replica", 1L), counted.fallbacks());
    }

    @Test
    void stalenessBudgetKeepsOnlyFreshReplicas() {
        Router r = new Router(config(Map.of()));
        r.updateTopology(Topology.of(List.of(
                new NodeStatus("p", NodeRole.PRIMARY, dev.sluice.core.health.NodeState.UP, "t", 0, null, null, null),
                new NodeStatus("r1", NodeRole.REPLICA, dev.sluice.core.health.NodeState.UP, "t", 0, 50L, 1L, null),
                new NodeStatus("r2", NodeRole.REPLICA, dev.sluice.core.health.NodeState.UP, "t", 0, 600L, 1L, null))));
        Session s = r.newSession();
        for (int i = 0; i < 4; i++) {
            assertEquals("r1", s.route("/* sluice:max-lag=200ms */ SELECT 1").node());
        }
        assertEquals("p", s.route("/* sluice:max-lag=10ms */ SELECT 1").node(), "none within 10 ms: fallback");
        s.setMaxLagMillis(100);
        assertEquals("r1", s.route("SELECT 1").node(), "session budget");
    }

    @Test
    void noPrimaryFailsWritesWithTheReasonButServesReads() {
        Router r = router(Map.of(), NodeRole.DOWN, NodeRole.REPLICA, NodeRole.REPLICA);
        Session s = r.newSession();
        assertNotEquals("p", s.route("SELECT 1").node());
        NoRouteException e = assertThrows(NoRouteException.class, () -> s.route("INSERT INTO t VALUES (1)"));
        assertTrue(e.getMessage().contains("no writable node"), e.getMessage());
    }

    @Test
    void twoWritableNodesMeansNoPrimary() {
        Router r = router(Map.of(), NodeRole.PRIMARY, NodeRole.PRIMARY, NodeRole.REPLICA);
        NoRouteException e = assertThrows(NoRouteException.class, () -> r.newSession().route("DELETE FROM t"));
        assertTrue(e.getMessage().contains("several writable nodes"), e.getMessage());
    }

    @Test
    void weightedRandomFollowsWeights() {
        Router r = router(Map.of("balancing", "weighted-random"), NodeRole.PRIMARY, NodeRole.REPLICA, NodeRole.REPLICA);
        Session s = r.newSession();
        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < 4000; i++) {
            counts.merge(s.route("SELECT 1").node(), 1, Integer::sum);
        }
        // r2 weighs 3, r1 weighs 1: expect about 3000 vs 1000
        assertTrue(counts.get("r2") > 2 * counts.get("r1"), counts.toString());
    }

    @Test
    void leastOutstandingAvoidsTheBusyReplica() {
        Router r = router(Map.of("balancing", "least-outstanding"), NodeRole.PRIMARY, NodeRole.REPLICA, NodeRole.REPLICA);
        r.started("r1");
        r.started("r1");
        Session s = r.newSession();
        for (int i = 0; i < 5; i++) {
            assertEquals("r2", s.route("SELECT 1").node());
        }
        r.finished("r1");
        r.finished("r1");
    }

    @Test
    void sessionBalancingKeepsEachSessionOnItsReplicaUntilItDropsOut() {
        Router r = router(Map.of("balancing", "session"), NodeRole.PRIMARY, NodeRole.REPLICA, NodeRole.REPLICA);
        Session a = r.newSession();
        Session b = r.newSession();
        String ra = a.route("SELECT 1").node();
        String rb = b.route("SELECT 1").node();
        assertNotEquals(ra, rb, "sessions spread round-robin");
        for (int i = 0; i < 5; i++) {
            assertEquals(ra, a.route("SELECT * FROM t").node(), "a session keeps its replica");
            assertEquals(rb, b.route("SELECT 2").node());
        }
        // a's replica goes down: a moves to the other one and stays there
        r.updateTopology(r.topology().withState(ra, dev.sluice.core.health.NodeState.DOWN, "test"));
        String moved = a.route("SELECT 1").node();
        assertEquals(rb, moved);
        r.updateTopology(r.topology().withState(ra, dev.sluice.core.health.NodeState.UP, "test"));
        assertEquals(moved, a.route("SELECT 1").node(), "back up, it does not pull the session back");
    }

    @Test
    void twoRoutersShareNothing() {
        Router a = healthy();
        Router b = router(Map.of(), NodeRole.DOWN, NodeRole.REPLICA, NodeRole.REPLICA);
        assertEquals("p", a.newSession().route("INSERT INTO t VALUES (1)").node());
        assertThrows(NoRouteException.class, () -> b.newSession().route("INSERT INTO t VALUES (1)"));
        assertNotEquals(a.classifier(), b.classifier());
    }
}
