package dev.sluice.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.core.health.NodeState;
import dev.sluice.core.route.NodeRole;
import dev.sluice.core.route.NodeStatus;
import dev.sluice.core.route.Router;
import dev.sluice.core.route.Topology;
import java.util.List;
import dev.sluice.proxy.metrics.ProxyMetrics;
import org.junit.jupiter.api.Test;

/** The exposition's names, types and labels (what docs/metrics.md promises), without a database. */
class ProxyMetricsTest {
    static Router router() throws Exception {
        return new Router(ProxyConfigTest.load(ProxyConfigTest.CLUSTER + "proxy:\n  auth: trust\n").cluster());
    }

    @Test
    void everyDocumentedFamilyIsThereWithItsType() throws Exception {
        ProxyMetrics m = new ProxyMetrics(router());
        m.record("a", 3_000_000);
        Exposition e = new Exposition(m.scrape());
        assertEquals("gauge", e.types.get("sluice_node_lag_seconds"));
        assertEquals("gauge", e.types.get("sluice_node_state"));
        assertEquals("gauge", e.types.get("sluice_node_role"));
        assertEquals("gauge", e.types.get("sluice_node_circuit_open"));
        assertEquals("gauge", e.types.get("sluice_node_in_flight"));
        assertEquals("counter", e.types.get("sluice_routed_statements_total"));
        assertEquals("counter", e.types.get("sluice_node_errors_total"));
        assertEquals("counter", e.types.get("sluice_node_down_total"));
        assertEquals("histogram", e.types.get("sluice_statement_duration_seconds"));
        assertEquals("gauge", e.types.get("sluice_parse_cache_hit_ratio"));
        assertEquals("counter", e.types.get("sluice_parse_cache_requests_total"));
        assertEquals("counter", e.types.get("sluice_failovers_total"));
        assertEquals(1.0, e.value("sluice_statement_duration_seconds_count", "node", "a", "cluster", "main"));
        assertEquals(1.0, e.value("sluice_statement_duration_seconds_bucket", "node", "a", "le", "0.005"));
        assertEquals(0.0, e.value("sluice_statement_duration_seconds_bucket", "node", "a", "le", "0.002"));
        assertTrue(Double.isNaN(e.value("sluice_node_lag_seconds", "node", "a")), "no lag known before any probe");
        assertEquals(0.0, e.value("sluice_routed_statements_total", "node", "a"));
        assertEquals(0.0, e.value("sluice_node_errors_total", "node", "a", "kind", "connection"));
        assertEquals(0.0, e.value("sluice_failovers_total"));
        assertEquals(4, e.find("sluice_node_state", "node", "a").size(), "one gauge per state");
    }

    @Test
    void connectionGaugesSurviveGarbageCollection() throws Exception {
        ProxyMetrics m = new ProxyMetrics(router());
        java.util.concurrent.atomic.AtomicInteger clients = new java.util.concurrent.atomic.AtomicInteger(3);
        java.util.Map<String, Integer> backends = java.util.Map.of("a", 2);
        // bound method references, as ProxyServer passes them (pg::clientCount): objects only the gauges refer to
        m.bind(clients::get, () -> backends);
        for (int i = 0; i < 5; i++) {
            System.gc(); // a weakly held supplier is gone after this and its gauge reads NaN
            Thread.sleep(20);
        }
        Exposition e = new Exposition(m.scrape());
        assertEquals(3.0, e.value("sluice_client_connections"));
        assertEquals(2.0, e.value("sluice_backend_connections", "node", "a"));
    }

    @Test
    void routerCountersShowAtTheNextScrape() throws Exception {
        Router r = router();
        ProxyMetrics m = new ProxyMetrics(r);
        r.started("a");
        r.finished("a");
        r.connectionFailed("a", new java.io.IOException("refused"));
        r.probeFailed("a");
        Exposition e = new Exposition(m.scrape());
        assertEquals(1.0, e.value("sluice_routed_statements_total", "node", "a"));
        assertEquals(1.0, e.value("sluice_node_errors_total", "node", "a", "kind", "connection"));
        assertEquals(1.0, e.value("sluice_node_errors_total", "node", "a", "kind", "probe"));
        assertEquals(1.0, e.value("sluice_node_circuit_open", "node", "a"));
    }

    @Test
    void readCacheFamiliesOnlyWhenTheCacheIsOn() throws Exception {
        assertTrue(new Exposition(new ProxyMetrics(router()).scrape()).types.keySet().stream().noneMatch(n -> n.startsWith("sluice_cache")));
        Router r = new Router(ProxyConfigTest.load(ProxyConfigTest.CLUSTER.replace("    nodes:", "    cache: on\n    cache-tables: t\n    nodes:")
                + "proxy:\n  auth: trust\n").cluster());
        ProxyMetrics m = new ProxyMetrics(r);
        r.readCache().invalidate(List.of("t"));
        Exposition e = new Exposition(m.scrape());
        assertEquals("counter", e.types.get("sluice_cache_requests_total"));
        assertEquals("gauge", e.types.get("sluice_cache_hit_ratio"));
        assertEquals("gauge", e.types.get("sluice_cache_size_bytes"));
        assertEquals("gauge", e.types.get("sluice_cache_entries"));
        assertEquals("counter", e.types.get("sluice_cache_stores_total"));
        assertEquals("counter", e.types.get("sluice_cache_removals_total"));
        assertEquals(0.0, e.value("sluice_cache_requests_total", "result", "hit"));
        assertEquals(1.0, e.value("sluice_cache_invalidations_total", "table", "t"));
        assertEquals(0.0, e.value("sluice_cache_removals_total", "cause", "size"));
    }

    @Test
    void twoProxiesShareNoRegistry() throws Exception {
        ProxyMetrics one = new ProxyMetrics(router());
        ProxyMetrics two = new ProxyMetrics(router());
        assertNotSame(one.registry(), two.registry());
        one.record("a", 1_000_000);
        assertEquals(0.0, new Exposition(two.scrape()).value("sluice_statement_duration_seconds_count", "node", "a"));
    }

    @Test
    void topologyFallbacksAndFailoversAsTheyHappen() throws Exception {
        Router r = new Router(ProxyConfigTest.load(ProxyConfigTest.CLUSTER
                + "      - { name: b, host: 127.0.0.1, port: 5433 }\nproxy:\n  auth: trust\n").cluster());
        ProxyMetrics m = new ProxyMetrics(r);
        assertTrue(new Exposition(m.scrape()).find("sluice_fallbacks_total").isEmpty(), "no reason before the first fallback");
        r.updateTopology(Topology.of(List.of(
                new NodeStatus("a", NodeRole.PRIMARY, NodeState.UP, "t", 0, null, null, null),
                new NodeStatus("b", NodeRole.REPLICA, NodeState.LAGGING, "lag", 0, 5000L, 1L, null))));
        assertEquals("a", r.newSession().route("SELECT 1").node(), "no replica within the lag bound: the primary");
        Exposition e = new Exposition(m.scrape());
        assertEquals(5.0, e.value("sluice_node_lag_seconds", "node", "b"));
        assertTrue(Double.isNaN(e.value("sluice_node_lag_seconds", "node", "a")), "no lag for the primary");
        assertEquals("LAGGING", e.state("b"));
        assertEquals(1.0, e.value("sluice_node_role", "node", "b", "role", "REPLICA"));
        assertEquals(1, e.find("sluice_fallbacks_total").size(), e.text);
        assertEquals(1.0, e.find("sluice_fallbacks_total").get(0).value());
        r.newEpoch("a", "b");
        e = new Exposition(m.scrape());
        assertEquals(1.0, e.value("sluice_failovers_total"));
        assertEquals(2.0, e.value("sluice_epoch"));
    }
}
