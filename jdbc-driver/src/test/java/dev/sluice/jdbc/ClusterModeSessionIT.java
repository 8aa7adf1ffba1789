package dev.sluice.jdbc;

import static dev.sluice.jdbc.ClusterModeHarness.GRACE_MS;
import static dev.sluice.jdbc.ClusterModeHarness.SESSION_MS;
import static dev.sluice.jdbc.ClusterModeHarness.await;
import static dev.sluice.jdbc.ClusterModeHarness.events;
import static dev.sluice.jdbc.ClusterModeHarness.name;
import static dev.sluice.jdbc.ClusterModeHarness.writeVia;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.core.config.ConfigException;
import dev.sluice.core.failover.FailoverResult;
import dev.sluice.testsupport.Clusters;
import dev.sluice.testsupport.TcpRelay;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Cluster mode's fail-safe and shared config: instance c reaches ZooKeeper through a TCP relay the test can
 * blackhole; a and b connect directly. One PostgreSQL cluster (primary + 2 replicas) for both tests.
 */
class ClusterModeSessionIT {
    static ClusterModeHarness h;
    static TcpRelay relay;
    static ClusterRuntime a;
    static ClusterRuntime b;
    static ClusterRuntime c;

    @BeforeAll
    static void start() throws Exception {
        h = new ClusterModeHarness(Clusters.startPostgres("cm-session", 2), "/session");
        relay = TcpRelay.start("127.0.0.1", h.zk.getPort());
        a = h.start("a"); // first: the leader
        b = h.start("b");
        c = h.start("c", relay.host() + ":" + relay.port(), io -> io);
        String p = name(h.db.primary());
        await(5000, () -> List.of(a, b, c).stream().allMatch(rt -> p.equals(rt.router().designatedPrimary())), h::describe);
    }

    @AfterAll
    static void stop() throws Exception {
        if (h != null) {
            h.close();
        }
        if (relay != null) {
            relay.close();
        }
    }

    @Test
    void sessionLossStopsWritesWithinTheBoundAndReconnectResumesWithTheCurrentEpoch() throws Exception {
        long epoch = a.router().epoch();
        dev.sluice.testsupport.DbNode oldPrimary = h.db.primary();
        assertEquals(h.db.primary().port(), writeVia(c));

        long cutAt = System.nanoTime();
        relay.blackhole(); // c's ZooKeeper connection goes silent (no RST), as in a network partition
        // SUSPENDED after 2/3 of the session timeout without a server answer, then the grace period
        long bound = SESSION_MS + GRACE_MS + 1000;
        await(bound, () -> !c.coordinator().writesAllowed(), () -> "c refuses writes" + h.describe());
        long refusedAfter = (System.nanoTime() - cutAt) / 1_000_000;
        System.out.printf("[cluster-mode] ZooKeeper cut -> writes refused after %d ms (session %d ms, grace %d ms)%n",
                refusedAfter, SESSION_MS, GRACE_MS);
        assertEquals(503, health(c), "/health tells a load balancer to send clients elsewhere");
        assertEquals(200, health(a));
        SQLException refused = assertThrows(SQLException.class, () -> writeVia(c));
        assertTrue(refused.getMessage().contains("ZooKeeper"), refused.getMessage());
        assertTrue(c.clusterStatus().events().stream().anyMatch(e -> e.type().equals("writes-refused")), "event");
        assertEquals(h.db.primary().port(), writeVia(a), "the connected instances keep writing");

        // meanwhile the others move on: a switchover asked of b (a follower) is run by the leader a
        assertTrue(a.coordinator().isLeader() && !b.coordinator().isLeader(), h.describe());
        FailoverResult r = b.switchover(null, false);
        assertTrue(r.promoted(), r.message() + " " + r.steps());
        assertEquals(epoch + 1, r.epoch());
        assertEquals(1, events(a, "switchover-finished"), "run by the leader");
        assertEquals(0, events(b, "switchover-finished"), "not by the follower that was asked");
        String newPrimary = r.newPrimary();
        int newPort = Integer.parseInt(newPrimary.substring(newPrimary.lastIndexOf(':') + 1));
        await(2000, () -> b.router().epoch() == epoch + 1 && newPrimary.equals(b.router().topology().primary()), h::describe);
        assertEquals(newPort, writeVia(b));
        assertEquals(epoch, c.router().epoch(), "c cannot know yet");
        assertThrows(SQLException.class, () -> writeVia(c), "and still refuses writes");

        relay.heal();
        await(15_000, () -> c.coordinator().writesAllowed() && c.router().epoch() == epoch + 1
                        && newPrimary.equals(c.router().topology().primary()),
                () -> "c reconnects, reads epoch " + (epoch + 1) + " and follows it" + h.describe());
        assertEquals(newPort, writeVia(c));
        assertEquals(200, health(c));
        assertTrue(c.clusterStatus().events().stream().anyMatch(e -> e.type().equals("zookeeper-resynced")), "event");
        await(5000, () -> a.clusterStatus().coordination().instances().stream()
                        .anyMatch(i -> i.name().equals("c") && i.epoch() == epoch + 1),
                () -> "c registered again with the current epoch: " + a.clusterStatus().coordination());
        h.db.kill(oldPrimary); // fenced and read-only now; a clean stop of it would only slow the teardown
    }

    /** The admin API's /health of one instance, as HAProxy's check would see it. */
    private static int health(ClusterRuntime rt) throws Exception {
        dev.sluice.admin.AdminServer api = new dev.sluice.admin.AdminServer(new java.net.InetSocketAddress("127.0.0.1", 0), null, rt);
        api.start();
        try {
            java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("http://127.0.0.1:" + api.port() + "/health")).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            return r.statusCode();
        } finally {
            api.close();
        }
    }

    @Test
    void configChangePublishedThroughOneInstanceReachesTheOthers() throws Exception {
        assertEquals(1000, a.router().config().maxLagMs());
        // validated before publishing: an invalid or non-shareable change never reaches ZooKeeper
        assertThrows(ConfigException.class, () -> b.setSharedOption("max-lag-ms", "soon"));
        assertThrows(ConfigException.class, () -> b.setSharedOption("readmit-lag-ms", "5000")); // above max-lag-ms
        ConfigException notLive = assertThrows(ConfigException.class, () -> b.setSharedOption("pool-max-size", "5"));
        assertTrue(notLive.getMessage().contains("restart"), notLive.getMessage());
        assertEquals(Map.of(), a.sharedConfig());

        long at = System.nanoTime();
        assertEquals(Map.of("max-lag-ms", "4000"), b.setSharedOption("max-lag-ms", "4000"));
        await(1000, () -> List.of(a, b, c).stream().allMatch(rt -> rt.router().config().maxLagMs() == 4000),
                () -> "every instance applies it within a second" + h.describe());
        System.out.printf("[cluster-mode] shared config change applied everywhere after %d ms%n", (System.nanoTime() - at) / 1_000_000);
        assertEquals(Map.of("max-lag-ms", "4000"), c.appliedSharedOptions());

        b.setSharedOption("max-lag-ms", null); // removing the override gives each instance its own value back
        await(1000, () -> List.of(a, b, c).stream().allMatch(rt -> rt.router().config().maxLagMs() == 1000), h::describe);
        assertNotEquals(null, a.coordinator().current());
    }
}
