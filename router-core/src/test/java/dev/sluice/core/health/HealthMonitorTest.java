package dev.sluice.core.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.core.config.ClusterConfig;
import dev.sluice.core.config.Engine;
import dev.sluice.core.config.NodeConfig;
import dev.sluice.core.route.NodeRole;
import dev.sluice.core.route.NodeStatus;
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
    /** Run inside a node's probe before it answers: a slow probe advances the fake clock here. */
    final Map<String, Runnable> during = new ConcurrentHashMap<>();
    static final long MS = 1_000_000L;

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
                        Runnable r = during.get(node.name());
                        if (r != null) {
                            r.run();
                        }
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

    /** A monitor whose replicas applied every beat at once for 2 s: both in the read set. */
    HealthMonitor caughtUp(Router router) {
        HealthMonitor m = new HealthMonitor(router.config(), router, fakes());
        answers.put("p", primary());
        answers.put("r1", replica(null));
        answers.put("r2", replica(null));
        m.probeRound();
        for (int i = 0; i < 20; i++) {
            beatAndApply(m);
            m.probeRound();
        }
        assertEquals(List.of("r1", "r2"), router.topology().replicas());
        return m;
    }

    /** 100 ms pass, a beat commits, and both replicas have applied it before their next probe. */
    void beatAndApply(HealthMonitor m) {
        clock.addAndGet(100 * MS);
        m.heartbeatTick();
        answers.put("r1", replica(primaryBeat.get()));
        answers.put("r2", replica(primaryBeat.get()));
    }

    /** r1's probe takes {@code ms} on the fake clock while the writer keeps committing a beat every 100 ms. */
    void slowR1WithBeats(HealthMonitor m, long ms) {
        during.put("r1", () -> {
            for (long t = 0; t < ms; t += 100) {
                clock.addAndGet(100 * MS);
                m.heartbeatTick();
            }
        });
    }

    @Test
    void aSlowProbeIsNotCountedAsLag() {
        Router router = new Router(config(Map.of()), clock::get);
        HealthMonitor m = caughtUp(router);
        slowR1WithBeats(m, 800); // 8 beats commit while the probe runs: none can be expected on r1
        int eventsBefore = m.status().events().size();
        for (int i = 0; i < 10; i++) {
            beatAndApply(m);
            m.probeRound();
            NodeStatus r1 = router.topology().status("r1");
            assertTrue(r1.lagMillis() != null && r1.lagMillis() < 200, "round " + i + ": " + r1);
            assertEquals(NodeState.UP, r1.state(), r1.toString());
        }
        assertEquals(eventsBefore, m.status().events().size(), "no flapping: " + m.status().events());
        m.close();
    }

    @Test
    void aReplicaReallyBehindIsStillDroppedThroughASlowProbe() {
        Router router = new Router(config(Map.of()), clock::get);
        HealthMonitor m = caughtUp(router);
        slowR1WithBeats(m, 800);
        beatAndApply(m);
        answers.put("r1", replica(primaryBeat.get() - 1_500_000)); // 1.5 s behind the beat committed before the probe
        m.probeRound();
        NodeStatus r1 = router.topology().status("r1");
        assertEquals(NodeState.LAGGING, r1.state(), r1.toString());
        assertEquals(1500L, r1.lagMillis());
        assertTrue(r1.reason().contains("lag 1500 ms > max-lag 1000 ms"), r1.reason());
        assertEquals(List.of("r2"), router.topology().replicas());
        m.close();
    }

    @Test
    void theWriterIsJudgedStalledAtTheProbesStart() {
        Router router = new Router(config(Map.of()), clock::get);
        HealthMonitor m = caughtUp(router);
        clock.addAndGet(1100 * MS); // no beat for 1.1 s (the bound is max-lag, 1 s) ...
        slowR1WithBeats(m, 100); // ... then one commits while r1's probe runs: too late for this probe
        m.probeRound();
        NodeStatus r1 = router.topology().status("r1");
        assertEquals(NodeState.LAGGING, r1.state(), r1.toString());
        assertNull(r1.lagMillis());
        assertTrue(r1.reason().contains("lag unknown: heartbeat writer stalled 1100 ms"), r1.reason());
        m.close();
    }

    @Test
    void aWriterHiccupShorterThanMaxLagKeepsReplicasIn() {
        Router router = new Router(config(Map.of()), clock::get);
        HealthMonitor m = caughtUp(router);
        clock.addAndGet(700 * MS); // no beat for 700 ms on a busy host: over 3 intervals and 500 ms, under max-lag
        m.probeRound();
        assertEquals(List.of("r1", "r2"), router.topology().replicas(), router.topology().describe());
        assertEquals(700L, router.topology().status("r1").lagMillis(), "lag keeps growing while the writer stalls");
        assertNull(m.status().heartbeat());
        clock.addAndGet(400 * MS); // 1.1 s: both out, by lag and as unknown
        m.probeRound();
        assertEquals(List.of(), router.topology().replicas());
        assertTrue(m.status().heartbeat().contains("stalled 1100 ms"), m.status().heartbeat());
        m.close();
    }

    @Test
    void aLagThatGrewWhileTheWriterWasQuietSaysSo() {
        Router router = new Router(config(Map.of("max-lag-ms", "300", "readmit-lag-ms", "200")), clock::get);
        HealthMonitor m = caughtUp(router);
        clock.addAndGet(400 * MS); // no beat for 400 ms: over max-lag (300), under the unknown bound (500)
        m.probeRound();
        NodeStatus r1 = router.topology().status("r1");
        assertEquals(NodeState.LAGGING, r1.state(), r1.toString());
        assertEquals(400L, r1.lagMillis());
        assertTrue(r1.reason().contains("lag 400 ms > max-lag 300 ms; no heartbeat committed on the primary for 400 ms"),
                r1.reason());
        m.close();
    }

    @Test
    void aReplicaBehindAnActiveWriterDoesNotBlameTheWriter() {
        Router router = new Router(config(Map.of()), clock::get);
        HealthMonitor m = caughtUp(router);
        beatAndApply(m);
        answers.put("r1", replica(primaryBeat.get() - 1_500_000));
        m.probeRound();
        NodeStatus r1 = router.topology().status("r1");
        assertEquals(NodeState.LAGGING, r1.state(), r1.toString());
        assertTrue(!r1.reason().contains("no heartbeat committed"), r1.reason());
        m.close();
    }
}
