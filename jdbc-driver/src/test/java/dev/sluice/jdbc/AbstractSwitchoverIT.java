package dev.sluice.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.core.failover.FailoverResult;
import dev.sluice.testsupport.DbCluster;
import dev.sluice.testsupport.DbNode;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** Planned switchover under a write load: zero errors for autocommit writes, zero lost writes. */
abstract class AbstractSwitchoverIT {
    static DbCluster cluster;

    abstract String scheme();

    abstract String adminParams();

    abstract String whereSql();

    @AfterAll
    static void shutdown() throws Exception {
        SluiceDriver.closeAll();
        if (cluster != null) {
            cluster.close();
        }
    }

    String url() {
        String hosts = cluster.nodes().stream().map(n -> n.host() + ":" + n.port()).collect(Collectors.joining(","));
        return "jdbc:sluice:" + scheme() + "://" + hosts + "/" + cluster.database() + "?user=" + cluster.user()
                + "&password=" + cluster.password() + adminParams();
    }

    @Test
    void switchoverUnderLoadLosesNothingAndFailsNothing() throws Exception {
        DbNode oldPrimary = cluster.primary();
        DbNode target = cluster.replicas().get(1);
        String targetName = target.host() + ":" + target.port();
        try (Connection c = DriverManager.getConnection(url()); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE sw (id bigint PRIMARY KEY, t int)");
            FailoverResult plan = c.unwrap(SluiceAdmin.class).switchover(targetName, true);
            assertFalse(plan.promoted(), "a dry run changes nothing");
            assertEquals(targetName, plan.newPrimary());
            assertTrue(plan.steps().stream().anyMatch(s -> s.startsWith("candidate")), plan.steps().toString());
        }
        Set<Long> acked = ConcurrentHashMap.newKeySet();
        AtomicLong errors = new AtomicLong();
        List<String> errorMessages = new java.util.concurrent.CopyOnWriteArrayList<>();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong ids = new AtomicLong();
        List<Thread> writers = new ArrayList<>();
        for (int w = 0; w < 3; w++) {
            int tid = w;
            Thread t = new Thread(() -> {
                try (Connection c = DriverManager.getConnection(url())) {
                    while (!stop.get()) {
                        long id = ids.incrementAndGet();
                        try (PreparedStatement ps = c.prepareStatement("INSERT INTO sw(id, t) VALUES (?, ?)")) {
                            ps.setLong(1, id);
                            ps.setInt(2, tid);
                            ps.executeUpdate();
                            acked.add(id);
                        } catch (SQLException e) {
                            errors.incrementAndGet();
                            errorMessages.add(e.getSQLState() + " " + e.getMessage());
                        }
                    }
                } catch (SQLException e) {
                    errorMessages.add("connect: " + e.getMessage());
                    errors.incrementAndGet();
                }
            });
            t.start();
            writers.add(t);
        }
        FailoverResult r;
        try (Connection c = DriverManager.getConnection(url())) {
            Thread.sleep(500);
            long t0 = System.nanoTime();
            r = c.unwrap(SluiceAdmin.class).switchover(targetName, false);
            System.out.printf("[switchover] %s: %.0f ms, result %s%n", scheme(), (System.nanoTime() - t0) / 1e6, r.message());
            r.steps().forEach(s -> System.out.println("[switchover]   " + s));
            Thread.sleep(500);
        } finally {
            stop.set(true);
            for (Thread t : writers) {
                t.join(15_000);
            }
        }
        assertTrue(r.promoted(), r.message() + " " + r.steps());
        assertEquals(List.of(), errorMessages, "autocommit writes during the switchover");
        try (Connection c = DriverManager.getConnection(url()); Statement st = c.createStatement()) {
            assertEquals(targetName, c.unwrap(SluiceAdmin.class).clusterStatus().primary());
            Set<Long> present = new HashSet<>();
            try (ResultSet rs = st.executeQuery("/* sluice:primary */ SELECT id FROM sw")) {
                while (rs.next()) {
                    present.add(rs.getLong(1));
                }
            }
            List<Long> lost = acked.stream().filter(id -> !present.contains(id)).toList();
            System.out.printf("[switchover] %s: %d acknowledged writes, %d lost%n", scheme(), acked.size(), lost.size());
            assertEquals(List.of(), lost, "no acknowledged write lost");
            try (ResultSet rs = st.executeQuery("/* sluice:primary */ SELECT " + whereSql())) {
                rs.next();
                assertEquals(target.port(), rs.getInt(1));
                assertNotEquals(oldPrimary.port(), rs.getInt(1));
            }
        }
    }
}
