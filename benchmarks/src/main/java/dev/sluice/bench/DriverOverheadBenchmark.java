package dev.sluice.bench;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
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
 * End-to-end overhead of the Sluice JDBC driver on the hottest path: an autocommit point select by primary
 * key through a PreparedStatement, with the connection borrowed from and returned to an application-side
 * HikariCP pool (size 4) on every operation, as a typical web request does.
 *
 * <ul>
 *   <li>{@code direct}: HikariCP on {@code jdbc:postgresql://} straight to the one replica.</li>
 *   <li>{@code sluice}: HikariCP on {@code jdbc:sluice:postgresql://primary,replica/…}. The cluster has exactly one
 *       replica, so every autocommit read lands on the same server as {@code direct}; the difference is Sluice
 *       (classification cache lookup, routing, statement/parameter wrapping, its own backend pool, role
 *       probes once a second).</li>
 * </ul>
 *
 * Each trial (each {@code mode}, in its own fork) starts its own PostgreSQL 15 primary + 1 replica, creates and
 * fills {@code bench} (1000 rows) on the primary and waits for replication; setup verifies that the measured
 * connection really reads from the replica. Goal: sluice/direct ≥ 0.97.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(2)
@Fork(value = 1, jvmArgsAppend = {"-Xms512m", "-Xmx512m", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn"})
public class DriverOverheadBenchmark {

    static final String QUERY = "SELECT v FROM bench WHERE id = ?";
    static final int ROWS = 1000;
    static final int POOL_SIZE = 4;

    @Param({"direct", "sluice"})
    public String mode;

    private DbCluster cluster;
    private HikariDataSource ds;

    @Setup(Level.Trial)
    public void setup() throws Exception {
        cluster = Clusters.startPostgres("bench-" + mode, 1);
        try {
            if (cluster.replicas().size() != 1) {
                throw new IllegalStateException("expected exactly one replica: " + cluster.nodes());
            }
            DbNode primary = cluster.primary();
            DbNode replica = cluster.replicas().get(0);
            fill(primary);
            cluster.waitForReplication(Duration.ofSeconds(60));

            HikariConfig hc = new HikariConfig();
            hc.setPoolName("bench-" + mode);
            hc.setUsername(cluster.user());
            hc.setPassword(cluster.password());
            hc.setMaximumPoolSize(POOL_SIZE);
            hc.setMinimumIdle(POOL_SIZE);
            switch (mode) {
                case "direct" -> hc.setJdbcUrl(replica.jdbcUrl());
                case "sluice" -> {
                    hc.setDriverClassName(SluiceDriver.class.getName());
                    hc.setJdbcUrl("jdbc:sluice:postgresql://" + primary.host() + ":" + primary.port() + ","
                            + replica.host() + ":" + replica.port() + "/" + cluster.database()
                            + "?user=" + cluster.user() + "&password=" + cluster.password());
                }
                default -> throw new IllegalArgumentException("mode must be direct or sluice, was " + mode);
            }
            ds = new HikariDataSource(hc);
            verifyReadsHitReplica(replica);
        } catch (Exception | Error e) {
            tearDown();
            throw e;
        }
    }

    private void fill(DbNode primary) throws SQLException {
        try (Connection c = DriverManager.getConnection(primary.jdbcUrl(), cluster.user(), cluster.password());
             Statement st = c.createStatement()) {
            st.execute("CREATE TABLE bench (id int PRIMARY KEY, v text NOT NULL)");
            st.execute("INSERT INTO bench SELECT g, 'value-' || g FROM generate_series(1, " + ROWS + ") g");
            st.execute("ANALYZE bench");
        }
    }

    /**
     * The Sluice read must land on the same server as {@code direct}: the server's port is the replica's and it
     * is in recovery. Sluice probes roles asynchronously, so give the first probe round a moment.
     */
    private void verifyReadsHitReplica(DbNode replica) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        String last = null;
        while (System.nanoTime() < deadline) {
            try (Connection c = ds.getConnection();
                 PreparedStatement ps = c.prepareStatement("SELECT inet_server_port(), pg_is_in_recovery()");
                 ResultSet rs = ps.executeQuery()) {
                rs.next();
                int port = rs.getInt(1);
                boolean recovery = rs.getBoolean(2);
                if (port == replica.port() && recovery) {
                    pointSelect(); // and the measured query works
                    return;
                }
                last = "port " + port + ", in recovery " + recovery;
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException(mode + ": reads did not reach replica " + replica + " (last: " + last + ")");
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
        int id = ThreadLocalRandom.current().nextInt(1, ROWS + 1);
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(QUERY)) {
            ps.setInt(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new IllegalStateException("row " + id + " missing");
                }
                return rs.getString(1).length();
            }
        }
    }
}
