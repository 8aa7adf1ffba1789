package dev.sluice.bench;

import dev.sluice.core.health.ClusterStatus;
import dev.sluice.jdbc.SluiceAdmin;
import dev.sluice.jdbc.SluiceDriver;
import dev.sluice.testsupport.Clusters;
import dev.sluice.testsupport.DbCluster;
import dev.sluice.testsupport.DbNode;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Not JMH: measures an event latency against real clusters at default settings.
 * <ul>
 *   <li>detection: a caught-up replica's replay is paused at T0; its lag crosses max-lag at T0 + max-lag;
 *       the time from then until the status shows it LAGGING (out of reads);</li>
 *   <li>readmission after resume (includes the hold time);</li>
 *   <li>probe load: statements per second the monitor sends to an idle replica and to the primary.</li>
 * </ul>
 * Run: {@code bench/lag-detection [trials]}.
 */
public final class LagDetection {
    private LagDetection() {
    }

    public static void main(String[] args) throws Exception {
        int trials = args.length > 0 ? Integer.parseInt(args[0]) : 15;
        for (String engine : new String[] {"postgresql", "mariadb"}) {
            try (DbCluster c = engine.equals("postgresql") ? Clusters.startPostgres("lagbench-pg", 2) : Clusters.startMariaDb("lagbench-maria", 2)) {
                run(engine, c, trials);
                SluiceDriver.closeAll();
            }
        }
    }

    private static void run(String engine, DbCluster c, int trials) throws Exception {
        StringBuilder hosts = new StringBuilder();
        for (DbNode n : c.nodes()) {
            hosts.append(hosts.length() == 0 ? "" : ",").append(n.host()).append(':').append(n.port());
        }
        String url = "jdbc:sluice:" + engine + "://" + hosts + "/" + c.database() + "?user=" + c.user() + "&password=" + c.password();
        DbNode victim = c.replicas().get(0);
        String name = victim.host() + ":" + victim.port();
        List<Double> detect = new ArrayList<>();
        List<Double> readmit = new ArrayList<>();
        long maxLag = 1000; // default max-lag-ms
        try (Connection conn = DriverManager.getConnection(url)) {
            SluiceAdmin admin = conn.unwrap(SluiceAdmin.class);
            System.out.printf("%s: probe load (idle app, 5 s): primary %.1f stmt/s, replica %.1f stmt/s%n", engine,
                    load(c, c.primary(), engine), load(c, victim, engine));
            for (int i = 0; i < trials; i++) {
                waitState(admin, name, "UP", 10_000);
                Thread.sleep(300);
                long t0 = System.nanoTime();
                c.pauseReplay(victim);
                long t1 = waitState(admin, name, "LAGGING", 10_000);
                detect.add((t1 - t0) / 1e6 - maxLag);
                long r0 = System.nanoTime();
                c.resumeReplay(victim);
                long r1 = waitState(admin, name, "UP", 10_000);
                readmit.add((r1 - r0) / 1e6);
            }
        }
        System.out.printf("%s: detection after crossing max-lag (ms): %s%n", engine, summary(detect));
        System.out.printf("%s: readmission after resume, incl. 1000 ms hold (ms): %s%n", engine, summary(readmit));
    }

    private static long waitState(SluiceAdmin admin, String node, String state, long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
        while (System.nanoTime() < deadline) {
            ClusterStatus.NodeView v = admin.clusterStatus().node(node);
            if (v != null && v.state().equals(state)) {
                return System.nanoTime();
            }
            Thread.sleep(2);
        }
        throw new IllegalStateException(node + " did not become " + state + " in " + timeoutMs + " ms");
    }

    /** Statements per second arriving at an otherwise idle node (the monitor's probes, the heartbeat writer). */
    private static double load(DbCluster c, DbNode n, String engine) throws Exception {
        String sql = engine.equals("postgresql")
                ? "SELECT sum(calls) FROM pg_stat_statements" : "SHOW GLOBAL STATUS LIKE 'Questions'";
        if (engine.equals("postgresql")) {
            // count transactions instead: pg_stat_statements needs a preload; xact_commit counts every autocommit statement
            sql = "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()";
        }
        long a = counter(c, n, sql);
        Thread.sleep(5000);
        long b = counter(c, n, sql);
        return (b - a - (engine.equals("postgresql") ? 2 : 2)) / 5.0; // minus our own two reads
    }

    private static long counter(DbCluster c, DbNode n, String sql) throws Exception {
        try (Connection a = c.connectAdmin(n); Statement st = a.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(rs.getMetaData().getColumnCount());
        }
    }

    private static String summary(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        Collections.sort(s);
        return String.format("n=%d p50=%.0f p95=%.0f max=%.0f min=%.0f", s.size(), s.get(s.size() / 2),
                s.get((int) Math.min(s.size() - 1, Math.round(s.size() * 0.95))), s.get(s.size() - 1), s.get(0));
    }
}
