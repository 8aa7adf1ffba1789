package dev.sluice.jdbc;

import static dev.sluice.jdbc.ClusterModeHarness.await;
import static dev.sluice.jdbc.ClusterModeHarness.events;
import static dev.sluice.jdbc.ClusterModeHarness.name;
import static dev.sluice.jdbc.ClusterModeHarness.writeVia;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.core.config.NodeConfig;
import dev.sluice.core.coord.CoordinationStatus;
import dev.sluice.core.failover.FailoverIo;
import dev.sluice.core.failover.ReplicaReport;
import dev.sluice.testsupport.Clusters;
import dev.sluice.testsupport.DbNode;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/**
 * Three Sluice instances share one ZooKeeper and one PostgreSQL cluster (primary + 2 replicas), all with
 * {@code failover: auto}: one decision, one promotion, one epoch, every instance routes writes to it.
 */
class ClusterModeFailoverIT {

    @Test
    void primaryKilledGivesExactlyOnePromotionFollowedByAllInstances() throws Exception {
        try (ClusterModeHarness h = new ClusterModeHarness(Clusters.startPostgres("cm-failover", 2), "/kill-primary")) {
            ClusterRuntime a = h.start("a");
            ClusterRuntime b = h.start("b");
            ClusterRuntime c = h.start("c");
            List<ClusterRuntime> all = List.of(a, b, c);
            String oldPrimary = name(h.db.primary());
            await(5000, () -> all.stream().allMatch(rt -> oldPrimary.equals(rt.router().designatedPrimary())),
                    () -> "every instance applies the seeded shared record" + h.describe());
            assertEquals(1, all.stream().filter(rt -> rt.coordinator().isLeader()).count(), "one leader" + h.describe());
            for (ClusterRuntime rt : all) {
                assertEquals(h.db.primary().port(), writeVia(rt));
            }
            CoordinationStatus st = b.clusterStatus().coordination();
            assertEquals("zookeeper", st.mode());
            assertEquals(List.of("a", "b", "c"), st.instances().stream().map(CoordinationStatus.Instance::name).toList());
            assertEquals("a", st.leader(), "the first instance to join leads");

            h.db.kill(h.db.primary());
            await(20_000, () -> all.stream().allMatch(rt -> rt.router().epoch() == 2 && rt.router().topology().primary() != null),
                    () -> "all instances on epoch 2 with a primary" + h.describe());
            String newPrimary = a.router().topology().primary();
            assertNotEquals(oldPrimary, newPrimary);
            for (ClusterRuntime rt : all) {
                assertEquals(newPrimary, rt.router().topology().primary(), rt.coordinator().instanceName() + h.describe());
                assertEquals(newPrimary, rt.router().designatedPrimary());
                assertEquals(Integer.parseInt(newPrimary.substring(newPrimary.lastIndexOf(':') + 1)), writeVia(rt));
            }
            assertEquals(List.of(newPrimary), h.writableNodes(), "exactly one writable node");
            assertEquals(1, all.stream().mapToLong(rt -> events(rt, "promoted")).sum(), "exactly one promotion" + h.describe());
            assertEquals(2, a.coordinator().current().epoch(), "one epoch spent");
            assertEquals(0, events(b, "promoted") + events(c, "promoted"), "followers never promote");
            // every instance reports the epoch it applied (the status page's instances list)
            await(2000, () -> b.clusterStatus().coordination().instances().stream().allMatch(i -> i.epoch() == 2),
                    () -> "instances report epoch 2: " + b.clusterStatus().coordination());
        }
    }

    @Test
    void leaderKilledMidFailoverAnotherInstanceFinishesIt() throws Exception {
        CountDownLatch promoting = new CountDownLatch(1);
        try (ClusterModeHarness h = new ClusterModeHarness(Clusters.startPostgres("cm-leader", 2), "/kill-leader")) {
            // the leader publishes the new epoch, then "dies" inside the promotion: it never calls pg_promote
            ClusterRuntime a = h.start("a", h.zk.getConnectString(), io -> new StuckPromotion(io, promoting));
            ClusterRuntime b = h.start("b");
            ClusterRuntime c = h.start("c");
            String oldPrimary = name(h.db.primary());
            await(5000, () -> a.coordinator().isLeader() && c.router().designatedPrimary() != null, h::describe);

            h.db.kill(h.db.primary());
            await(10_000, () -> promoting.getCount() == 0, () -> "the leader reached the promotion" + h.describe());
            long published = b.coordinator().current().epoch();
            String chosen = b.coordinator().current().primary();
            assertEquals(2, published);
            assertNotEquals(oldPrimary, chosen);
            assertTrue(h.writableNodes().isEmpty(), "nobody promoted yet: " + h.writableNodes());

            a.close(); // the leader dies (its ZooKeeper session ends with it)
            List<ClusterRuntime> rest = List.of(b, c);
            await(20_000, () -> rest.stream().allMatch(rt -> chosen.equals(rt.router().topology().primary())),
                    () -> "the surviving instances finish the promotion of " + chosen + h.describe());
            assertEquals(List.of(chosen), h.writableNodes(), "still exactly one primary");
            for (ClusterRuntime rt : rest) {
                assertEquals(2, rt.router().epoch(), "no second epoch: the published one was finished, not replaced");
                assertEquals(Integer.parseInt(chosen.substring(chosen.lastIndexOf(':') + 1)), writeVia(rt));
            }
            assertEquals(1, rest.stream().filter(rt -> rt.coordinator().isLeader()).count(), "a new leader" + h.describe());
            assertEquals(1, rest.stream().mapToLong(rt -> events(rt, "failover-resumed")).sum(), "finished once" + h.describe());
            // the remaining replica was re-pointed to the new primary and streams from it again
            DbNode other = h.db.nodes().stream().filter(n -> n.isRunning() && !name(n).equals(chosen)).findFirst().orElseThrow();
            int chosenPort = Integer.parseInt(chosen.substring(chosen.lastIndexOf(':') + 1));
            await(10_000, () -> streamsFrom(h, other, chosenPort), () -> name(other) + " streams from " + chosen);
            assertFalse(h.writableNodes().contains(name(other)));
        }
    }

    private static boolean streamsFrom(ClusterModeHarness h, DbNode replica, int port) {
        try (java.sql.Connection c = h.db.connectAdmin(replica); java.sql.Statement st = c.createStatement();
             java.sql.ResultSet rs = st.executeQuery("SELECT status, sender_port FROM pg_stat_wal_receiver")) {
            return rs.next() && "streaming".equals(rs.getString(1)) && rs.getInt(2) == port;
        } catch (java.sql.SQLException e) {
            return false;
        }
    }

    /** Failover I/O whose promote() never returns until the runtime is closed (its thread interrupted). */
    private static final class StuckPromotion implements FailoverIo {
        private final FailoverIo io;
        private final CountDownLatch reached;

        StuckPromotion(FailoverIo io, CountDownLatch reached) {
            this.io = io;
            this.reached = reached;
        }

        @Override
        public void promote(NodeConfig n) throws Exception {
            reached.countDown();
            new CountDownLatch(1).await(); // until interrupted by close(): then it throws, nothing promoted
            throw new AssertionError("unreachable");
        }

        @Override
        public ReplicaReport report(NodeConfig n) throws Exception {
            return io.report(n);
        }

        @Override
        public void applyReceived(NodeConfig n, Duration timeout) throws Exception {
            io.applyReceived(n, timeout);
        }

        @Override
        public String repoint(NodeConfig replica, NodeConfig primary) throws Exception {
            return io.repoint(replica, primary);
        }

        @Override
        public void fence(NodeConfig n) throws Exception {
            io.fence(n);
        }

        @Override
        public void unfence(NodeConfig n) throws Exception {
            io.unfence(n);
        }

        @Override
        public String position(NodeConfig n) throws Exception {
            return io.position(n);
        }

        @Override
        public void waitForPosition(NodeConfig n, String position, Duration timeout) throws Exception {
            io.waitForPosition(n, position, timeout);
        }

        @Override
        public String rejoin(NodeConfig old, NodeConfig primary) throws Exception {
            return io.rejoin(old, primary);
        }
    }
}
