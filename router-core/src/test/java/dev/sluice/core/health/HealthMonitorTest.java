package dev.sluice.core.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.core.config.ClusterConfig;
import dev.sluice.core.config.Engine;
import dev.sluice.core.config.NodeConfig;
import dev.sluice.core.route.NodeRole;
import dev.sluice.core.route.Router;
import dev.sluice.core.route.Session;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The monitor over fake probes and a fake clock: state changes, events, routing effects. */
class HealthMonitorTest {
    final AtomicLong clock = new AtomicLong(1_000_000_000L);
    final Map<String, ProbeResult> answers = new ConcurrentHashMap<>();
    final AtomicLong primaryBeat = new AtomicLong(5_000_000);

    ClusterConfig config(Map<String, String> opts) {
        return ClusterConfig.of("t", "c", Engine.POSTGRESQL, "db",
                List.of(new NodeConfig("p", "h", 1, 1), new NodeConfig("r1", "h", 2, 1), new NodeConfig("r2", "h", 3, 1)), opts, Map.of());
    }

    ProbeFactory fakes() {
        return new ProbeFactory() {
            @Override
            public NodeProbe probe(NodeConfig node) {
                return new NodeProbe() {
                    @Override
                    public ProbeResult probe() {
                        return answers.get(node.name());
                    }

                    @Override
                    public void close() {
                    }
                };
            }

            @Override
            public HeartbeatWriter heartbeatWriter(NodeConfig primary) {
                return new HeartbeatWriter() {
                    @Override
                    public long beat() {
                        return primaryBeat.addAndGet(100_000); // the primary's clock advances 100 ms per beat
                    }

                    @Override
                    public void close() {
                    }
                };
            }
        };
    }

    static ProbeResult primary() {
        return new ProbeResult(true, NodeRole.PRIMARY, "writable", null, null, null, null, "0/10", null);
    }

    static ProbeResult replica(Long beat) {
        return new ProbeResult(true, NodeRole.REPLICA, "standby", beat, null, null, null, "0/10", null);
    }

    @Test
    void laggingReplicaLeavesTheReadSetAndReturnsAfterTheHold() {
        Router router = new Router(config(Map.of()), clock::get);
        HealthMonitor m = new HealthMonitor(router.config(), router, fakes());
        answers.put("p", primary());
        answers.put("r1", replica(null));
        answers.put("r2", replica(null));
        m.probeRound();
        m.heartbeatTick(); // beat 5_100_000 at the fake now
        answers.put("r1", replica(primaryBeat.get()));
        answers.put("r2", replica(primaryBeat.get()));
        m.probeRound();
        assertEquals(NodeState.LAGGING.name(), m.status().node("r1").state(), "first round saw no heartbeat: lagging");
        // 1 s later both have applied every beat: back after the hold
        for (int i = 0; i < 12; i++) {
            clock.addAndGet(100_000_000L);
            m.heartbeatTick();
            answers.put("r1", replica(primaryBeat.get()));
            answers.put("r2", replica(primaryBeat.get()));
            m.probeRound();
        }
        assertEquals(List.of("r1", "r2"), router.topology().replicas());
        // r2 stops applying: after max-lag (1 s) it is dropped
        long frozen = primaryBeat.get();
        for (int i = 0; i < 12; i++) {
            clock.addAndGet(100_000_000L);
            m.heartbeatTick();
            answers.put("r1", replica(primaryBeat.get()));
            answers.put("r2", replica(frozen));
            m.probeRound();
        }
        assertEquals(List.of("r1"), router.topology().replicas());
        ClusterStatus.NodeView r2 = m.status().node("r2");
        assertEquals("LAGGING", r2.state());
        assertTrue(r2.lagMillis() > 1000, "lag " + r2.lagMillis());
        assertTrue(r2.reason().contains("lag "), r2.reason());
        assertTrue(m.status().events().stream().anyMatch(e -> e.node().equals("r2") && e.type().equals("dropped-for-lag")));
        Session s = router.newSession();
        for (int i = 0; i < 5; i++) {
            assertEquals("r1", s.route("SELECT 1").node());
        }
        assertTrue(s.route("/* sluice:max-lag=50ms */ SELECT 1").reason().contains("within-50ms")
                || s.route("/* sluice:max-lag=50ms */ SELECT 1").node().equals("p"));
        m.close();
    }

    @Test
    void unreachableNodeIsDownAndAPromotionIsFollowed() {
        Router router = new Router(config(Map.of()), clock::get);
        HealthMonitor m = new HealthMonitor(router.config(), router, fakes());
        answers.put("p", primary());
        answers.put("r1", replica(0L));
        answers.put("r2", replica(0L));
        m.probeRound();
        assertEquals("p", router.topology().primary());
        answers.put("p", ProbeResult.unreachable("connection refused"));
        answers.put("r1", new ProbeResult(true, NodeRole.PRIMARY, "promoted", null, null, null, null, "0/20", null));
        m.probeRound();
        assertEquals("r1", router.topology().primary(), "writes follow a promotion done outside Sluice");
        assertEquals("DOWN", m.status().node("p").state());
        assertTrue(m.status().events().stream().anyMatch(e -> e.type().equals("role-change") && e.node().equals("r1")));
        assertEquals("p", m.status().node("p").name());
        assertNotEquals(null, m.status().node("p").reason());
        m.close();
    }

    @Test
    void liveConnectionFailureOpensTheBreakerAtOnceAndAProbeClosesIt() throws Exception {
        Router router = new Router(config(Map.of("circuit-open-ms", "50")), clock::get);
        HealthMonitor m = new HealthMonitor(router.config(), router, fakes());
        answers.put("p", primary());
        answers.put("r1", replica(0L));
        answers.put("r2", replica(0L));
        m.probeRound();
        router.connectionFailed("r1", new java.sql.SQLException("I/O error", "08006"));
        assertTrue(router.circuitOpen("r1"));
        assertEquals("DOWN", router.topology().status("r1").state().name(), "out of routing before any probe");
        long deadline = System.nanoTime() + 2_000_000_000L;
        while (router.circuitOpen("r1") && System.nanoTime() < deadline) {
            Thread.sleep(20); // wall-clock wait for resilience4j's open interval, then a probe is the trial call
            m.probeRound();
        }
        assertTrue(!router.circuitOpen("r1"), "a successful probe after the open interval closes the breaker");
        m.close();
    }

    @Test
    void drainTakesANodeOutAndBack() {
        Router router = new Router(config(Map.of()), clock::get);
        HealthMonitor m = new HealthMonitor(router.config(), router, fakes());
        answers.put("p", primary());
        answers.put("r1", replica(0L));
        answers.put("r2", replica(0L));
        m.probeRound();
        m.drain("r2", true);
        assertEquals("DRAINED", m.status().node("r2").state());
        assertTrue(!router.topology().replicas().contains("r2"));
        m.drain("r2", false);
        assertNull(null);
        m.close();
    }
}
