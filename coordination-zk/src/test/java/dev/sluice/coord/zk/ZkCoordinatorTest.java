package dev.sluice.coord.zk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.core.config.ClusterConfig;
import dev.sluice.core.config.Engine;
import dev.sluice.core.config.NodeConfig;
import dev.sluice.core.coord.Coordinator;
import dev.sluice.core.coord.SharedTopology;
import dev.sluice.core.failover.FailoverResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.BooleanSupplier;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The ZooKeeper coordinator alone, against a real in-process ZooKeeper: no database needed. */
class ZkCoordinatorTest {
    TestingServer zk;
    final List<ZkCoordinator> open = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        zk = new TestingServer(true);
    }

    @AfterEach
    void stop() throws Exception {
        open.forEach(ZkCoordinator::close);
        zk.close();
    }

    /** Records what the listener hears. */
    static final class Heard implements Coordinator.Listener {
        final List<SharedTopology> topologies = new CopyOnWriteArrayList<>();
        volatile Map<String, String> options = Map.of();

        @Override
        public void topologyChanged(SharedTopology t) {
            topologies.add(t);
        }

        @Override
        public void optionsChanged(Map<String, String> o) {
            options = o;
        }

        SharedTopology last() {
            return topologies.isEmpty() ? null : topologies.get(topologies.size() - 1);
        }
    }

    ZkCoordinator start(String name, Heard heard, Coordinator.RequestHandler handler) {
        ClusterConfig c = ClusterConfig.of("test", "main", Engine.POSTGRESQL, "db",
                List.of(new NodeConfig("pg1", "127.0.0.1", 1, 1, 0), new NodeConfig("pg2", "127.0.0.1", 2, 1, 0)),
                Map.of("coordination-zookeeper-connect", zk.getConnectString(), "coordination-instance-name", name), Map.of());
        ZkCoordinator z = new ZkCoordinator(c);
        open.add(z);
        z.start(heard, handler);
        return z;
    }

    static void await(long ms, BooleanSupplier cond, String what) throws InterruptedException {
        long deadline = System.nanoTime() + ms * 1_000_000L;
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + ms + " ms: " + what);
            }
            Thread.sleep(10);
        }
    }

    @Test
    void compareAndSetLetsExactlyOneOfManyConcurrentPromotionsThrough() throws Exception {
        List<Heard> heard = List.of(new Heard(), new Heard(), new Heard());
        List<ZkCoordinator> zs = List.of(start("a", heard.get(0), r -> null), start("b", heard.get(1), r -> null),
                start("c", heard.get(2), r -> null));
        SharedTopology seeded = zs.get(0).seed("pg1", 1);
        assertEquals("pg1", seeded.primary());
        assertEquals("pg1", zs.get(1).seed("pg2", 1).primary(), "the first seed wins; later ones read it");

        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            List<Future<SharedTopology>> tries = new ArrayList<>();
            for (ZkCoordinator z : zs) {
                Callable<SharedTopology> promote = () -> z.tryPublishPromotion(1, "pg2");
                tries.add(pool.submit(promote));
            }
            int won = 0;
            for (Future<SharedTopology> f : tries) {
                won += f.get() != null ? 1 : 0;
            }
            assertEquals(1, won, "one epoch, one winner");
        } finally {
            pool.shutdownNow();
        }
        assertNull(zs.get(2).tryPublishPromotion(1, "pg1"), "a stale expected epoch never wins");
        for (Heard h : heard) {
            await(1000, () -> h.last() != null && h.last().epoch() == 2, "every instance hears epoch 2");
            assertEquals("pg2", h.last().primary());
            assertEquals("pg1", h.last().previous());
        }
    }

    @Test
    void oneLeaderRequestsReachItAndLeadershipMovesWhenItLeaves() throws Exception {
        Heard h = new Heard();
        List<String> ranOn = new CopyOnWriteArrayList<>();
        ZkCoordinator a = start("a", h, r -> {
            ranOn.add("a:" + r.op() + ":" + r.node());
            return new FailoverResult(true, r.node(), 2, "done by a", List.of());
        });
        ZkCoordinator b = start("b", new Heard(), r -> {
            ranOn.add("b");
            return new FailoverResult(true, r.node(), 3, "done by b", List.of());
        });
        await(3000, a::isLeader, "the first instance leads");
        assertTrue(!b.isLeader());
        FailoverResult r = b.askLeader(new Coordinator.Request(Coordinator.Request.SWITCHOVER, "pg2", false));
        assertEquals("done by a", r.message());
        assertEquals(List.of("a:switchover:pg2"), ranOn);
        await(2000, () -> "a".equals(b.status().leader()) && b.status().instances().size() == 2, "status: " + b.status());

        a.close();
        await(3000, b::isLeader, "b leads once a is gone");
        await(2000, () -> b.status().instances().size() == 1, "a deregistered: " + b.status());
    }

    @Test
    void optionsAndDrainsReachEveryInstance() throws Exception {
        Heard ha = new Heard();
        Heard hb = new Heard();
        ZkCoordinator a = start("a", ha, r -> null);
        start("b", hb, r -> null);
        a.seed("pg1", 1);
        a.publishOptions(Map.of("max-lag-ms", "4000"));
        await(1000, () -> hb.options.equals(Map.of("max-lag-ms", "4000")), "b gets the options");
        a.publishDrained("pg2", true);
        await(1000, () -> hb.last() != null && hb.last().drained().contains("pg2"), "b gets the drain");
        assertEquals(1, hb.last().epoch(), "a drain does not change the epoch");
        assertNotNull(a.current());
        assertTrue(a.writesAllowed());
    }
}
