package dev.sluice.bench;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.sluice.jdbc.SluiceDriver;
import dev.sluice.jdbc.SluiceSharded;
import dev.sluice.testsupport.Clusters;
import dev.sluice.testsupport.DbCluster;
import dev.sluice.testsupport.DbNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;

/**
 * Sharding through the Sluice driver (docs/sharding.md), with an application-side HikariCP pool (size 4) and the
 * connection borrowed per operation, like {@link DriverOverheadBenchmark}:
 *
 * <ul>
 *   <li>{@code pointSelect}: {@code SELECT v FROM items WHERE id = ?} by the shard key. {@code unsharded}: one
 *       cluster ({@code jdbc:sluice:file:…?cluster=flat}); {@code sharded}: the same query routed to one of three
 *       shards ({@code ?database=app}) — the cost of shard routing (the analysis is cached by SQL text).</li>
 *   <li>{@code top10}: {@code SELECT id, v FROM items ORDER BY v DESC, id LIMIT 10}: on {@code sharded} a
 *       scatter-gather over three shards in parallel with a k-way merge; {@code unsharded} for reference.</li>
 * </ul>
 *
 * Each trial starts a PostgreSQL 15 primary + 1 streaming replica; the shards are databases shard1..3 on it (the
 * unsharded table is in the cluster's own database), {@value #ROWS} rows with an index on (v DESC, id), so the
 * measured reads run on the replica. Setup checks that a point select uses one shard and top10 all three.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(2)
@Fork(value = 1, jvmArgsAppend = {"-Xms512m", "-Xmx512m", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn"})
public class ShardingBenchmark {
    static final int ROWS = 30_000;
    static final String POINT = "SELECT v FROM items WHERE id = ?";
    static final String TOP10 = "SELECT id, v FROM items ORDER BY v DESC, id LIMIT 10";

    @Param({"unsharded", "sharded"})
    public String layout;

    private DbCluster cluster;
    private HikariDataSource ds;
    private Path yaml;

    @Setup(Level.Trial)
    public void setup() throws Exception {
        cluster = Clusters.startPostgres("bench-" + layout, 1);
        try {
            boolean sharded = layout.equals("sharded");
            List<String> dbs = sharded ? List.of("shard1", "shard2", "shard3") : List.of(cluster.database());
            if (sharded) {
                try (Connection a = cluster.connectAdmin(cluster.primary()); Statement st = a.createStatement()) {
                    for (String db : dbs) {
                        st.execute("CREATE DATABASE " + db + " OWNER " + cluster.user());
                    }
                }
            }
            yaml = Files.createTempFile("sluice-bench", ".yaml");
            Files.writeString(yaml, yaml(dbs));
            String url = "jdbc:sluice:file:" + yaml + (sharded ? "?database=app" : "?cluster=flat");
            try (Connection c = java.sql.DriverManager.getConnection(url); Statement st = c.createStatement()) {
                st.execute("CREATE TABLE items (id bigint PRIMARY KEY, v int NOT NULL)"); // every shard
                st.execute("CREATE INDEX items_v ON items (v DESC, id)");
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO items (id, v) VALUES (?, ?)")) {
                    for (int id = 1; id <= ROWS; id++) {
                        ps.setLong(1, id);
                        ps.setInt(2, ThreadLocalRandom.current().nextInt(1_000_000));
                        ps.addBatch();
                    }
                    ps.executeBatch(); // split per shard
                }
                st.execute("ANALYZE items");
            }
            cluster.waitForReplication(Duration.ofSeconds(60));
            HikariConfig hc = new HikariConfig();
            hc.setPoolName("bench-" + layout);
            hc.setDriverClassName(SluiceDriver.class.getName());
            hc.setJdbcUrl(url);
            hc.setMaximumPoolSize(4);
            hc.setMinimumIdle(4);
            ds = new HikariDataSource(hc);
            verify(sharded);
        } catch (Exception | Error e) {
            tearDown();
            throw e;
        }
    }

    private String yaml(List<String> dbs) {
        StringBuilder y = new StringBuilder("clusters:\n");
        for (int i = 0; i < dbs.size(); i++) {
            y.append("  ").append(dbs.size() == 1 ? "flat" : "c" + (i + 1)).append(":\n    engine: postgresql\n    database: ").append(dbs.get(i))
                    .append("\n    user: ").append(cluster.user()).append("\n    password: ").append(cluster.password()).append("\n    nodes:\n");
            for (DbNode n : cluster.nodes()) {
                y.append("      - { name: ").append(n.name()).append(", host: ").append(n.host()).append(", port: ").append(n.port()).append(" }\n");
            }
        }
        if (dbs.size() > 1) {
            y.append("databases:\n  app:\n    shards:\n");
            for (int i = 0; i < dbs.size(); i++) {
                y.append("      - { name: s").append(i + 1).append(", cluster: c").append(i + 1).append(" }\n");
            }
            y.append("    tables:\n      items: { key: id, strategy: hash }\n");
        }
        return y.toString();
    }

    /** The measured statements take the intended path: one shard for a point select, all three for top10. */
    private void verify(boolean sharded) throws SQLException {
        pointSelect();
        top10();
        if (sharded) {
            try (Connection c = ds.getConnection(); PreparedStatement a = c.prepareStatement(POINT); PreparedStatement b = c.prepareStatement(TOP10)) {
                a.setLong(1, 7);
                a.executeQuery().close();
                b.executeQuery().close();
                int one = a.unwrap(SluiceSharded.class).lastShards().size();
                int all = b.unwrap(SluiceSharded.class).lastShards().size();
                if (one != 1 || all != 3) {
                    throw new IllegalStateException("point select used " + one + " shard(s), top10 " + all);
                }
            }
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws SQLException {
        try {
            if (ds != null) {
                ds.close();
            }
            SluiceDriver.closeAll();
        } finally {
            ds = null;
            if (cluster != null) {
                cluster.close();
                cluster = null;
            }
        }
    }

    @Benchmark
    public int pointSelect() throws SQLException {
        long id = ThreadLocalRandom.current().nextInt(1, ROWS + 1);
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(POINT)) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new IllegalStateException("row " + id + " missing");
                }
                return rs.getInt(1);
            }
        }
    }

    @Benchmark
    public long top10() throws SQLException {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(TOP10); ResultSet rs = ps.executeQuery()) {
            long sum = 0;
            int n = 0;
            while (rs.next()) {
                sum += rs.getLong(1);
                n++;
            }
            if (n != 10) {
                throw new IllegalStateException("top10 returned " + n + " rows");
            }
            return sum;
        }
    }
}
