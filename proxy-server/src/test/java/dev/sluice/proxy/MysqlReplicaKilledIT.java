package dev.sluice.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A replica killed (SIGKILL) under a read load from Connector/J + HikariCP through the proxy: autocommit
 * reads keep succeeding on the other replica; at most the statements in flight on the dead node fail, right
 * at the kill, with a connection error; writes on the primary are not disturbed.
 */
class MysqlReplicaKilledIT {
    static final int THREADS = 4;
    MyProxyFixture f;

    @AfterEach
    void stop() {
        if (f != null) {
            f.close();
        }
    }

    record Failure(long atNanos, int code, String sqlState, String message) {
    }

    /** What a client may see for a statement that was running on a node that died: a lost connection. */
    static boolean connectionError(Failure fl) {
        return (fl.sqlState() != null && fl.sqlState().startsWith("08")) || Set.of(1927, 2013, 2006, 1053).contains(fl.code());
    }

    @Test
    void replicaKilledMidLoadOnlyFailsWhatWasRunningThere() throws Exception {
        f = MyProxyFixture.start("kill-replica-maria", 2);
        String victim = f.replicaNames().get(0);
        String survivor = f.replicaNames().get(1);
        Map<String, AtomicLong> okOn = new ConcurrentHashMap<>();
        Map<String, AtomicLong> okAfter = new ConcurrentHashMap<>();
        ConcurrentLinkedQueue<Failure> failures = new ConcurrentLinkedQueue<>();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong killedAt = new AtomicLong(Long.MAX_VALUE);
        HikariConfig hc = new HikariConfig();
        hc.setJdbcUrl(f.jdbcUrl("mysql", "connectTimeout=10000"));
        hc.setUsername(MyProxyFixture.USER);
        hc.setPassword(MyProxyFixture.PASSWORD);
        hc.setMaximumPoolSize(THREADS);
        try (HikariDataSource ds = new HikariDataSource(hc)) {
            try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
                st.execute("CREATE TABLE beats (id int AUTO_INCREMENT PRIMARY KEY, port int)");
            }
            ExecutorService ex = Executors.newFixedThreadPool(THREADS);
            for (int t = 0; t < THREADS; t++) {
                ex.submit(() -> {
                    while (!stop.get()) {
                        try (Connection c = ds.getConnection(); Statement st = c.createStatement();
                             ResultSet rs = st.executeQuery("SELECT @@port, SLEEP(0.005)")) {
                            rs.next();
                            String n = f.node(rs.getInt(1));
                            okOn.computeIfAbsent(n, k -> new AtomicLong()).incrementAndGet();
                            if (System.nanoTime() - killedAt.get() > TimeUnit.SECONDS.toNanos(2)) {
                                okAfter.computeIfAbsent(n, k -> new AtomicLong()).incrementAndGet();
                            }
                        } catch (SQLException e) {
                            failures.add(new Failure(System.nanoTime(), e.getErrorCode(), e.getSQLState(), e.toString()));
                        }
                    }
                    return null;
                });
            }
            // through the proxy the victim serves reads before it dies (in direct mode only the primary does)
            awaitCount(okOn, f.readNodes().contains(victim) ? victim : f.primaryName(), 20);
            killedAt.set(System.nanoTime());
            f.cluster.kill(f.nodeNamed(victim));
            long afterKill = total(okOn);
            // writes go on meanwhile: the primary is not disturbed by a replica's death
            try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
                for (int i = 0; i < 20; i++) {
                    st.executeUpdate("INSERT INTO beats (port) VALUES (@@port)");
                }
                try (ResultSet rs = st.executeQuery("SELECT COUNT(*), MIN(port), MAX(port) FROM beats FOR UPDATE")) {
                    rs.next();
                    assertEquals(20, rs.getInt(1));
                    f.assertOnPrimary(rs.getInt(2), "INSERT after the kill");
                    f.assertOnPrimary(rs.getInt(3), "INSERT after the kill");
                }
            }
            Thread.sleep(4000); // the load keeps running for a while after the kill
            stop.set(true);
            ex.shutdown();
            assertTrue(ex.awaitTermination(30, TimeUnit.SECONDS));
            assertTrue(total(okOn) - afterKill > 100, "reads went on after the kill: " + okOn);
        }
        for (Failure fl : failures) {
            assertTrue(connectionError(fl), "only connection errors: " + fl);
            assertTrue(fl.atNanos() >= killedAt.get(), "no failure before the kill: " + fl);
            assertTrue(fl.atNanos() - killedAt.get() < TimeUnit.SECONDS.toNanos(2), "failures only right at the kill: " + fl);
        }
        // a read in flight on the dead replica had not been answered yet (SLEEP answers at the end): the proxy runs it
        // again on the survivor, so no autocommit read fails at all
        assertEquals(List.of(), List.copyOf(failures), "autocommit reads that failed");
        Set<String> readersAfter = okAfter.keySet();
        assertTrue(f.readNodes().containsAll(readersAfter), "reads stayed on the read nodes: " + okAfter);
        assertTrue(!readersAfter.contains(victim), "nothing read from the dead replica: " + okAfter);
        if (!MyProxyFixture.direct()) {
            assertEquals(Set.of(survivor), readersAfter, "the surviving replica took every read: " + okAfter);
            assertEquals("DOWN", f.server.runtime().router().topology().status(victim).state().name());
        }
        System.out.printf("replica killed mid-load: %d reads ok %s, %d failed %s%n", total(okOn), okOn, failures.size(),
                failures.stream().map(Failure::message).toList());
    }

    static long total(Map<String, AtomicLong> m) {
        return m.values().stream().mapToLong(AtomicLong::get).sum();
    }

    static void awaitCount(Map<String, AtomicLong> m, String node, long n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            AtomicLong v = m.get(node);
            if (v != null && v.get() >= n) {
                return;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no reads reached " + node + ": " + m);
    }
}
