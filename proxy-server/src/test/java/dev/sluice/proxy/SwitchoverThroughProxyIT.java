package dev.sluice.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.core.failover.FailoverResult;
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
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A planned switchover while clients write through the proxy: held writes wait off the network threads and
 * are released to the new primary, so autocommit writes see zero errors and none is lost.
 */
class SwitchoverThroughProxyIT {
    static ProxyFixture f;

    @BeforeAll
    static void start() throws Exception {
        f = ProxyFixture.start("switch-proxy-pg", 2, null, null);
    }

    @AfterAll
    static void stop() {
        if (f != null) {
            f.close();
        }
    }

    static Connection connect() throws SQLException {
        return DriverManager.getConnection(f.jdbcUrl(), ProxyFixture.USER, ProxyFixture.PASSWORD);
    }

    @Test
    void switchoverUnderLoadLosesNothingAndFailsNothing() throws Exception {
        DbNode oldPrimary = f.cluster.primary();
        DbNode target = f.cluster.replicas().get(1);
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE sw (id bigint PRIMARY KEY, port int)");
        }
        f.cluster.waitForReplication(java.time.Duration.ofSeconds(10)); // the reader starts on a replica
        Set<Long> acked = ConcurrentHashMap.newKeySet();
        List<String> errors = new CopyOnWriteArrayList<>();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong ids = new AtomicLong();
        AtomicLong readsOk = new AtomicLong();
        List<Thread> clients = new ArrayList<>();
        for (int w = 0; w < 4; w++) {
            boolean writer = w < 3;
            Thread t = new Thread(() -> {
                try (Connection c = connect()) {
                    PreparedStatement ins = c.prepareStatement("INSERT INTO sw(id, port) VALUES (?, inet_server_port())");
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
                                    readsOk.incrementAndGet();
                                }
                            }
                        } catch (SQLException e) {
                            errors.add(e.getSQLState() + " " + e.getMessage());
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
            Thread.sleep(500); // load running before the switchover (scenario duration)
            r = f.server.runtime().switchover(target.name(), false);
            r.steps().forEach(s -> System.out.println("[switchover via proxy]   " + s));
            long after = acked.size();
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (acked.size() < after + 50 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
        } finally {
            stop.set(true);
            for (Thread t : clients) {
                t.join(15_000);
            }
        }
        assertTrue(r.promoted(), r.message() + " " + r.steps());
        assertEquals(List.of(), errors, "client-visible errors during the switchover");
        assertTrue(readsOk.get() > 0);
        try (Connection c = f.cluster.connectAdmin(target); Statement st = c.createStatement()) {
            Set<Long> present = new HashSet<>();
            try (ResultSet rs = st.executeQuery("SELECT id FROM sw")) {
                while (rs.next()) {
                    present.add(rs.getLong(1));
                }
            }
            List<Long> lost = acked.stream().filter(id -> !present.contains(id)).toList();
            System.out.printf("[switchover via proxy] %d acknowledged writes, %d lost%n", acked.size(), lost.size());
            assertEquals(List.of(), lost, "no acknowledged write lost");
            try (ResultSet rs = st.executeQuery("SELECT count(*) FROM sw WHERE port = " + oldPrimary.port() + " AND id > "
                    + "(SELECT max(id) FROM sw WHERE port = " + oldPrimary.port() + ")")) {
                rs.next();
                assertEquals(0, rs.getLong(1));
            }
            try (ResultSet rs = st.executeQuery("SELECT count(*) FROM sw WHERE port = " + target.port())) {
                rs.next();
                assertTrue(rs.getLong(1) >= 50, "writes continued on the new primary");
            }
        }
        assertEquals(target.name(), f.server.runtime().router().topology().primary());
    }
}
