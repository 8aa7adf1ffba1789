package dev.sluice.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.sluice.core.health.ClusterStatus;
import dev.sluice.core.health.EventLog;
import dev.sluice.testsupport.Clusters;
import dev.sluice.testsupport.DbCluster;
import dev.sluice.testsupport.DbNode;
import dev.sluice.testsupport.TcpRelay;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Sluice cut off from a healthy primary: Sluice reaches the primary only through a {@link TcpRelay}, the
 * replicas stream from it directly. When the relay blackholes (or cuts) Sluice's path, the primary fails
 * Sluice's probes but the replicas still stream from it, so {@code failover=auto} must not promote: no
 * {@code promoted} event, no replica writable, and a {@code failover-aborted} event saying why. After the
 * relay heals, writes go to the original primary again. Also checked while partitioned: clusterStatus() stays
 * responsive, the healthy replicas are not marked down, and a write on a fresh connection fails fast.
 *
 * <p>System properties: {@code sluice.partitionMariaDb=false} runs PostgreSQL only;
 * {@code sluice.partitionUrlExtra} is appended to the Sluice URL (e.g. {@code &driver.cancelSignalTimeout=1}).
 */
class PartitionFailoverIT {
    private static final long NO_PROMOTION_WINDOW_MS = 5_500;
    private static final Map<String, DbCluster> clusters = new HashMap<>();
    private static final AtomicLong ids = new AtomicLong();

    private static final long STATUS_BOUND_MS = 3_000;

    private TcpRelay relay;
    private long maxStatusMs;
    private final List<String> slowStatus = new java.util.ArrayList<>();

    @AfterEach
    void closeRuntimeAndRelay() throws Exception {
        SluiceDriver.closeAll();
        if (relay != null) {
            relay.close();
        }
    }

    @AfterAll
    static void shutdown() {
        clusters.values().forEach(DbCluster::close);
    }

    private static DbCluster cluster(String engine) {
        return clusters.computeIfAbsent(engine, e -> e.equals("postgresql")
                ? Clusters.startPostgres("partition-pg", 2) : Clusters.startMariaDb("partition-maria", 2));
    }

    private static boolean pg(String engine) {
        return engine.equals("postgresql");
    }

    private String url(String engine, DbCluster cluster) {
        String hosts = relay.host() + ":" + relay.port() + ","
                + cluster.replicas().stream().map(n -> n.host() + ":" + n.port()).collect(Collectors.joining(","));
        return "jdbc:sluice:" + engine + "://" + hosts + "/" + cluster.database() + "?user=" + cluster.user()
                + "&password=" + cluster.password() + "&failover=auto&admin-user=" + (pg(engine) ? "postgres" : "root")
                + "&probe-timeout-ms=1000" + System.getProperty("sluice.partitionUrlExtra", "");
    }

    /** A write through Sluice; returns the port of the server that executed it. */
    private static int writeThroughSluice(Connection c, String engine) throws SQLException {
        long id = ids.incrementAndGet();
        try (Statement st = c.createStatement()) {
            st.executeUpdate("INSERT INTO part(id, port) VALUES (" + id + ", " + (pg(engine) ? "inet_server_port()" : "@@port") + ")");
            try (ResultSet rs = st.executeQuery("/* sluice:primary */ SELECT port FROM part WHERE id = " + id)) {
                assertTrue(rs.next(), "row " + id + " written");
                return rs.getInt(1);
            }
        }
    }

    /** Whether a replica accepts writes (it would, had anybody promoted it). */
    private static boolean writable(DbCluster cluster, DbNode replica, String engine) throws SQLException {
        try (Connection c = cluster.connectAdmin(replica); Statement st = c.createStatement()) {
            if (pg(engine)) {
                try (ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
                    rs.next();
                    return !rs.getBoolean(1);
                }
            }
            boolean readOnly;
            try (ResultSet rs = st.executeQuery("SELECT @@read_only")) {
                rs.next();
                readOnly = rs.getInt(1) != 0;
            }
            boolean replicating;
            try (ResultSet rs = st.executeQuery("SHOW SLAVE STATUS")) {
                replicating = rs.next() && "Yes".equals(rs.getString("Slave_IO_Running"));
            }
            return !readOnly || !replicating;
        }
    }

    private static List<EventLog.Event> eventsSince(ClusterStatus s, long sinceMillis) {
        return s.events().stream().filter(e -> e.timeMillis() >= sinceMillis).toList();
    }

    /**
     * clusterStatus() must stay responsive while a node is partitioned away: at most one probe round's bound
     * (2 x probe-timeout-ms + 500 ms, see HealthMonitor.probeAll) plus a margin.
     */
    private ClusterStatus status(Connection c) {
        long t0 = System.nanoTime();
        ClusterStatus s;
        try {
            s = c.unwrap(SluiceAdmin.class).clusterStatus();
        } catch (SQLException e) {
            throw new AssertionError(e);
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        maxStatusMs = Math.max(maxStatusMs, ms);
        if (ms > STATUS_BOUND_MS) {
            slowStatus.add(ms + " ms");
        }
        return s;
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"postgresql, blackhole", "postgresql, cut", "mariadb, blackhole", "mariadb, cut"})
    void partitionedFromHealthyPrimaryDoesNotPromote(String engine, String fault) throws Exception {
        if (engine.equals("mariadb") && !Boolean.parseBoolean(System.getProperty("sluice.partitionMariaDb", "true"))) {
            return;
        }
        DbCluster cluster = cluster(engine);
        DbNode primary = cluster.primary();
        relay = TcpRelay.start(primary.host(), primary.port());
        String relayed = relay.host() + ":" + relay.port();
        String url = url(engine, cluster);
        try (Connection app = DriverManager.getConnection(primary.jdbcUrl(), cluster.user(), cluster.password());
             Statement st = app.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS part (id bigint PRIMARY KEY, port int NOT NULL)");
        }
        cluster.waitForReplication(java.time.Duration.ofSeconds(10));

        try (Connection c = DriverManager.getConnection(url); Connection held = DriverManager.getConnection(url)) {
            try {
                ClusterStatus before = status(c);
                assertEquals(relayed, before.primary(), "Sluice sees the primary through the relay: " + before.noPrimaryReason());
                assertEquals(primary.port(), writeThroughSluice(c, engine));
                assertEquals(primary.port(), writeThroughSluice(held, engine)); // held now owns a backend on the primary
                for (DbNode r : cluster.replicas()) {
                    assertTrue(!writable(cluster, r, engine), r + " is a replica before the fault");
                }

                long faultMillis = System.currentTimeMillis();
                long faultNanos = System.nanoTime();
                if (fault.equals("blackhole")) {
                    relay.blackhole();
                } else {
                    relay.cut();
                }

                // an in-flight style write on a connection that already holds a backend on the primary: bounded?
                CompletableFuture<String> heldWrite = CompletableFuture.supplyAsync(() -> {
                    long t0 = System.nanoTime();
                    try {
                        writeThroughSluice(held, engine);
                        return "succeeded after " + (System.nanoTime() - t0) / 1_000_000 + " ms";
                    } catch (Throwable e) {
                        return "failed after " + (System.nanoTime() - t0) / 1_000_000 + " ms: " + e;
                    }
                });

                long detectedMs = -1;
                long abortedMs = -1;
                long primaryGoneMs = -1;
                String freshWrite = null;
                Optional<EventLog.Event> aborted = Optional.empty();
                long windowEnd = faultNanos + TimeUnit.MILLISECONDS.toNanos(NO_PROMOTION_WINDOW_MS);
                long hardEnd = faultNanos + TimeUnit.SECONDS.toNanos(15);
                while (System.nanoTime() < windowEnd || (aborted.isEmpty() && System.nanoTime() < hardEnd)) {
                    ClusterStatus s = status(c);
                    List<EventLog.Event> ev = eventsSince(s, faultMillis);
                    long sinceFault = (System.nanoTime() - faultNanos) / 1_000_000;
                    for (EventLog.Event e : ev) {
                        if (e.type().equals("promoted") || e.type().equals("failover-finished") || e.type().equals("epoch")) {
                            fail("promoted although every replica still streams from the primary: " + e + "\nall events: " + ev);
                        }
                    }
                    if (primaryGoneMs < 0 && s.primary() == null) {
                        primaryGoneMs = sinceFault;
                        // a fresh Sluice connection must not hang on the partitioned primary: it fails fast
                        long t0 = System.nanoTime();
                        try (Connection fresh = DriverManager.getConnection(url)) {
                            writeThroughSluice(fresh, engine);
                            freshWrite = "succeeded?!";
                        } catch (SQLException e) {
                            freshWrite = "failed in " + (System.nanoTime() - t0) / 1_000_000 + " ms: " + e.getMessage();
                        }
                        long ms = (System.nanoTime() - t0) / 1_000_000;
                        assertTrue(ms < 2_000, "write on a fresh connection with no primary took " + ms + " ms: " + freshWrite);
                    }
                    assertTrue(s.primary() == null || s.primary().equals(relayed), "primary is " + s.primary());
                    if (detectedMs < 0 && ev.stream().anyMatch(e -> e.type().equals("failover-detected"))) {
                        detectedMs = sinceFault;
                    }
                    if (aborted.isEmpty()) {
                        aborted = ev.stream().filter(e -> e.type().equals("failover-aborted")).findFirst();
                        if (aborted.isPresent()) {
                            abortedMs = sinceFault;
                        }
                    }
                    for (DbNode r : cluster.replicas()) {
                        assertTrue(!writable(cluster, r, engine), r + " became writable " + sinceFault + " ms after the " + fault);
                    }
                    Thread.sleep(150);
                }
                long observedMs = (System.nanoTime() - faultNanos) / 1_000_000;
                ClusterStatus during = status(c);
                List<EventLog.Event> ev = eventsSince(during, faultMillis);
                System.out.printf("[partition] %s %s: primary out of routing after %d ms, failover-detected after %d ms, "
                                + "failover-aborted after %d ms (observed %d ms, %d aborts); fresh write: %s%n",
                        engine, fault, primaryGoneMs, detectedMs, abortedMs, observedMs,
                        ev.stream().filter(e -> e.type().equals("failover-aborted")).count(), freshWrite);
                assertTrue(primaryGoneMs >= 0, "Sluice noticed the partitioned primary: " + ev);
                assertTrue(detectedMs >= 0, "failover-detected event: " + ev);
                assertTrue(aborted.isPresent(), "failover-aborted event: " + ev);
                assertTrue(aborted.get().message().contains("still streams"), "abort names the streaming replica: " + aborted.get());
                assertTrue(ev.stream().noneMatch(e -> e.type().equals("promoted")), ev.toString());
                // the replicas are healthy and reachable the whole time: the partitioned primary must not take them down
                List<String> replicaNames = cluster.replicas().stream().map(AbstractFailoverIT::name).toList();
                List<EventLog.Event> replicaDown = ev.stream()
                        .filter(e -> e.type().equals("node-down") && replicaNames.contains(e.node())).toList();
                System.out.printf("[partition] %s %s: replica node-down events during the partition: %s%n", engine, fault,
                        replicaDown);
                assertTrue(observedMs >= 5_000, "observed at least 5 s");
                assertNull(during.primary(), "no primary while partitioned");

                String heldOutcome;
                try {
                    heldOutcome = heldWrite.get(100, TimeUnit.MILLISECONDS);
                } catch (TimeoutException e) {
                    heldOutcome = "still blocked " + observedMs + " ms after the " + fault;
                }
                System.out.printf("[partition] %s %s: write on a connection holding a primary backend: %s%n", engine, fault,
                        heldOutcome);

                // heal: the original primary is routed again, no fencing, writes land on it
                long healNanos = System.nanoTime();
                relay.heal();
                long deadline = healNanos + TimeUnit.SECONDS.toNanos(15);
                int port = -1;
                String last = null;
                while (System.nanoTime() < deadline) {
                    try (Connection fresh = DriverManager.getConnection(url)) {
                        port = writeThroughSluice(fresh, engine);
                        break;
                    } catch (SQLException e) {
                        last = e.getMessage();
                        Thread.sleep(50);
                    }
                }
                long healedMs = (System.nanoTime() - healNanos) / 1_000_000;
                System.out.printf("[partition] %s %s: heal -> first write %d ms; slowest clusterStatus() %d ms%s%n", engine, fault,
                    healedMs, maxStatusMs, slowStatus.isEmpty() ? "" : ", over " + STATUS_BOUND_MS + " ms: " + slowStatus);
                assertEquals(primary.port(), port, "write after heal goes to the original primary (last error: " + last + ")");
                ClusterStatus after = status(c);
                assertEquals(relayed, after.primary());
                assertTrue(!after.node(relayed).reason().contains("fenced"), after.node(relayed).reason());
                for (DbNode r : cluster.replicas()) {
                    assertTrue(!writable(cluster, r, engine), r + " still a replica after heal");
                }
                try {
                    System.out.printf("[partition] %s %s: held connection's write after heal: %s%n", engine, fault,
                            heldWrite.get(5, TimeUnit.SECONDS));
                } catch (TimeoutException | ExecutionException e) {
                    System.out.printf("[partition] %s %s: held connection's write still blocked 5 s after heal%n", engine, fault);
                }
                assertTrue(slowStatus.isEmpty(), "clusterStatus() blocked behind probe rounds of the partitioned primary: "
                        + slowStatus);
                assertEquals(List.of(), replicaDown, "healthy replicas marked down while only the primary was partitioned");
            } finally {
                relay.close(); // on a failure, the held connection's blocked write must end before the connections close
            }
        }
    }
}
