package dev.sluice.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * sysbench (Debian's, libmariadb underneath) through the proxy: its prepare step (DDL, multi-row INSERTs,
 * CREATE INDEX), oltp_point_select (autocommit reads: replicas) and oltp_read_write (BEGIN..COMMIT with
 * reads, UPDATEs, DELETE and INSERT: all on the primary), each with server-side prepared statements
 * ({@code --db-ps-mode=auto}: COM_STMT_PREPARE / EXECUTE) and without. No error is tolerated. Where the
 * statements ran is read from the servers' own counters ({@code SHOW GLOBAL STATUS}).
 */
class SysbenchIT {
    static final int TABLES = 2;
    static final int TABLE_SIZE = 10_000;
    static MyProxyFixture f;
    static String sysbench;

    @BeforeAll
    static void start() throws Exception {
        sysbench = ClientTools.require("sysbench", "apt-get install sysbench");
        f = MyProxyFixture.start("sysbench-maria", 2);
        ProxyFixture.Run prep = bench("oltp_read_write", "prepare");
        assertEquals(0, prep.exit(), "sysbench prepare through the proxy:\n" + prep.out() + prep.err());
        f.cluster.waitForReplication(Duration.ofSeconds(60));
    }

    @AfterAll
    static void stop() {
        if (f != null) {
            f.close();
        }
    }

    static ProxyFixture.Run bench(String workload, String command, String... args) throws Exception {
        // the password as an argument: sysbench does not read MYSQL_PWD
        List<String> cmd = new ArrayList<>(List.of(sysbench, workload, "--db-driver=mysql", "--mysql-host=" + f.host(),
                "--mysql-port=" + f.port(), "--mysql-user=" + MyProxyFixture.USER, "--mysql-password=" + MyProxyFixture.PASSWORD,
                "--mysql-db=" + f.database(), "--tables=" + TABLES, "--table-size=" + TABLE_SIZE, "--mysql-ignore-errors=none"));
        cmd.addAll(List.of(args));
        cmd.add(command);
        return MyProxyFixture.run(cmd, Map.of(), null, Duration.ofSeconds(180));
    }

    /** Runs a workload for exactly {@code events} transactions; fails on any error. */
    static ProxyFixture.Run run(String workload, String psMode, int threads, int events) throws Exception {
        ProxyFixture.Run r = bench(workload, "run", "--threads=" + threads, "--events=" + events, "--time=0",
                "--db-ps-mode=" + psMode, "--rand-seed=" + (1 + psMode.length()));
        assertEquals(0, r.exit(), workload + " --db-ps-mode=" + psMode + ":\n" + r.out() + r.err());
        assertEquals(events, number(r, "transactions"), r.out());
        assertEquals(0, number(r, "ignored errors"), r.out());
        assertEquals(0, number(r, "reconnects"), r.out());
        return r;
    }

    /** A number from sysbench's report, e.g. "    transactions:   500 (39208.80 per sec.)". */
    static long number(ProxyFixture.Run r, String label) {
        Matcher m = Pattern.compile("(?m)^\\s*" + Pattern.quote(label) + ":\\s+(\\d+)").matcher(r.out());
        assertTrue(m.find(), "no '" + label + "' in sysbench's report:\n" + r.out() + r.err());
        return Long.parseLong(m.group(1));
    }

    static Map<String, Long> delta(Map<String, Long> before, Map<String, Long> after) {
        Map<String, Long> d = new java.util.TreeMap<>();
        after.forEach((k, v) -> d.put(k, v - before.getOrDefault(k, 0L)));
        return d;
    }

    @Test
    void prepareLoadedEveryRowThroughThePrimary() throws Exception {
        for (String node : List.of(f.primaryName(), f.replicaNames().get(0), f.replicaNames().get(1))) {
            try (Connection c = f.cluster.connectAdmin(f.nodeNamed(node)); Statement st = c.createStatement()) {
                for (int t = 1; t <= TABLES; t++) {
                    try (ResultSet rs = st.executeQuery("SELECT COUNT(*), SUM(id) FROM sbtest" + t)) {
                        rs.next();
                        assertEquals(TABLE_SIZE, rs.getLong(1), "sbtest" + t + " on " + node);
                        assertEquals((long) TABLE_SIZE * (TABLE_SIZE + 1) / 2, rs.getLong(2), "sbtest" + t + " on " + node);
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"disable", "auto"})
    void pointSelectsRunOnTheReplicas(String psMode) throws Exception {
        int events = 2000;
        Map<String, Long> before = f.globalStatus("Com_select");
        ProxyFixture.Run r = run("oltp_point_select", psMode, 4, events);
        assertEquals(events, number(r, "read"), r.out());
        Map<String, Long> d = delta(before, f.globalStatus("Com_select"));
        long onReaders = f.readNodes().stream().mapToLong(d::get).sum();
        assertTrue(onReaders >= events, psMode + ": " + events + " point selects, on the read nodes only " + d);
        for (String n : f.readNodes()) {
            assertTrue(d.get(n) >= events / 10, psMode + ": the balancer reaches " + n + ": " + d);
        }
        for (String n : d.keySet()) {
            if (!f.readNodes().contains(n)) {
                // health probes may add a few; the workload's reads must not be here
                assertTrue(d.get(n) < events / 10, psMode + ": " + d.get(n) + " SELECTs on " + n + ", a node reads must not go to: " + d);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"disable", "auto"})
    void readWriteTransactionsRunOnThePrimary(String psMode) throws Exception {
        int events = 200;
        List<String> counters = List.of("Com_select", "Com_update", "Com_delete", "Com_insert");
        Map<String, Map<String, Long>> before = new java.util.HashMap<>();
        for (String c : counters) {
            before.put(c, f.globalStatus(c));
        }
        ProxyFixture.Run r = run("oltp_read_write", psMode, 2, events);
        // per transaction: 10 point selects + 4 range selects, 2 UPDATEs, 1 DELETE, 1 INSERT, BEGIN and COMMIT
        long reads = number(r, "read");
        assertEquals(14L * events, reads, r.out());
        assertEquals(4L * events, number(r, "write"), r.out());
        Map<String, Long> select = delta(before.get("Com_select"), f.globalStatus("Com_select"));
        assertTrue(select.get(f.primaryName()) >= reads, psMode + ": the reads inside the transactions ran on the primary: " + select);
        for (String rep : f.replicaNames()) {
            assertTrue(select.get(rep) < reads / 10, psMode + ": " + rep + " got " + select.get(rep) + " SELECTs: " + select);
        }
        // the writes: replicas run read_only (and the proxy logs in without SUPER), so a write routed to one
        // would have failed the run; replication counts applied rows in the replicas' Com_* as well
        Map<String, Long> expected = Map.of("Com_update", 2L * events, "Com_delete", (long) events, "Com_insert", (long) events);
        for (var e : expected.entrySet()) {
            Map<String, Long> d = delta(before.get(e.getKey()), f.globalStatus(e.getKey()));
            assertTrue(d.get(f.primaryName()) >= e.getValue(), psMode + ": " + e.getKey() + " on the primary " + d);
        }
        f.cluster.waitForReplication(Duration.ofSeconds(60));
        try (Connection c = f.cluster.connectAdmin(f.cluster.primary()); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT (SELECT COUNT(*) FROM sbtest1) + (SELECT COUNT(*) FROM sbtest2)")) {
            rs.next();
            assertEquals(2L * TABLE_SIZE, rs.getLong(1), "each transaction deletes one row and inserts it again");
        }
    }
}
