package dev.sluice.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.core.route.Router;
import java.nio.file.Files;
import java.nio.file.Path;
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
 * pgbench through the proxy, in all three query modes: its initialisation (DDL + COPY FROM STDIN), the
 * select-only workload (reads: replicas) and the TPC-B-like one (transactions: primary). Where statements
 * ran is read from the router's per-node counters and from the servers' own statistics.
 */
class PgbenchIT {
    static ProxyFixture f;
    static String pgbench;

    @BeforeAll
    static void start() throws Exception {
        pgbench = Files.isExecutable(Path.of("/usr/lib/postgresql/15/bin/pgbench")) ? "/usr/lib/postgresql/15/bin/pgbench" : "pgbench";
        f = ProxyFixture.start("pgbench-pg", 2, null, null);
        ProxyFixture.Run init = ProxyFixture.run(List.of(pgbench, "-i", "-s", "1", "-q", "-h", f.host(), "-p", String.valueOf(f.port()),
                "-U", ProxyFixture.USER, f.cluster.database()), f.pgEnv(), null, Duration.ofSeconds(120));
        assertEquals(0, init.exit(), "pgbench -i through the proxy: " + init.err());
        f.cluster.waitForReplication(Duration.ofSeconds(30));
    }

    @AfterAll
    static void stop() {
        if (f != null) {
            f.close();
        }
    }

    static ProxyFixture.Run bench(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(pgbench, "-n", "-h", f.host(), "-p", String.valueOf(f.port()), "-U", ProxyFixture.USER));
        cmd.addAll(List.of(args));
        cmd.add(f.cluster.database());
        return ProxyFixture.run(cmd, f.pgEnv(), null, Duration.ofSeconds(120));
    }

    static long transactions(ProxyFixture.Run r) {
        Matcher m = Pattern.compile("number of transactions actually processed: (\\d+)").matcher(r.out());
        assertTrue(m.find(), "pgbench output: " + r.out() + r.err());
        return Long.parseLong(m.group(1));
    }

    @Test
    void initialisationCopiedEveryRowToThePrimary() throws Exception {
        try (var c = f.cluster.connectAdmin(f.cluster.primary()); var st = c.createStatement();
             var rs = st.executeQuery("SELECT count(*) FROM pgbench_accounts")) {
            rs.next();
            assertEquals(100_000, rs.getLong(1), "rows loaded by COPY FROM STDIN through the proxy");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"simple", "extended", "prepared"})
    void selectOnlyRunsOnReplicas(String mode) throws Exception {
        Router router = f.server.runtime().router();
        long primaryBefore = router.routedTo(f.primaryName());
        long replicasBefore = f.replicaNames().stream().mapToLong(router::routedTo).sum();
        ProxyFixture.Run r = bench("-S", "-M", mode, "-c", "4", "-j", "2", "-t", "200");
        assertEquals(0, r.exit(), r.out() + r.err());
        assertEquals(800, transactions(r), r.out());
        long primary = router.routedTo(f.primaryName()) - primaryBefore;
        long replicas = f.replicaNames().stream().mapToLong(router::routedTo).sum() - replicasBefore;
        assertTrue(replicas >= 800, "select-only " + mode + ": " + replicas + " statements on replicas");
        assertEquals(0, primary, "select-only " + mode + " sent " + primary + " statements to the primary");
        for (String rep : f.replicaNames()) {
            assertTrue(router.routedTo(rep) > 0, "round-robin reaches " + rep);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"simple", "extended", "prepared"})
    void tpcbTransactionsRunOnThePrimary(String mode) throws Exception {
        long before = historyRows();
        ProxyFixture.Run r = bench("-M", mode, "-c", "4", "-j", "2", "-t", "50");
        assertEquals(0, r.exit(), r.out() + r.err());
        assertEquals(200, transactions(r), r.out());
        assertEquals(200, historyRows() - before, "every transaction's INSERT reached the primary");
    }

    @Test
    void preparedStatementsAreRecreatedOnEachReplica() throws Exception {
        // -M prepared parses each statement once per client; round-robin then runs it on both replicas, so
        // the proxy must re-create it on the second one (else: "prepared statement P0_1 does not exist")
        Router router = f.server.runtime().router();
        Map<String, Long> before = new java.util.HashMap<>();
        f.replicaNames().forEach(n -> before.put(n, router.routedTo(n)));
        ProxyFixture.Run r = bench("-S", "-M", "prepared", "-c", "1", "-t", "20");
        assertEquals(0, r.exit(), r.out() + r.err());
        assertEquals(20, transactions(r));
        for (String rep : f.replicaNames()) {
            assertTrue(router.routedTo(rep) - before.get(rep) >= 5, "one client's prepared statement ran on " + rep);
        }
    }

    static long historyRows() throws Exception {
        try (var c = f.cluster.connectAdmin(f.cluster.primary()); var st = c.createStatement();
             var rs = st.executeQuery("SELECT count(*) FROM pgbench_history")) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
