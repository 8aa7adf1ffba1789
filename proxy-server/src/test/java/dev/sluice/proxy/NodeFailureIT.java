package dev.sluice.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.sluice.testsupport.DbNode;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Nodes dying under the proxy: a replica killed mid-load, a transaction's node killed, the primary killed (failover). */
class NodeFailureIT {
    ProxyFixture f;

    @AfterEach
    void stop() {
        if (f != null) {
            f.close();
        }
    }

    static HikariDataSource pool(ProxyFixture f, int size) {
        HikariConfig hc = new HikariConfig();
        hc.setJdbcUrl(f.jdbcUrl());
        hc.setUsername(ProxyFixture.USER);
        hc.setPassword(ProxyFixture.PASSWORD);
        hc.setMaximumPoolSize(size);
        return new HikariDataSource(hc);
    }

    static DbNode node(ProxyFixture f, String name) {
        return f.cluster.nodes().stream().filter(n -> n.name().equals(name)).findFirst().orElseThrow();
    }

    record Failure(long atNanos, String sqlState, String message) {
    }

    @Test
    void replicaKilledMidLoadOnlyFailsWhatWasRunningThere() throws Exception {
        f = ProxyFixture.start("fail-replica-pg", 2, null, null);
        String victim = f.replicaNames().get(0);
        Map<String, AtomicLong> okOn = new ConcurrentHashMap<>();
        ConcurrentLinkedQueue<Failure> failures = new ConcurrentLinkedQueue<>();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong killedAt = new AtomicLong(Long.MAX_VALUE);
        try (HikariDataSource ds = pool(f, 4)) {
            ExecutorService ex = Executors.newFixedThreadPool(4);
            for (int t = 0; t < 4; t++) {
                ex.submit(() -> {
                    while (!stop.get()) {
                        try (Connection c = ds.getConnection(); Statement st = c.createStatement();
                             ResultSet rs = st.executeQuery("SELECT inet_server_port(), pg_sleep(0.005)")) {
                            rs.next();
                            okOn.computeIfAbsent(f.node(rs.getInt(1)), k -> new AtomicLong()).incrementAndGet();
                        } catch (SQLException e) {
                            failures.add(new Failure(System.nanoTime(), e.getSQLState(), e.getMessage()));
                        }
                    }
                    return null;
                });
            }
            awaitCount(okOn, victim, 20);
            killedAt.set(System.nanoTime());
            f.cluster.kill(node(f, victim));
            long afterKill = okTotal(okOn);
            Thread.sleep(3000); // the load keeps running for a while after the kill (scenario duration)
            stop.set(true);
            ex.shutdown();
            assertTrue(ex.awaitTermination(30, TimeUnit.SECONDS));
            assertTrue(okTotal(okOn) - afterKill > 50, "reads went on after the kill: " + okOn);
        }
        for (Failure fl : failures) {
            assertEquals("08006", fl.sqlState(), "only connection-failure errors: " + fl.message());
            assertTrue(fl.atNanos() >= killedAt.get(), "no failure before the kill: " + fl.message());
            assertTrue(fl.atNanos() - killedAt.get() < TimeUnit.SECONDS.toNanos(2), "failures only right at the kill: " + fl.message());
        }
        assertTrue(failures.size() <= 4, "at most the statements in flight on the dead node failed: " + failures);
        assertEquals("DOWN", f.server.runtime().router().topology().status(victim).state().name());
    }

    @Test
    void anAutocommitReadInFlightOnAKilledReplicaRunsAgainOnAnother() throws Exception {
        f = ProxyFixture.start("fail-read-retry-pg", 2, null, null);
        try (Connection c = DriverManager.getConnection(f.jdbcUrl(), ProxyFixture.USER, ProxyFixture.PASSWORD)) {
            ExecutorService ex = Executors.newSingleThreadExecutor();
            try {
                var result = ex.submit(() -> {
                    try (Statement st = c.createStatement();
                         ResultSet rs = st.executeQuery("SELECT inet_server_port() FROM pg_sleep(1.5) /* retried read */")) {
                        rs.next();
                        return f.node(rs.getInt(1));
                    }
                });
                String ranOn = null;
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (ranOn == null && System.nanoTime() < deadline) {
                    for (String r : f.replicaNames()) {
                        try (Connection a = f.cluster.connectAdmin(node(f, r)); Statement st = a.createStatement();
                             ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%/* retried read */'"
                                     + " AND pid <> pg_backend_pid()")) {
                            rs.next();
                            if (rs.getInt(1) > 0) {
                                ranOn = r;
                            }
                        }
                    }
                    Thread.sleep(10);
                }
                assertTrue(ranOn != null, "the read runs on a replica");
                f.cluster.kill(node(f, ranOn)); // before it answered
                String answeredBy = result.get(30, TimeUnit.SECONDS); // no exception: the client never sees the loss
                assertNotEquals(ranOn, answeredBy);
                assertTrue(f.replicaNames().contains(answeredBy), "still a replica's read: " + answeredBy);
            } finally {
                ex.shutdownNow();
            }
        }
    }

    @Test
    void aReadThatCannotGetAReplicaConnectionInTimeGoesToThePrimary() throws Exception {
        // two backend connections per node; two long reads hold both of the replica's
        f = ProxyFixture.start("fail-read-full-pg", 1, "    connect-timeout-ms: 1000\n", null,
                y -> y.replace("pool-max-size: 40", "pool-max-size: 2"));
        String replica = f.replicaNames().get(0);
        ExecutorService ex = Executors.newFixedThreadPool(2);
        try (Connection c = DriverManager.getConnection(f.jdbcUrl(), ProxyFixture.USER, ProxyFixture.PASSWORD);
             Statement st = c.createStatement()) {
            // psql, not pgjdbc: pgjdbc's connection set-up runs a SET, which would take one of the primary's two
            for (int i = 0; i < 2; i++) {
                ex.submit(() -> ProxyFixture.run(List.of("psql", "-X", "-At", f.conninfo(null), "-c", "SELECT pg_sleep(8) /* holder */"),
                        f.pgEnv(), null, java.time.Duration.ofSeconds(60)));
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (holdersRunning(f, replica) < 2 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(2, holdersRunning(f, replica), "both of the replica's connections are busy");
            for (int i = 0; i < 2; i++) { // each waits connect-timeout-ms for the replica, then runs on the primary
                try (ResultSet rs = st.executeQuery("SELECT inet_server_port()")) {
                    rs.next();
                    assertEquals(f.primaryName(), f.node(rs.getInt(1)));
                }
            }
            assertEquals("UP", f.server.runtime().router().topology().status(replica).state().name(),
                    "a full pool says nothing about the node");
        } finally {
            ex.shutdown(); // the holders end after their 8 s
        }
    }

    static int holdersRunning(ProxyFixture f, String node) throws SQLException {
        try (Connection a = f.cluster.connectAdmin(node(f, node)); Statement st = a.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%/* holder */'"
                     + " AND state = 'active' AND pid <> pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Test
    void transactionNodeKilledGives08006AndTheSessionGoesOn() throws Exception {
        f = ProxyFixture.start("fail-tx-pg", 2, null, null);
        try (Connection c = DriverManager.getConnection(f.jdbcUrl(), ProxyFixture.USER, ProxyFixture.PASSWORD)) {
            c.setReadOnly(true);
            c.setAutoCommit(false);
            String txNode;
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT inet_server_port()")) {
                rs.next();
                txNode = f.node(rs.getInt(1));
            }
            assertTrue(f.replicaNames().contains(txNode));
            f.cluster.kill(node(f, txNode));
            SQLException e = assertThrows(SQLException.class, () -> {
                try (Statement st = c.createStatement()) {
                    st.executeQuery("SELECT inet_server_port()");
                }
            });
            assertEquals("08006", e.getSQLState(), e.getMessage());
            c.rollback();
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT inet_server_port()")) {
                rs.next();
                assertNotEquals(txNode, f.node(rs.getInt(1)), "the next transaction runs elsewhere");
            }
            c.commit();
        }
    }

    @Test
    void primaryKilledFailsOverAndWritesResumeOnTheNewPrimary() throws Exception {
        f = ProxyFixture.start("fail-primary-pg", 2, null, null);
        String old = f.primaryName();
        try (Connection c = DriverManager.getConnection(f.jdbcUrl(), ProxyFixture.USER, ProxyFixture.PASSWORD);
             Statement st = c.createStatement()) {
            st.execute("CREATE TABLE fo (id serial PRIMARY KEY, port int)");
            st.execute("INSERT INTO fo(port) VALUES (inet_server_port())");
            f.cluster.waitForReplication(java.time.Duration.ofSeconds(10));
            long killed = System.nanoTime();
            f.cluster.kill(f.cluster.primary());
            String wroteOn = null;
            long deadline = killed + TimeUnit.SECONDS.toNanos(30);
            while (wroteOn == null && System.nanoTime() < deadline) {
                try (ResultSet rs = st.executeQuery("INSERT INTO fo(port) VALUES (inet_server_port()) RETURNING port")) {
                    rs.next();
                    wroteOn = f.node(rs.getInt(1));
                } catch (SQLException e) {
                    assertTrue(List.of("08006", "08001", "25006").contains(e.getSQLState()),
                            "while failing over: " + e.getSQLState() + " " + e.getMessage());
                    Thread.sleep(50); // retry pacing, as an application would
                }
            }
            assertTrue(wroteOn != null, "a write succeeded within 30 s of killing the primary");
            assertNotEquals(old, wroteOn);
            assertEquals(wroteOn, f.server.runtime().router().topology().primary());
            System.out.printf("proxy failover: kill -9 to first write %d ms%n", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed));
        }
    }

    static long okTotal(Map<String, AtomicLong> m) {
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
