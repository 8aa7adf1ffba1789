package dev.sluice.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Read lanes ({@code read-lanes: 1}): many sessions' autocommit reads share one connection per replica, gathered and
 * sent together. Real clients (pgjdbc, pgbench in its three modes, psycopg2) against a real primary and two streaming
 * replicas; every answer is checked against what the row holds, so a reply delivered to the wrong session, a lost
 * read or a prepared statement of another session fails the test.
 */
class ReadLanesIT {
    static ProxyFixture f;
    static final int ROWS = 1000;

    @BeforeAll
    static void start() throws Exception {
        f = ProxyFixture.start("lanes-pg", 2, "    read-lanes: 1\n    balancing: session\n", null);
        try (Connection c = connect(null); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE lane_t (id int PRIMARY KEY, v text NOT NULL)");
            st.execute("INSERT INTO lane_t SELECT i, 'v' || i FROM generate_series(1, " + ROWS + ") i");
        }
        f.cluster.waitForReplication(Duration.ofSeconds(30));
    }

    @AfterAll
    static void stop() {
        if (f != null) {
            f.close();
        }
    }

    static Connection connect(String applicationName) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", ProxyFixture.USER);
        p.setProperty("password", ProxyFixture.PASSWORD);
        p.setProperty("prepareThreshold", "1"); // named server-side statements (S_1, S_2 …) from the first use
        if (applicationName != null) {
            p.setProperty("ApplicationName", applicationName);
        }
        return DriverManager.getConnection(f.jdbcUrl(), p);
    }

    /** Runs {@code work} on {@code n} threads, each with its own connection; rethrows the first failure. */
    static void onThreads(int n, Worker work) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int id = i;
                fs.add(pool.submit(() -> {
                    try (Connection c = connect(null)) {
                        work.run(id, c);
                    }
                    return null;
                }));
            }
            for (Future<?> fu : fs) {
                fu.get(120, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    interface Worker {
        void run(int thread, Connection c) throws Exception;
    }

    @Test
    void concurrentSessionsShareLanesAndEachGetsItsOwnAnswer() throws Exception {
        long[] before = f.server.pg().readLaneTraffic();
        AtomicInteger reads = new AtomicInteger();
        onThreads(16, (t, c) -> {
            // even threads and odd threads prepare different texts that pgjdbc names alike (S_1): the lane must keep them apart
            String sql = t % 2 == 0 ? "SELECT v FROM lane_t WHERE id = ?" : "SELECT id * 10 FROM lane_t WHERE id = ?";
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                for (int i = 0; i < 300; i++) {
                    int id = ThreadLocalRandom.current().nextInt(1, ROWS + 1);
                    ps.setInt(1, id);
                    try (ResultSet rs = ps.executeQuery()) {
                        assertTrue(rs.next(), "a row for id " + id);
                        assertEquals(t % 2 == 0 ? "v" + id : String.valueOf(id * 10), rs.getString(1), "thread " + t + ", id " + id);
                    }
                    reads.incrementAndGet();
                }
            }
        });
        long[] after = f.server.pg().readLaneTraffic();
        long cycles = after[1] - before[1];
        long groups = after[0] - before[0];
        assertEquals(16 * 300, reads.get());
        // a session's first reads may run on its own connection while the lane opens; nearly all go to lanes
        assertTrue(cycles >= 16 * 300 * 9 / 10, "reads on lanes: " + cycles + " of " + reads.get());
        assertTrue(groups < cycles, "reads gathered into groups: " + groups + " groups for " + cycles + " reads");
        assertTrue(f.server.pg().readLaneCount() >= 1, "lanes open: " + f.server.pg().readLaneCount());
        Matcher metric = Pattern.compile("(?m)^sluice_read_lane_reads_total\\{[^}]*engine=\"postgresql\"[^}]*} (\\S+)$").matcher(f.server.metrics().scrape());
        assertTrue(metric.find(), "the metric of reads on lanes");
        assertTrue(Double.parseDouble(metric.group(1)) >= after[1], "metric " + metric.group(1) + " counts the reads: " + after[1]);
    }

    @Test
    void aFailingReadDoesNotDisturbTheReadsSentWithIt() throws Exception {
        long[] before = f.server.pg().readLaneTraffic();
        ConcurrentLinkedQueue<String> wrong = new ConcurrentLinkedQueue<>();
        AtomicInteger failed = new AtomicInteger();
        AtomicInteger good = new AtomicInteger();
        onThreads(12, (t, c) -> {
            boolean bad = t % 3 == 0; // 4 sessions divide by zero in every read, 8 read normally
            try (PreparedStatement ps = c.prepareStatement(bad ? "SELECT 1 / (id - id) FROM lane_t WHERE id = ?" : "SELECT v FROM lane_t WHERE id = ?");
                 Statement st = c.createStatement()) {
                for (int i = 0; i < 200; i++) {
                    int id = ThreadLocalRandom.current().nextInt(1, ROWS + 1);
                    ps.setInt(1, id);
                    if (bad) {
                        try (ResultSet rs = ps.executeQuery()) {
                            wrong.add("thread " + t + ": division by zero returned a row");
                        } catch (SQLException e) {
                            if (!"22012".equals(e.getSQLState())) {
                                wrong.add("thread " + t + ": " + e.getSQLState() + " " + e.getMessage());
                            }
                            failed.incrementAndGet();
                        }
                        // simple protocol, also on the lane: the session goes on after its error
                        try (ResultSet rs = st.executeQuery("SELECT v FROM lane_t WHERE id = " + id)) {
                            rs.next();
                            if (!("v" + id).equals(rs.getString(1))) {
                                wrong.add("thread " + t + ": after an error, id " + id + " read " + rs.getString(1));
                            }
                        }
                    } else {
                        try (ResultSet rs = ps.executeQuery()) {
                            rs.next();
                            if (!("v" + id).equals(rs.getString(1))) {
                                wrong.add("thread " + t + ": id " + id + " read " + rs.getString(1));
                            }
                            good.incrementAndGet();
                        }
                    }
                }
            }
        });
        assertTrue(wrong.isEmpty(), wrong.size() + " wrong answers, e.g. " + wrong.peek());
        assertEquals(4 * 200, failed.get(), "every division by zero failed with 22012");
        assertEquals(8 * 200, good.get());
        long cycles = f.server.pg().readLaneTraffic()[1] - before[1];
        assertTrue(cycles >= 2000, "reads on lanes: " + cycles);
    }

    @Test
    void sessionsInDifferentStatesDoNotShareALane() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (String app : List.of("lane-app-a", "lane-app-b", "lane-app-c", "lane-app-d")) {
                fs.add(pool.submit(() -> {
                    try (Connection c = connect(app); PreparedStatement ps = c.prepareStatement("SELECT current_setting('application_name'), v FROM lane_t WHERE id = ?")) {
                        for (int i = 1; i <= 200; i++) {
                            ps.setInt(1, i);
                            try (ResultSet rs = ps.executeQuery()) {
                                rs.next();
                                assertEquals(app, rs.getString(1), "the session's own application_name");
                                assertEquals("v" + i, rs.getString(2));
                            }
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> fu : fs) {
                fu.get(120, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"simple", "extended", "prepared"})
    void pgbenchSelectOnlyRunsOnLanes(String mode) throws Exception {
        String pgbench = Files.isExecutable(Path.of("/usr/lib/postgresql/15/bin/pgbench")) ? "/usr/lib/postgresql/15/bin/pgbench" : "pgbench";
        // pgbench -S needs pgbench_accounts: a custom script on our table does the same point select
        Path script = Files.createTempFile("lanes", ".sql");
        Files.writeString(script, "\\set id random(1, " + ROWS + ")\nSELECT v FROM lane_t WHERE id = :id;\n");
        long[] before = f.server.pg().readLaneTraffic();
        ProxyFixture.Run r = ProxyFixture.run(List.of(pgbench, "-n", "-f", script.toString(), "-M", mode, "-c", "8", "-j", "2", "-t", "300",
                "-h", f.host(), "-p", String.valueOf(f.port()), "-U", ProxyFixture.USER, f.cluster.database()), f.pgEnv(), null, Duration.ofSeconds(120));
        Files.delete(script);
        assertEquals(0, r.exit(), r.out() + r.err());
        Matcher m = Pattern.compile("number of transactions actually processed: (\\d+)").matcher(r.out());
        assertTrue(m.find(), r.out());
        assertEquals(2400, Long.parseLong(m.group(1)), r.out());
        assertTrue(r.out().contains("number of failed transactions: 0"), r.out());
        long cycles = f.server.pg().readLaneTraffic()[1] - before[1];
        assertTrue(cycles >= 2000, mode + ": reads on lanes " + cycles + " of 2400");
    }

    @Test
    void psycopg2ReadsThroughLanes() throws Exception {
        ClientTools.require(PsycopgIT.PYTHON, "apt-get install python3");
        String py = String.join("\n",
                "import psycopg2, sys, threading",
                "errors = []",
                "def work(n):",
                "    c = psycopg2.connect(sys.argv[1]); c.autocommit = True; cur = c.cursor()",
                "    for i in range(1, 301):",
                "        cur.execute('SELECT v FROM lane_t WHERE id = %s', (i,))",
                "        got = cur.fetchone()[0]",
                "        if got != 'v%d' % i: errors.append((n, i, got))",
                "        if i % 50 == 0:",
                "            try:",
                "                cur.execute('SELECT nope FROM lane_t')",
                "                errors.append((n, i, 'no error'))",
                "            except psycopg2.errors.UndefinedColumn:",
                "                pass",
                "ts = [threading.Thread(target=work, args=(n,)) for n in range(8)]",
                "[t.start() for t in ts]; [t.join() for t in ts]",
                "print('errors', len(errors), errors[:3])",
                "sys.exit(1 if errors else 0)");
        long[] before = f.server.pg().readLaneTraffic();
        ProxyFixture.Run r = ProxyFixture.run(List.of(PsycopgIT.PYTHON, "-c", py, f.conninfo("password=" + ProxyFixture.PASSWORD)),
                Map.of(), null, Duration.ofSeconds(120));
        assertEquals(0, r.exit(), r.out() + r.err());
        long cycles = f.server.pg().readLaneTraffic()[1] - before[1];
        // (a session's first reads, and reads arriving while a lane's oldest group has run 10 ms, use its own connection)
        assertTrue(cycles >= 1200, "psycopg2 reads on lanes: " + cycles + " of 2448");
    }

    @Test
    void nodePostgresAndPsqlThroughLanes() throws Exception {
        long[] before = f.server.pg().readLaneTraffic();
        // node-postgres: the same script as NodePgIT (prepared statements, transactions, errors with their SQLSTATE)
        String npm = ClientTools.require("npm", "apt-get install npm");
        ClientTools.require("node", "apt-get install nodejs");
        Map<String, String> env = new java.util.HashMap<>(f.pgEnv());
        env.put("NODE_PATH", NodePgIT.installPg(npm).toString());
        env.put("PGHOST", f.host());
        env.put("PGPORT", String.valueOf(f.port()));
        env.put("PGDATABASE", f.cluster.database());
        env.put("PGUSER", ProxyFixture.USER);
        ProxyFixture.Run node = ClientTools.run(List.of("node", ClientTools.script("node_pg_client.js").toString()), env, Duration.ofSeconds(180));
        assertEquals(0, node.exit(), "node-postgres script through lanes:\n" + node.out() + "\n" + node.err());
        // psql, scripted: each line one simple Query; an error in the middle, the next reads still right
        StringBuilder script = new StringBuilder();
        for (int i = 1; i <= 50; i++) {
            script.append("SELECT v FROM lane_t WHERE id = ").append(i).append(";\n");
            if (i % 10 == 0) {
                script.append("SELECT 1 / (id - id) FROM lane_t WHERE id = ").append(i).append(";\n");
            }
        }
        ProxyFixture.Run psql = ProxyFixture.run(List.of("psql", "-X", "-At", f.conninfo(null)), f.pgEnv(), script.toString(), Duration.ofSeconds(60));
        List<String> lines = psql.lines();
        assertEquals(50, lines.size(), psql.out() + psql.err());
        for (int i = 1; i <= 50; i++) {
            assertEquals("v" + i, lines.get(i - 1));
        }
        assertEquals(5, psql.err().split("division by zero", -1).length - 1, psql.err());
        assertTrue(f.server.pg().readLaneTraffic()[1] - before[1] >= 40, "reads on lanes");
    }

    @Test
    void readsArrivingBehindASlowReadOnItsLaneUseTheirOwnConnections() throws Exception {
        try (ProxyFixture g = ProxyFixture.start("lanes-slow-pg", 1, "    read-lanes: 1\n", null)) { // one replica: one lane
            Properties p = new Properties();
            p.setProperty("user", ProxyFixture.USER);
            p.setProperty("password", ProxyFixture.PASSWORD);
            try (Connection slow = DriverManager.getConnection(g.jdbcUrl(), p); Connection fast = DriverManager.getConnection(g.jdbcUrl(), p);
                 Statement slowSt = slow.createStatement(); PreparedStatement fastPs = fast.prepareStatement("SELECT ?::int * 2")) {
                for (int i = 0; i < 5; i++) { // each session's first read opens the lane (and runs on the session's own connection)
                    slowSt.executeQuery("SELECT 1").close();
                    fastPs.setInt(1, i);
                    fastPs.executeQuery().close();
                }
                long before = g.server.pg().readLaneTraffic()[1];
                ExecutorService ex = Executors.newSingleThreadExecutor();
                try {
                    Future<?> sleeping = ex.submit(() -> {
                        slowSt.executeQuery("SELECT pg_sleep(1.5)").close();
                        return null;
                    });
                    // until the server has run the slow read for a while (past the lane's 10 ms): asked of the replica
                    awaitSlowReadRunning(g);
                    assertEquals(1, g.server.pg().readLaneTraffic()[1] - before, "the slow read runs on the lane");
                    long t0 = System.nanoTime();
                    for (int i = 0; i < 20; i++) {
                        fastPs.setInt(1, i);
                        try (ResultSet rs = fastPs.executeQuery()) {
                            rs.next();
                            assertEquals(2 * i, rs.getInt(1));
                        }
                    }
                    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                    assertFalse(sleeping.isDone(), "the slow read is still running");
                    assertEquals(1, g.server.pg().readLaneTraffic()[1] - before, "the reads behind it went around the lane");
                    assertTrue(ms < 1000, "20 reads took " + ms + " ms: they did not wait for the 1.5 s read");
                    sleeping.get(10, TimeUnit.SECONDS);
                } finally {
                    ex.shutdownNow();
                }
            }
        }
    }


    @Test
    void aTableChangedUnderALaneStatementReadsInItsNewShape() throws Exception {
        try (Connection c = connect(null); Statement ddl = c.createStatement()) {
            ddl.execute("CREATE TABLE lane_schema (id int PRIMARY KEY, a text)");
            ddl.execute("INSERT INTO lane_schema VALUES (1, 'one')");
        }
        f.cluster.waitForReplication(Duration.ofSeconds(30));
        try (Connection c = connect(null); PreparedStatement ps = c.prepareStatement("SELECT * FROM lane_schema WHERE id = ?")) {
            ps.setInt(1, 1);
            for (int i = 0; i < 10; i++) {
                try (ResultSet rs = ps.executeQuery()) {
                    assertEquals(2, rs.getMetaData().getColumnCount());
                }
            }
            try (Connection d = connect(null); Statement st = d.createStatement()) {
                st.execute("ALTER TABLE lane_schema ADD COLUMN b int DEFAULT 7");
            }
            f.cluster.waitForReplication(Duration.ofSeconds(30));
            // the lane's statement (prepared before the change, under a name from its text) must give the new shape;
            // should the server refuse it (0A000, cached plan must not change result type) the lane is replaced
            // (ReadLane), so at most the first executions may fail
            int failed = 0;
            int ok = 0;
            for (int i = 0; i < 20; i++) {
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    assertEquals(3, rs.getMetaData().getColumnCount());
                    assertEquals(7, rs.getInt("b"));
                    ok++;
                } catch (SQLException e) {
                    assertEquals("0A000", e.getSQLState(), e.getMessage());
                    failed++;
                }
            }
            assertTrue(failed <= 2 && ok >= 18, failed + " executions failed after the change, " + ok + " ran");
        }
    }


    @Test
    void aLaneWhoseSetUpFailsIsNotReopenedForEveryRead() throws Exception {
        // a session asking at startup for a setting the server refuses: the lane for its state cannot be set up
        long before = sessionsOnReplicas();
        StringBuilder script = new StringBuilder();
        for (int i = 1; i <= 100; i++) {
            script.append("SELECT v, pg_sleep(0.01) FROM lane_t WHERE id = ").append(i).append(";\n");
        }
        Map<String, String> env = new java.util.HashMap<>(f.pgEnv());
        env.put("PGOPTIONS", "-c statement_timeout=not-a-duration");
        long t0 = System.nanoTime();
        ProxyFixture.Run psql = ProxyFixture.run(List.of("psql", "-X", "-At", f.conninfo(null)), env, script.toString(), Duration.ofSeconds(60));
        long seconds = Math.max(1, TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0) + 1);
        assertEquals(100, psql.lines().size(), psql.out() + psql.err()); // the reads themselves run (on the session's own connection)
        long logins = sessionsOnReplicas() - before;
        // one lane attempt per second at most (plus the session's own connection), not one per read
        assertTrue(logins <= seconds + 3, logins + " logins on the replicas in about " + seconds + " s for 100 reads");
    }

    /** Sessions the replicas have seen started (pg_stat_database.sessions, per instance). */
    static long sessionsOnReplicas() throws SQLException {
        long n = 0;
        for (var r : f.cluster.replicas()) {
            try (Connection c = f.cluster.connectAdmin(r); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT sum(sessions) FROM pg_stat_database")) {
                rs.next();
                n += rs.getLong(1);
            }
        }
        return n;
    }


    /** Waits (polling, 10 s at most) until the replica has run a pg_sleep read for over 50 ms. */
    static void awaitSlowReadRunning(ProxyFixture g) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        try (Connection c = g.cluster.connectAdmin(g.cluster.replicas().get(0)); Statement st = c.createStatement()) {
            while (System.nanoTime() < deadline) {
                try (ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE state = 'active'"
                        + " AND pid <> pg_backend_pid() AND query LIKE '%pg_sleep(1.5)%' AND now() - query_start > interval '50 milliseconds'")) {
                    rs.next();
                    if (rs.getInt(1) > 0) {
                        return;
                    }
                }
                Thread.sleep(10);
            }
        }
        throw new AssertionError("the slow read did not start running on the replica within 10 s");
    }

    @Test
    void aReplicaKilledUnderItsLaneOnlyFailsReadsItHadPartlyAnswered() throws Exception {
        try (ProxyFixture g = ProxyFixture.start("lanes-kill-pg", 2, "    read-lanes: 1\n", null)) {
            String victim = g.replicaNames().get(0);
            java.util.concurrent.ConcurrentHashMap<String, AtomicInteger> okOn = new java.util.concurrent.ConcurrentHashMap<>();
            ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
            java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
            ExecutorService ex = Executors.newFixedThreadPool(8);
            try {
                for (int t = 0; t < 8; t++) {
                    ex.submit(() -> {
                        Properties p = new Properties();
                        p.setProperty("user", ProxyFixture.USER);
                        p.setProperty("password", ProxyFixture.PASSWORD);
                        try (Connection c = DriverManager.getConnection(g.jdbcUrl(), p); Statement st = c.createStatement()) {
                            while (!stop.get()) {
                                try (ResultSet rs = st.executeQuery("SELECT inet_server_port(), pg_sleep(0.002)")) {
                                    rs.next();
                                    okOn.computeIfAbsent(g.node(rs.getInt(1)), k -> new AtomicInteger()).incrementAndGet();
                                } catch (SQLException e) {
                                    failures.add(e.getSQLState() + " " + e.getMessage());
                                }
                            }
                        }
                        return null;
                    });
                }
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (okOn.getOrDefault(victim, new AtomicInteger()).get() < 50 && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
                assertTrue(g.server.pg().readLaneTraffic()[1] > 50, "reads ran on lanes before the kill");
                int before = okOn.values().stream().mapToInt(AtomicInteger::get).sum();
                g.cluster.kill(g.cluster.nodes().stream().filter(n -> n.name().equals(victim)).findFirst().orElseThrow());
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (okOn.values().stream().mapToInt(AtomicInteger::get).sum() - before <= 100 && System.nanoTime() < until) {
                    Thread.sleep(20); // polling: the load runs on until reads went on after the kill (or the deadline)
                }
                stop.set(true);
                ex.shutdown();
                assertTrue(ex.awaitTermination(30, TimeUnit.SECONDS));
                int after = okOn.values().stream().mapToInt(AtomicInteger::get).sum();
                assertTrue(after - before > 100, "reads went on after the kill: " + okOn);
            } finally {
                ex.shutdownNow();
            }
            // a read the dead replica had not answered at all runs again on the other; only one it had partly answered fails
            for (String fl : failures) {
                assertTrue(fl.startsWith("08006"), "only connection failures: " + fl);
            }
            assertTrue(failures.size() <= 8, "at most the reads in flight on the dead node failed: " + failures);
        }
    }
}
