package dev.sluice.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.sluice.core.health.ClusterStatus;
import dev.sluice.core.health.EventLog;
import dev.sluice.core.health.LagHistory;
import dev.sluice.core.health.NodeState;
import dev.sluice.core.route.NodeStatus;
import dev.sluice.testsupport.DbCluster;
import dev.sluice.testsupport.DbNode;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Health monitoring against real clusters: lag injection (paused replay, apply delay), kill -9 under load,
 * promotion outside Sluice, read-your-writes, staleness budgets, a killed heartbeat writer. Which node
 * answered is always asked of the server ({@link #whereSql()}). Each test restores the cluster (replay
 * resumed, no apply delay, every node running, replicas caught up) and closes its Sluice runtime, so the
 * next test starts from a fresh monitor. The promotion test changes the cluster for good and runs last.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
abstract class AbstractHealthIT {
    static DbCluster cluster;

    /** Defaults of the options the tests reason about (SluiceOption). */
    static final long MAX_LAG_MS = 1000;
    static final long READMIT_LAG_MS = 500;
    static final long LAG_HOLD_MS = 1000;
    static final long PROBE_INTERVAL_MS = 200;
    static final long HEARTBEAT_INTERVAL_MS = 100;

    /** SQL expression returning the answering server's port. */
    abstract String whereSql();

    abstract String scheme();

    /** The writer's heartbeat backend on the primary, found by the admin connection; null when not seen yet. */
    abstract Long findHeartbeatWriter(Connection admin, long baseline) throws SQLException;

    /** Largest backend id now (MariaDB connection ids grow; PostgreSQL returns 0, it finds the writer by query). */
    abstract long backendBaseline(Connection admin) throws SQLException;

    abstract void terminateBackend(Connection admin, long id) throws SQLException;

    /** "serial" vs "auto_increment" column for a log table with an int {@code port}. */
    abstract String createPortLog(String name);

    static void log(String fmt, Object... args) {
        System.out.printf("[health-it] " + fmt + "%n", args);
    }

    // ---------------------------------------------------------------- helpers

    static String nodeName(DbNode n) {
        return n.host() + ":" + n.port();
    }

    DbNode replica1() {
        return cluster.replicas().get(0);
    }

    DbNode replica2() {
        return cluster.replicas().get(1);
    }

    /** Replica first: the primary is discovered by probing. */
    String url(String extra) {
        return urlAs(cluster.user(), cluster.password(), extra);
    }

    String urlAs(String user, String password, String extra) {
        List<DbNode> order = new ArrayList<>(cluster.replicas());
        order.add(1, cluster.primary());
        String hosts = order.stream().map(AbstractHealthIT::nodeName).collect(Collectors.joining(","));
        return "jdbc:sluice:" + scheme() + "://" + hosts + "/" + cluster.database() + "?user=" + user
                + (password == null ? "" : "&password=" + password) + extra;
    }

    static ClusterRuntime runtime(Connection c) throws SQLException {
        return c.unwrap(SluiceConnection.class).runtime();
    }

    static int lastInt(Statement st, String sql) throws SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            assertTrue(rs.next(), "no row from " + sql);
            return rs.getInt(rs.getMetaData().getColumnCount());
        }
    }

    static NodeStatus topo(ClusterRuntime rt, DbNode n) {
        return rt.router.topology().status(nodeName(n));
    }

    /** Polls the router's topology until {@code n} is in {@code state}; returns the epoch millis it entered it. */
    static long awaitState(ClusterRuntime rt, DbNode n, NodeState state, long timeoutMs, Runnable between) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
        while (true) {
            NodeStatus s = topo(rt, n);
            if (s != null && s.state() == state) {
                return s.sinceMillis();
            }
            if (System.nanoTime() > deadline) {
                fail(nodeName(n) + " not " + state + " within " + timeoutMs + " ms: " + rt.router.topology());
            }
            if (between != null) {
                between.run();
            } else {
                Thread.sleep(10);
            }
        }
    }

    static void awaitAllReplicasUp(ClusterRuntime rt, long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
        while (!(rt.router.topology().replicas().size() == 2 && rt.router.topology().primary() != null)) {
            if (System.nanoTime() > deadline) {
                fail("replicas not all UP within " + timeoutMs + " ms: " + rt.router.topology());
            }
            Thread.sleep(10);
        }
    }

    static List<EventLog.Event> events(ClusterRuntime rt, DbNode n, String type, long sinceMillis) {
        return rt.monitor.status().events().stream()
                .filter(e -> e.node().equals(nodeName(n)) && e.type().equals(type) && e.timeMillis() >= sinceMillis)
                .toList();
    }

    /** Puts every node back: running, replay resumed, no apply delay, caught up; closes all Sluice runtimes. */
    @AfterEach
    void restore() throws Exception {
        SluiceDriver.closeAll();
        for (DbNode r : cluster.replicas()) {
            if (!r.isRunning()) {
                cluster.start(r);
            }
            cluster.resumeReplay(r);
            cluster.setApplyDelay(r, Duration.ZERO);
        }
        cluster.waitForReplication(Duration.ofSeconds(30));
    }

    @AfterAll
    static void shutdown() throws Exception {
        SluiceDriver.closeAll();
        if (cluster != null) {
            cluster.close();
        }
    }

    // ---------------------------------------------------------------- 1. lag injection

    @Test
    @Order(1)
    void pausedReplayDropsTheReplicaAndReadmitsItAfterCatchUpAndHold() throws Exception {
        DbNode r = replica1();
        lagDropAndReadmit(r, "pauseReplay", cluster::pauseReplay, cluster::resumeReplay);
    }

    @Test
    @Order(2)
    void applyDelayDropsTheReplicaAndReadmitsIt() throws Exception {
        DbNode r = replica2();
        lagDropAndReadmit(r, "applyDelay 2s", n -> cluster.setApplyDelay(n, Duration.ofSeconds(2)),
                n -> cluster.setApplyDelay(n, Duration.ZERO));
    }

    private void lagDropAndReadmit(DbNode r, String what, Consumer<DbNode> inject, Consumer<DbNode> heal) throws Exception {
        int rPort = r.port();
        try (Connection c = DriverManager.getConnection(url("")); Statement st = c.createStatement()) {
            ClusterRuntime rt = runtime(c);
            awaitAllReplicasUp(rt, 5000);
            // a fresh monitor's first second holds the "unknown" of its first probe: wait for a healthy second
            long pre = System.currentTimeMillis() + 3000;
            while (rt.monitor.status().node(nodeName(r)).lagHistory().stream()
                    .noneMatch(x -> x.lagMillis() != null && x.lagMillis() <= MAX_LAG_MS)) {
                assertTrue(System.currentTimeMillis() < pre, "no healthy lag second recorded");
                Thread.sleep(20);
            }
            long t0 = System.currentTimeMillis();
            inject.accept(r);
            long injected = System.currentTimeMillis();

            // reads keep flowing while the lag builds; none may land on the node while it is LAGGING
            int[] readsWhileLagging = {0};
            long droppedAt = awaitState(rt, r, NodeState.LAGGING, MAX_LAG_MS + 1000 + (injected - t0),
                    () -> guardedRead(rt, st, r, readsWhileLagging));
            long detectMs = droppedAt - t0;
            log("%s %s: LAGGING after %d ms (inject call took %d ms)", what, nodeName(r), detectMs, injected - t0);
            assertTrue(detectMs <= MAX_LAG_MS + 1000, "detection took " + detectMs + " ms");

            // hold it lagging a little while reading: the node never answers
            long until = System.currentTimeMillis() + 400;
            while (System.currentTimeMillis() < until) {
                guardedRead(rt, st, r, readsWhileLagging);
            }
            ClusterStatus s = rt.monitor.status();
            ClusterStatus.NodeView v = s.node(nodeName(r));
            assertEquals("LAGGING", v.state(), v.toString());
            assertTrue(v.reason().contains("lag"), v.reason());
            assertNotNull(v.lagMillis(), "lag is known while replay is held back");
            assertTrue(v.lagMillis() > READMIT_LAG_MS, v.toString());
            assertTrue(v.lagHistory().stream().anyMatch(x -> x.lagMillis() != null && x.lagMillis() > MAX_LAG_MS),
                    "lag history shows the excursion: " + v.lagHistory());
            assertTrue(v.lagHistory().stream().anyMatch(x -> x.lagMillis() != null && x.lagMillis() <= MAX_LAG_MS),
                    "lag history shows the healthy seconds before: " + v.lagHistory());
            List<EventLog.Event> dropped = events(rt, r, "dropped-for-lag", t0);
            assertEquals(1, dropped.size(), s.events().toString());
            assertTrue(dropped.get(0).message().contains("max-lag"), dropped.get(0).message());

            long healAt = System.currentTimeMillis();
            heal.accept(r);
            long upAt = awaitState(rt, r, NodeState.UP, 15_000, () -> guardedRead(rt, st, r, readsWhileLagging));
            long outMs = upAt - droppedAt;
            log("%s %s: readmitted %d ms after heal, out of the read set %d ms; %d reads while LAGGING, none on it",
                    what, nodeName(r), upAt - healAt, outMs, readsWhileLagging[0]);
            assertTrue(readsWhileLagging[0] > 10, "reads ran while it was LAGGING: " + readsWhileLagging[0]);
            // hold is measured on the monotonic clock; sinceMillis is wall time taken at the same instant (±1 ms)
            assertTrue(outMs >= LAG_HOLD_MS - 1, "out only " + outMs + " ms < lag-hold " + LAG_HOLD_MS);
            List<EventLog.Event> readmitted = events(rt, r, "readmitted", t0);
            assertEquals(1, readmitted.size(), rt.monitor.status().events().toString());
            String msg = readmitted.get(0).message();
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("lag (\\d+) ms").matcher(msg);
            assertTrue(m.find(), msg);
            assertTrue(Long.parseLong(m.group(1)) <= READMIT_LAG_MS, "readmitted only after catching up: " + msg);
            ClusterStatus.NodeView after = rt.monitor.status().node(nodeName(r));
            assertEquals("UP", after.state());
            assertNotNull(after.lagMillis());
            assertTrue(after.lagMillis() <= MAX_LAG_MS, after.toString());

            boolean servedAgain = false;
            for (int i = 0; i < 20 && !servedAgain; i++) {
                servedAgain = lastInt(st, "SELECT " + whereSql()) == rPort;
            }
            assertTrue(servedAgain, "reads reach " + nodeName(r) + " again");
        }
    }

    /** One autocommit read; if the node was LAGGING before and after it (same episode), it must not have answered. */
    private void guardedRead(ClusterRuntime rt, Statement st, DbNode r, int[] counter) {
        try {
            NodeStatus before = topo(rt, r);
            int p = lastInt(st, "SELECT " + whereSql());
            NodeStatus after = topo(rt, r);
            if (before.state() == NodeState.LAGGING && after.state() == NodeState.LAGGING
                    && before.sinceMillis() == after.sinceMillis()) {
                counter[0]++;
                assertNotEquals(r.port(), p, "read answered by LAGGING " + nodeName(r) + " (" + before.reason() + ")");
            }
        } catch (SQLException e) {
            throw new AssertionError("read failed", e);
        }
    }

    // ---------------------------------------------------------------- 2. kill -9 under load

    @Test
    @Order(3)
    void killNineOfAReplicaUnderConcurrentReadsFailsNoRead() throws Exception {
        DbNode r = replica1();
        String url = url("");
        List<Connection> conns = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                conns.add(DriverManager.getConnection(url));
            }
            ClusterRuntime rt = runtime(conns.get(0));
            awaitAllReplicasUp(rt, 5000);
            AtomicInteger ok = new AtomicInteger();
            AtomicInteger failed = new AtomicInteger();
            AtomicReference<Throwable> firstFailure = new AtomicReference<>();
            Set<Integer> before = ConcurrentHashMap.newKeySet();
            AtomicInteger onKilledAfterDown = new AtomicInteger();
            long[] killedAt = {Long.MAX_VALUE};
            long end = System.currentTimeMillis() + 3000;
            CountDownLatch done = new CountDownLatch(conns.size());
            for (Connection c : conns) {
                Thread t = new Thread(() -> {
                    try (Statement st = c.createStatement()) {
                        while (System.currentTimeMillis() < end) {
                            try {
                                boolean downBefore = topo(rt, r).state() == NodeState.DOWN;
                                int p = lastInt(st, "SELECT " + whereSql());
                                ok.incrementAndGet();
                                if (System.currentTimeMillis() < killedAt[0]) {
                                    before.add(p);
                                } else if (downBefore && p == r.port()) {
                                    onKilledAfterDown.incrementAndGet();
                                }
                            } catch (SQLException | RuntimeException e) {
                                failed.incrementAndGet();
                                firstFailure.compareAndSet(null, new AssertionError("read failed at +"
                                        + (System.currentTimeMillis() - killedAt[0]) + " ms after the kill; topology now "
                                        + rt.router.topology() + "; breaker " + rt.router.circuitState(nodeName(r)), e));
                            }
                        }
                    } catch (SQLException e) {
                        firstFailure.compareAndSet(null, e);
                        failed.incrementAndGet();
                    } finally {
                        done.countDown();
                    }
                }, "health-it-reader");
                t.start();
            }
            Thread.sleep(1000);
            killedAt[0] = System.currentTimeMillis();
            cluster.kill(r);
            // trace of the breaker and the node's routing state right after the kill (for the report)
            StringBuilder trace = new StringBuilder();
            String lastSeen = "";
            long traceEnd = System.currentTimeMillis() + 150;
            while (System.currentTimeMillis() < traceEnd) {
                String now = rt.router.circuitState(nodeName(r)) + "/" + topo(rt, r).state();
                if (!now.equals(lastSeen)) {
                    trace.append(" +").append(System.currentTimeMillis() - killedAt[0]).append("ms ").append(now);
                    lastSeen = now;
                }
                Thread.onSpinWait();
            }
            log("kill -9 %s: breaker/state trace:%s", nodeName(r), trace);
            long downAt = awaitState(rt, r, NodeState.DOWN, 3000, null);
            log("kill -9 %s: DOWN %d ms after the kill", nodeName(r), downAt - killedAt[0]);
            assertTrue(done.await(20, java.util.concurrent.TimeUnit.SECONDS), "readers finished");
            log("kill -9 %s under 3 readers: %d reads ok, %d failed%s", nodeName(r), ok.get(), failed.get(),
                    firstFailure.get() == null ? "" : " (first: " + firstFailure.get() + ")");
            assertTrue(ok.get() > 100, "the loop read: " + ok.get());
            assertTrue(before.contains(r.port()), "before the kill the replica served reads: " + before);
            assertEquals(0, onKilledAfterDown.get());
            assertTrue(!events(rt, r, "node-down", killedAt[0]).isEmpty() || !events(rt, r, "circuit-open", killedAt[0]).isEmpty(),
                    rt.monitor.status().events().toString());

            long startCall = System.currentTimeMillis();
            cluster.start(r);
            long started = System.currentTimeMillis();
            long lagAt = awaitState(rt, r, NodeState.LAGGING, 5000, null); // back, but held out first
            long upAt = awaitState(rt, r, NodeState.UP, 10_000, null);
            log("restart %s: start() took %d ms; UP %d ms after start() returned, held out %d ms", nodeName(r),
                    started - startCall, upAt - started, upAt - lagAt);
            assertTrue(upAt - lagAt >= LAG_HOLD_MS - 1, "held out " + (upAt - lagAt) + " ms");
            // the same application connections that were reading at the kill (an application pool keeps them)
            int onRestarted = 0;
            for (Connection c : conns) {
                try (Statement st = c.createStatement()) {
                    for (int i = 0; i < 10; i++) {
                        if (lastInt(st, "SELECT " + whereSql()) == r.port()) {
                            onRestarted++;
                        }
                    }
                }
            }
            List<EventLog.Event> reopened = events(rt, r, "circuit-open", upAt);
            log("restart %s: %d of 30 reads on it after readmission; breaker re-opened after readmission: %s", nodeName(r),
                    onRestarted, reopened);
            assertTrue(reopened.isEmpty(), "after readmission a backend connection held since before the kill was reused, "
                    + "failed and took the restarted node out again: " + reopened);
            assertTrue(onRestarted > 0, "the restarted replica serves reads again");
            if (firstFailure.get() != null) {
                throw new AssertionError(failed.get() + " of " + (ok.get() + failed.get()) + " reads failed", firstFailure.get());
            }
            assertEquals(0, failed.get());
        } finally {
            for (Connection c : conns) {
                c.close();
            }
        }
    }

    // ---------------------------------------------------------------- 4. read-your-writes

    @Test
    @Order(4)
    void readYourWritesSeesEveryRowWithAHeartbeatOrPositionProof() throws Exception {
        try (Connection c = DriverManager.getConnection(url("")); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS ryw_hb (id int PRIMARY KEY, v int)");
            st.execute("CREATE TABLE IF NOT EXISTS ryw_pos (id int PRIMARY KEY, v int)");
            st.execute("DELETE FROM ryw_hb");
            st.execute("DELETE FROM ryw_pos");
        }
        cluster.waitForReplication(Duration.ofSeconds(10));
        cluster.setApplyDelay(replica1(), Duration.ofSeconds(1));
        rywRun("heartbeat", "ryw_hb", 1000);
        rywRun("position", "ryw_pos", 200);
    }

    private void rywRun(String mode, String table, int n) throws Exception {
        int primary = cluster.primary().port();
        try (Connection c = DriverManager.getConnection(url("&read-your-writes=" + mode)); Statement st = c.createStatement()) {
            ClusterRuntime rt = runtime(c);
            int onReplica = 0;
            int onPrimary = 0;
            int onDelayed = 0;
            List<String> missed = new ArrayList<>();
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                assertEquals(1, st.executeUpdate("INSERT INTO " + table + " VALUES (" + i + ", " + i + ")"));
                try (ResultSet rs = st.executeQuery("SELECT v, " + whereSql() + " FROM " + table + " WHERE id = " + i)) {
                    if (!rs.next()) {
                        missed.add(i + " via " + st.unwrap(SluiceRouted.class).lastRoute().node() + " "
                                + st.unwrap(SluiceRouted.class).lastRoute().reason() + " " + diagnose(rt));
                        continue;
                    }
                    assertEquals(i, rs.getInt(1));
                    int p = rs.getInt(2);
                    if (p == primary) {
                        onPrimary++;
                    } else {
                        onReplica++;
                        if (p == replica1().port()) {
                            onDelayed++;
                        }
                    }
                }
            }
            long ms = (System.nanoTime() - t0) / 1_000_000;
            // a few writes followed by a pause long enough for a beat / probe to prove them: replicas may serve
            int laterReplica = 0;
            for (int i = n; i < n + 5; i++) {
                st.executeUpdate("INSERT INTO " + table + " VALUES (" + i + ", " + i + ")");
                Thread.sleep(PROBE_INTERVAL_MS + 2 * HEARTBEAT_INTERVAL_MS + 50);
                try (ResultSet rs = st.executeQuery("SELECT v, " + whereSql() + " FROM " + table + " WHERE id = " + i)) {
                    assertTrue(rs.next(), mode + ": row " + i + " not seen after a pause");
                    if (rs.getInt(2) != primary) {
                        laterReplica++;
                    }
                }
            }
            log("read-your-writes=%s: %d write+read pairs in %d ms, %d rows NOT seen; reads on replicas %d (on the 1s-delayed one %d), "
                    + "on the primary %d; after a %d ms pause %d/5 on replicas; fallbacks %s", mode, n, ms, missed.size(), onReplica, onDelayed,
                    onPrimary, PROBE_INTERVAL_MS + 2 * HEARTBEAT_INTERVAL_MS + 50, laterReplica, rt.router.fallbacks());
            assertTrue(missed.isEmpty(), mode + ": " + missed.size() + " of " + n + " rows not seen right after their write, e.g. "
                    + missed.subList(0, Math.min(3, missed.size())));
        }
    }

    /**
     * An apply delay that keeps the replica's real lag above 700 ms at all times. PostgreSQL's delay is exact; a
     * MariaDB MASTER_DELAY of n s delays by n-1..n s (event timestamps have whole seconds), so 1 s there would let
     * the lag dip to ~0 and the replica would rightly serve budgeted reads now and then.
     */
    Duration budgetTestDelay() {
        return Duration.ofSeconds(1);
    }

    /** Engine-specific context for a read-your-writes miss (positions as the primary sees them now). */
    String diagnose(ClusterRuntime rt) {
        return rt.router.topology().nodes().stream().map(n -> n.name() + "@" + n.position()).collect(Collectors.joining(","));
    }

    // ---------------------------------------------------------------- 5. staleness budget

    @Test
    @Order(5)
    void stalenessBudgetIsHonouredByHintAndClientInfo() throws Exception {
        DbNode delayed = replica1();
        cluster.setApplyDelay(delayed, budgetTestDelay());
        String extra = "&max-lag-ms=5000&readmit-lag-ms=4000";
        try (Connection c = DriverManager.getConnection(url(extra)); Statement st = c.createStatement();
             Connection admin = cluster.connectAdmin(cluster.primary()); Statement ast = admin.createStatement()) {
            ClusterRuntime rt = runtime(c);
            long deadline = System.currentTimeMillis() + 8000;
            while (true) {
                NodeStatus s = topo(rt, delayed);
                if (s.state() == NodeState.UP && s.lagMillis() != null && s.lagMillis() >= 700) {
                    break;
                }
                assertTrue(System.currentTimeMillis() < deadline, "delayed replica not UP with lag >= 700 ms: " + s);
                Thread.sleep(20);
            }
            // without a budget the delayed replica does serve reads: the budget is what keeps it out below
            boolean delayedServes = false;
            for (int i = 0; i < 10 && !delayedServes; i++) {
                delayedServes = lastInt(st, "SELECT " + whereSql()) == delayed.port();
            }
            assertTrue(delayedServes, "without a budget the delayed replica is in the read set");

            long budget = 300;
            long bound = budget + HEARTBEAT_INTERVAL_MS + PROBE_INTERVAL_MS;
            String beatSql = "SELECT beat, " + whereSql() + " FROM sluice_heartbeat WHERE id = 1";
            budgetLoop("hint", st, ast, "/* sluice:max-lag=300ms */ " + beatSql, delayed, bound);
            c.setClientInfo("SluiceMaxLag", "300ms");
            budgetLoop("client info", st, ast, beatSql, delayed, bound);
            assertTrue(topo(rt, delayed).state() == NodeState.UP, "the delayed replica stayed in the read set: " + topo(rt, delayed));
        }
    }

    private void budgetLoop(String how, Statement st, Statement admin, String sql, DbNode delayed, long bound) throws Exception {
        long end = System.currentTimeMillis() + 1500;
        long worst = 0;
        int reads = 0;
        int primaryReads = 0;
        int primary = cluster.primary().port();
        while (System.currentTimeMillis() < end) {
            long beat;
            int port;
            try (ResultSet rs = st.executeQuery(sql)) {
                assertTrue(rs.next());
                beat = rs.getLong(1);
                port = rs.getInt(2);
            }
            long primaryBeat;
            try (ResultSet rs = admin.executeQuery("SELECT beat FROM sluice_heartbeat WHERE id = 1")) {
                assertTrue(rs.next());
                primaryBeat = rs.getLong(1);
            }
            long stale = (primaryBeat - beat) / 1000;
            worst = Math.max(worst, stale);
            reads++;
            if (port == primary) {
                primaryReads++;
            }
            assertTrue(stale <= bound, how + ": read " + stale + " ms stale from " + port + " > " + bound + " ms");
            assertNotEquals(delayed.port(), port, how + ": the delayed replica answered a 300 ms-budget read (" + stale + " ms stale)");
        }
        log("staleness budget 300 ms (%s): %d reads, worst staleness %d ms (bound %d), %d on the primary, none on the delayed replica",
                how, reads, worst, bound, primaryReads);
        assertTrue(reads > 20, "reads: " + reads);
    }

    // ---------------------------------------------------------------- 6. heartbeat writer killed

    @Test
    @Order(6)
    void killedHeartbeatWriterNeverShowsLagZeroAndRecovers() throws Exception {
        try (Connection admin = cluster.connectAdmin(cluster.primary()); Statement ast = admin.createStatement()) {
            long baseline = backendBaseline(admin);
            try (Connection c = DriverManager.getConnection(url(""))) {
                ClusterRuntime rt = runtime(c);
                awaitAllReplicasUp(rt, 5000);
                Long writer = null;
                long deadline = System.currentTimeMillis() + 3000;
                while (writer == null && System.currentTimeMillis() < deadline) {
                    writer = findHeartbeatWriter(admin, baseline);
                    if (writer == null) {
                        Thread.sleep(5);
                    }
                }
                assertNotNull(writer, "heartbeat writer backend not found on the primary");
                long killAt = System.currentTimeMillis();
                terminateBackend(admin, writer);
                boolean sawUnknown = false;
                int snapshots = 0;
                long recoveredAt = -1;
                long end = killAt + 2000;
                while (System.currentTimeMillis() < end) {
                    ClusterStatus s = rt.monitor.status();
                    snapshots++;
                    for (DbNode r : cluster.replicas()) {
                        ClusterStatus.NodeView v = s.node(nodeName(r));
                        if (s.heartbeat() != null) {
                            sawUnknown = true;
                            assertNotEquals(Long.valueOf(0), v.lagMillis(), "lag 0 while heartbeat is unknown: " + s.heartbeat());
                        }
                        if (v.lagMillis() == null) {
                            sawUnknown = true;
                        }
                    }
                    assertEquals("UP", s.node(nodeName(cluster.primary())).state(), "the primary's probe was not what we killed");
                    Long again = findHeartbeatWriter(admin, writer);
                    if (recoveredAt < 0 && again != null && !again.equals(writer) && s.heartbeat() == null
                            && rt.router.topology().replicas().size() == 2) {
                        recoveredAt = System.currentTimeMillis();
                    }
                    Thread.sleep(5);
                }
                assertTrue(recoveredAt > 0, "writer did not reconnect with heartbeats flowing within 2 s: " + rt.monitor.status());
                ClusterStatus s = rt.monitor.status();
                assertNull(s.heartbeat(), s.heartbeat());
                for (DbNode r : cluster.replicas()) {
                    assertEquals("UP", s.node(nodeName(r)).state(), s.node(nodeName(r)).toString());
                    assertNotNull(s.node(nodeName(r)).lagMillis());
                }
                log("heartbeat writer backend %d killed: new writer and heartbeats flowing after %d ms; lag unknown seen: %s "
                        + "(%d snapshots)", writer, recoveredAt - killAt, sawUnknown, snapshots);
            }
        }
    }

    // ---------------------------------------------------------------- 3. promotion outside Sluice (last)

    @Test
    @Order(100)
    void promotionOutsideSluiceIsFollowedWithinAProbeInterval() throws Exception {
        try (Connection c = DriverManager.getConnection(url("")); Statement st = c.createStatement()) {
            ClusterRuntime rt = runtime(c);
            st.execute(createPortLog("promo"));
            cluster.waitForReplication(Duration.ofSeconds(10));
            awaitAllReplicasUp(rt, 5000);
            DbNode oldPrimary = cluster.primary();
            DbNode next = replica1();
            long t0 = System.currentTimeMillis();
            cluster.kill(oldPrimary);
            long killed = System.currentTimeMillis();
            cluster.promote(next);
            long promoted = System.currentTimeMillis();
            int attempts = 0;
            SQLException last = null;
            long wroteAt = -1;
            while (System.currentTimeMillis() < promoted + 3000) {
                attempts++;
                try {
                    st.executeUpdate("INSERT INTO promo(port) VALUES (" + whereSql() + ")");
                    wroteAt = System.currentTimeMillis();
                    break;
                } catch (SQLException e) {
                    last = e;
                    Thread.sleep(10);
                }
            }
            log("promotion: kill took %d ms, promote() %d ms; first write through Sluice %d ms after promote() returned "
                    + "(%d attempts; last error: %s)", killed - t0, promoted - killed, wroteAt < 0 ? -1 : wroteAt - promoted,
                    attempts, last == null ? "none" : last.getMessage());
            assertTrue(wroteAt > 0, "no write succeeded within 3 s of the promotion: " + (last == null ? "" : last.getMessage()));
            assertEquals(nodeName(next), st.unwrap(SluiceRouted.class).lastRoute().node());
            try (Connection direct = cluster.connectAdmin(next); Statement dst = direct.createStatement();
                 ResultSet rs = dst.executeQuery("SELECT port FROM promo ORDER BY id DESC")) {
                assertTrue(rs.next());
                assertEquals(next.port(), rs.getInt(1), "the write ran on the promoted node");
            }
            assertEquals(nodeName(next), rt.router.topology().primary());
            List<EventLog.Event> roleChanges = events(rt, next, "role-change", t0);
            assertFalse(roleChanges.isEmpty(), rt.monitor.status().events().toString());
            assertTrue(roleChanges.get(0).message().contains("REPLICA -> PRIMARY"), roleChanges.get(0).message());
            assertFalse(events(rt, oldPrimary, "node-down", t0).isEmpty(), rt.monitor.status().events().toString());
            log("promotion events: %s", rt.monitor.status().events().stream().filter(e -> e.timeMillis() >= t0)
                    .map(e -> e.node() + " " + e.type() + " " + e.message()).collect(Collectors.joining(" | ")));
        }
    }
}
