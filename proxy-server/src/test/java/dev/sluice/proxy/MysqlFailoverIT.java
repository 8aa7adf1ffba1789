package dev.sluice.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.core.failover.FailoverResult;
import dev.sluice.testsupport.DbNode;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Failover and switchover of a MariaDB cluster while clients use the MySQL proxy (MariaDB Connector/J): a
 * planned switchover loses and fails nothing; a killed primary is replaced and writes resume on the new one;
 * a transaction whose node dies gets 2013 and the session goes on.
 */
class MysqlFailoverIT {
    MyProxyFixture f;

    @AfterEach
    void stop() {
        if (f != null) {
            f.close();
        }
    }

    Connection connect() throws SQLException {
        return DriverManager.getConnection("jdbc:mariadb://127.0.0.1:" + f.port() + "/" + f.database(), MyProxyFixture.USER,
                MyProxyFixture.PASSWORD);
    }

    @Test
    void switchoverUnderLoadLosesNothingAndFailsNothing() throws Exception {
        f = MyProxyFixture.start("my-switch", 2);
        DbNode oldPrimary = f.cluster.primary();
        DbNode target = f.cluster.replicas().get(1);
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE sw (id BIGINT PRIMARY KEY, port INT)");
        }
        f.cluster.waitForReplication(Duration.ofSeconds(10));
        Set<Long> acked = ConcurrentHashMap.newKeySet();
        List<String> errors = new CopyOnWriteArrayList<>();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong ids = new AtomicLong();
        AtomicLong reads = new AtomicLong();
        List<Thread> clients = new ArrayList<>();
        for (int w = 0; w < 4; w++) {
            boolean writer = w < 3;
            Thread t = new Thread(() -> {
                try (Connection c = connect()) {
                    PreparedStatement ins = c.prepareStatement("INSERT INTO sw(id, port) VALUES (?, @@port)");
                    PreparedStatement sel = c.prepareStatement("SELECT count(*) FROM sw");
                    while (!stop.get()) {
                        try {
                            if (writer) {
                                long id = ids.incrementAndGet();
                                ins.setLong(1, id);
                                ins.executeUpdate();
                                acked.add(id);
                            } else {
                                try (ResultSet rs = sel.executeQuery()) {
                                    rs.next();
                                    reads.incrementAndGet();
                                }
                            }
                        } catch (SQLException e) {
                            errors.add(e.getSQLState() + " " + e.getErrorCode() + " " + e.getMessage());
                        }
                    }
                } catch (SQLException e) {
                    errors.add("connect: " + e.getMessage());
                }
            });
            t.start();
            clients.add(t);
        }
        FailoverResult r;
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (acked.size() < 50 && System.nanoTime() < deadline) {
                Thread.onSpinWait();
                java.util.concurrent.locks.LockSupport.parkNanos(20_000_000L);
            }
            r = f.server.runtime().switchover(target.name(), false);
            r.steps().forEach(s -> System.out.println("[mysql switchover via proxy]   " + s));
            long after = acked.size();
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (acked.size() < after + 50 && System.nanoTime() < deadline) {
                java.util.concurrent.locks.LockSupport.parkNanos(20_000_000L);
            }
        } finally {
            stop.set(true);
            for (Thread t : clients) {
                t.join(15_000);
            }
        }
        assertTrue(r.promoted(), r.message() + " " + r.steps());
        assertEquals(List.of(), errors, "client-visible errors during the switchover");
        assertTrue(reads.get() > 0);
        try (Connection c = f.cluster.connectAdmin(target); Statement st = c.createStatement()) {
            Set<Long> present = new HashSet<>();
            try (ResultSet rs = st.executeQuery("SELECT id FROM " + f.database() + ".sw")) {
                while (rs.next()) {
                    present.add(rs.getLong(1));
                }
            }
            List<Long> lost = acked.stream().filter(id -> !present.contains(id)).toList();
            System.out.printf("[mysql switchover via proxy] %d acknowledged writes, %d lost%n", acked.size(), lost.size());
            assertEquals(List.of(), lost, "no acknowledged write lost");
            try (ResultSet rs = st.executeQuery("SELECT count(*) FROM " + f.database() + ".sw WHERE port = " + target.port())) {
                rs.next();
                assertTrue(rs.getLong(1) >= 50, "writes continued on the new primary");
            }
            try (ResultSet rs = st.executeQuery("SELECT count(*) FROM " + f.database() + ".sw WHERE port = " + oldPrimary.port())) {
                rs.next();
                assertTrue(rs.getLong(1) > 0, "writes ran on the old primary before");
            }
        }
        assertEquals(target.name(), f.server.runtime().router().topology().primary());
    }

    @Test
    void primaryKilledFailsOverAndWritesResumeOnTheNewPrimary() throws Exception {
        f = MyProxyFixture.start("my-failover", 2);
        String old = f.primaryName();
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE fo (id INT AUTO_INCREMENT PRIMARY KEY, port INT)");
            st.execute("INSERT INTO fo(port) VALUES (@@port)");
            f.cluster.waitForReplication(Duration.ofSeconds(10));
            long killed = System.nanoTime();
            f.cluster.kill(f.cluster.primary());
            String wroteOn = null;
            long deadline = killed + TimeUnit.SECONDS.toNanos(30);
            while (wroteOn == null && System.nanoTime() < deadline) {
                try (ResultSet rs = st.executeQuery("INSERT INTO fo(port) VALUES (@@port) RETURNING port")) {
                    rs.next();
                    wroteOn = f.node(rs.getInt(1));
                } catch (SQLException e) {
                    assertTrue(e.getSQLState() != null && (e.getSQLState().startsWith("08") || e.getSQLState().equals("HY000")),
                            "while failing over: " + e.getSQLState() + " " + e.getErrorCode() + " " + e.getMessage());
                    java.util.concurrent.locks.LockSupport.parkNanos(50_000_000L); // retry pacing, as an application would
                }
            }
            assertTrue(wroteOn != null, "a write succeeded within 30 s of killing the primary");
            assertNotEquals(old, wroteOn);
            assertEquals(wroteOn, f.server.runtime().router().topology().primary());
            System.out.printf("mysql proxy failover: kill -9 to first write %d ms%n", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed));
        }
    }

    @Test
    void transactionNodeKilledGives2013AndTheSessionGoesOn() throws Exception {
        f = MyProxyFixture.start("my-txkill", 2);
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE txk (id INT PRIMARY KEY)");
            st.execute("INSERT INTO txk VALUES (1)");
        }
        f.cluster.waitForReplication(Duration.ofSeconds(10));
        try (Connection c = connect(); Statement st = c.createStatement()) {
            c.setReadOnly(true); // a read-only transaction: it runs on a replica, which then dies
            c.setAutoCommit(false);
            String txNode;
            // a table read: InnoDB opens the transaction (a SELECT of variables alone would not, and the session could move)
            try (ResultSet rs = st.executeQuery("SELECT @@port, id FROM txk")) {
                rs.next();
                txNode = f.node(rs.getInt(1));
            }
            assertTrue(f.replicaNames().contains(txNode), txNode);
            f.cluster.kill(f.cluster.nodes().stream().filter(n -> n.name().equals(txNode)).findFirst().orElseThrow());
            SQLException e = assertThrows(SQLException.class, () -> st.executeQuery("SELECT @@port, id FROM txk").close());
            assertTrue(e.getErrorCode() == 2013 || e.getSQLState().startsWith("08"), e.getErrorCode() + " " + e.getMessage());
            c.rollback();
            c.setAutoCommit(true);
            c.setReadOnly(false);
        } catch (SQLException lostConnection) {
            // a driver may close its connection on 08S01: the proxy session is gone then, which is the driver's choice
            assertTrue(lostConnection.getSQLState() != null && lostConnection.getSQLState().startsWith("08"), lostConnection.toString());
        }
        try (Connection c = connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT @@port")) {
            rs.next();
            assertTrue(f.replicaNames().contains(f.node(rs.getInt(1))), "reads go to the surviving replica");
        }
    }
}
