package dev.sluice.bench;

import dev.sluice.core.cache.CacheStats;
import dev.sluice.jdbc.SluiceAdmin;
import dev.sluice.jdbc.SluiceDriver;
import dev.sluice.testsupport.Clusters;
import dev.sluice.testsupport.DbCluster;
import dev.sluice.testsupport.DbNode;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
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
 * The read cache (docs/cache.md) under a read-heavy skewed workload: YCSB-style Zipfian keys (s = 0.99) over
 * {@value #ROWS} rows, point selects by primary key through the Sluice driver, without the cache ({@code off}) and
 * with it at a TTL of 1 s (the default: cache-ttl-ms = max-lag-ms = 1000) and 5 s (both raised to 5000).
 * {@code workload}: {@code read-only}; {@code b} is YCSB workload B (5 % updates of Zipfian keys of the same table,
 * through Sluice, so every update invalidates the table's cached reads); {@code b-other} writes its 5 % to
 * another table instead (an audit log), which invalidates nothing the reads use.
 *
 * <p>Each trial starts its own cluster (PostgreSQL 15 or MariaDB, a primary and 2 replicas, test-support), fills
 * {@code kv} and waits for replication. Four threads, one Sluice connection each. The hit ratio of every
 * iteration is printed (and the cluster's at the end of the trial): JMH measures throughput only.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(4)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn"})
public class ReadCacheBenchmark {
    static final int ROWS = 10_000;
    static final double ZIPF_S = 0.99;

    @Param({"postgresql", "mariadb"})
    public String engine;

    @Param({"off", "on-1s", "on-5s"})
    public String cache;

    @Param({"read-only", "b", "b-other"})
    public String workload;

    private DbCluster cluster;
    private String url;
    /** Zipf cumulative distribution over keys 1..ROWS (rank = key: key 1 is the hottest). */
    private double[] cdf;
    private CacheStats atIterationStart;

    @Setup(Level.Trial)
    public void setup() throws Exception {
        cluster = engine.equals("postgresql") ? Clusters.startPostgres("bench-cache", 2) : Clusters.startMariaDb("bench-cache", 2);
        try {
            fill(cluster.primary());
            cluster.waitForReplication(Duration.ofSeconds(60));
            String hosts = cluster.nodes().stream().map(n -> n.host() + ":" + n.port()).collect(Collectors.joining(","));
            url = "jdbc:sluice:" + engine + "://" + hosts + "/" + cluster.database() + "?user=" + cluster.user()
                    + "&password=" + cluster.password() + "&pool-max-size=8" + switch (cache) {
                        case "off" -> "&cache=off";
                        case "on-1s" -> "&cache=on&cache-tables=kv";
                        case "on-5s" -> "&cache=on&cache-tables=kv&cache-ttl-ms=5000&max-lag-ms=5000";
                        default -> throw new IllegalArgumentException("cache: off, on-1s or on-5s, was " + cache);
                    };
            cdf = zipfCdf(ROWS, ZIPF_S);
            awaitReplicas();
        } catch (Exception | Error e) {
            tearDown();
            throw e;
        }
    }

    private void fill(DbNode primary) throws SQLException {
        try (Connection c = DriverManager.getConnection(primary.jdbcUrl(), cluster.user(), cluster.password());
             Statement st = c.createStatement()) {
            st.execute("CREATE TABLE kv (id int PRIMARY KEY, v varchar(100) NOT NULL)");
            st.execute("CREATE TABLE audit (id int PRIMARY KEY, v varchar(100) NOT NULL)");
            st.execute("INSERT INTO audit SELECT id, v FROM (SELECT 1 AS id, 'a' AS v) s");
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO kv VALUES (?, ?)")) {
                for (int i = 1; i <= ROWS; i++) {
                    ps.setInt(1, i);
                    ps.setString(2, "value-" + i + "-" + "x".repeat(40));
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            c.commit();
        }
    }

    /** Sluice probes roles asynchronously: measure only once both replicas serve reads. */
    private void awaitReplicas() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        try (Connection c = DriverManager.getConnection(url)) {
            SluiceAdmin admin = c.unwrap(SluiceAdmin.class);
            while (admin.clusterStatus().nodes().stream().filter(n -> n.role().equals("REPLICA") && n.state().equals("UP")).count() < 2) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("replicas never UP: " + admin.clusterStatus().nodes());
                }
                Thread.sleep(100); // between polls of the deadline loop
            }
        }
    }

    static double[] zipfCdf(int n, double s) {
        double[] c = new double[n];
        double sum = 0;
        for (int k = 1; k <= n; k++) {
            sum += 1 / Math.pow(k, s);
            c[k - 1] = sum;
        }
        for (int k = 0; k < n; k++) {
            c[k] /= sum;
        }
        return c;
    }

    int nextKey() {
        int i = Arrays.binarySearch(cdf, ThreadLocalRandom.current().nextDouble());
        return (i >= 0 ? i : -i - 1) + 1;
    }

    /** One connection per benchmark thread, with its two statements. */
    @State(Scope.Thread)
    public static class Client {
        Connection conn;
        PreparedStatement select;
        PreparedStatement update;

        @Setup(Level.Trial)
        public void open(ReadCacheBenchmark b) throws SQLException {
            conn = DriverManager.getConnection(b.url);
            select = conn.prepareStatement("SELECT v FROM kv WHERE id = ?");
            update = conn.prepareStatement(b.workload.equals("b-other") ? "UPDATE audit SET v = ? WHERE id = 1 OR id = ?"
                    : "UPDATE kv SET v = ? WHERE id = ?");
        }

        @TearDown(Level.Trial)
        public void close() throws SQLException {
            conn.close();
        }
    }

    @Setup(Level.Iteration)
    public void iterationStart() throws SQLException {
        try (Connection c = DriverManager.getConnection(url)) {
            atIterationStart = c.unwrap(SluiceAdmin.class).clusterStatus().cache();
        }
    }

    @TearDown(Level.Iteration)
    public void iterationEnd() throws SQLException {
        try (Connection c = DriverManager.getConnection(url)) {
            CacheStats s = c.unwrap(SluiceAdmin.class).clusterStatus().cache();
            long hits = s.hits() - atIterationStart.hits();
            long misses = s.misses() - atIterationStart.misses();
            System.out.printf("%n  [cache=%s workload=%s] iteration: %d hits, %d misses, hit ratio %.3f; %d entries, %d bytes, %s%n",
                    cache, workload, hits, misses, hits + misses == 0 ? 0.0 : (double) hits / (hits + misses),
                    s.entries(), s.bytes(), s.notStored());
        }
    }

    @Benchmark
    public String operation(Client c) throws SQLException {
        int key = nextKey();
        if (!workload.equals("read-only") && ThreadLocalRandom.current().nextInt(100) >= 95) {
            c.update.setString(1, "updated-" + System.nanoTime());
            c.update.setInt(2, key);
            c.update.executeUpdate();
            return null;
        }
        c.select.setInt(1, key);
        try (ResultSet rs = c.select.executeQuery()) {
            if (!rs.next()) {
                throw new IllegalStateException("row " + key + " missing");
            }
            return rs.getString(1);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        SluiceDriver.closeAll();
        if (cluster != null) {
            cluster.close();
        }
    }
}
