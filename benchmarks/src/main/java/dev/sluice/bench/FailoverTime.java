package dev.sluice.bench;

import dev.sluice.jdbc.SluiceDriver;
import dev.sluice.testsupport.Clusters;
import dev.sluice.testsupport.DbCluster;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Not JMH: time from kill -9 of the primary to the first acknowledged write through the driver, at default
 * settings plus failover=auto, on fresh real clusters. Run: {@code bench/failover [trials]}.
 */
public final class FailoverTime {
    private FailoverTime() {
    }

    public static void main(String[] args) throws Exception {
        int trials = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        for (String engine : new String[] {"postgresql", "mariadb"}) {
            List<Double> times = new ArrayList<>();
            for (int i = 0; i < trials; i++) {
                try (DbCluster c = engine.equals("postgresql") ? Clusters.startPostgres("fobench-pg", 2) : Clusters.startMariaDb("fobench-maria", 2)) {
                    times.add(trial(engine, c));
                    SluiceDriver.closeAll();
                }
            }
            Collections.sort(times);
            System.out.printf("%s: kill -9 -> first acknowledged write (ms): n=%d p50=%.0f max=%.0f min=%.0f%n", engine,
                    times.size(), times.get(times.size() / 2), times.get(times.size() - 1), times.get(0));
        }
    }

    private static double trial(String engine, DbCluster c) throws Exception {
        String hosts = c.nodes().stream().map(n -> n.host() + ":" + n.port()).collect(Collectors.joining(","));
        String url = "jdbc:sluice:" + engine + "://" + hosts + "/" + c.database() + "?user=" + c.user() + "&password=" + c.password()
                + "&failover=auto&admin-user=" + (engine.equals("postgresql") ? "postgres" : "root");
        try (Connection conn = DriverManager.getConnection(url)) {
            try (Statement st = conn.createStatement()) {
                st.execute("CREATE TABLE fb (id bigint PRIMARY KEY)");
            }
            long id = 0;
            try (PreparedStatement ps = conn.prepareStatement("INSERT INTO fb(id) VALUES (?)")) {
                for (int i = 0; i < 20; i++) {
                    ps.setLong(1, ++id);
                    ps.executeUpdate();
                }
            }
            long killed = System.nanoTime();
            c.kill(c.primary());
            long deadline = killed + 30_000_000_000L;
            while (System.nanoTime() < deadline) {
                try (PreparedStatement ps = conn.prepareStatement("INSERT INTO fb(id) VALUES (?)")) {
                    ps.setLong(1, ++id);
                    ps.executeUpdate();
                    return (System.nanoTime() - killed) / 1e6;
                } catch (SQLException e) {
                    Thread.sleep(10);
                }
            }
            throw new IllegalStateException("no write succeeded within 30 s of the kill");
        }
    }
}
