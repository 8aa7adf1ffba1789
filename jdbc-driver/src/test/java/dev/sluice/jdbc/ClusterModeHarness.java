package dev.sluice.jdbc;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.core.failover.FailoverIo;
import dev.sluice.testsupport.DbCluster;
import dev.sluice.testsupport.DbNode;
import java.io.File;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;

/**
 * Cluster mode tests: a real in-process ZooKeeper (Curator's TestingServer), a real replicated PostgreSQL
 * cluster, and several Sluice instances in one JVM — each a {@link ClusterRuntime} with its own router,
 * monitor, failover and ZooKeeper client, exactly as separate processes would have.
 */
final class ClusterModeHarness implements AutoCloseable {
    /** Short enough for fast tests; the grace must stay below it (validated). */
    static final int SESSION_MS = 2000;
    static final int GRACE_MS = 300;

    final DbCluster db;
    final TestingServer zk;
    final String root;
    final List<ClusterRuntime> instances = new ArrayList<>();

    ClusterModeHarness(DbCluster db, String root) throws Exception {
        this.db = db;
        this.root = root;
        // tick 200 ms: ZooKeeper then grants sessions from 400 ms to 4 s (the default tick would force 6 s)
        File dir = Files.createTempDirectory("sluice-zk").toFile();
        this.zk = new TestingServer(new InstanceSpec(dir, -1, -1, -1, true, -1, 200, -1), true);
    }

    String url(String instance, String connect, String extra) {
        String hosts = db.nodes().stream().map(n -> n.host() + ":" + n.port()).collect(Collectors.joining(","));
        return "jdbc:sluice:postgresql://" + hosts + "/" + db.database() + "?user=" + db.user() + "&password=" + db.password()
                + "&admin-user=postgres&failover=auto&coordination-zookeeper-connect=" + connect
                + "&coordination-zookeeper-root=" + root + "&coordination-instance-name=" + instance
                + "&coordination-session-timeout-ms=" + SESSION_MS + "&coordination-session-grace-ms=" + GRACE_MS + extra;
    }

    ClusterRuntime start(String instance) {
        return start(instance, zk.getConnectString(), io -> io);
    }

    ClusterRuntime start(String instance, String connect, UnaryOperator<FailoverIo> wrapIo) {
        ClusterRuntime rt = new ClusterRuntime(SluiceUrl.parse(url(instance, connect, ""), new Properties()), wrapIo);
        instances.add(rt);
        return rt;
    }

    static String name(DbNode n) {
        return n.host() + ":" + n.port();
    }

    /** Polls {@code cond} until true or {@code ms} pass; fails with {@code what} and the state then. */
    static void await(long ms, BooleanSupplier cond, Supplier<String> what) throws InterruptedException {
        long deadline = System.nanoTime() + ms * 1_000_000L;
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + ms + " ms: " + what.get());
            }
            Thread.sleep(20);
        }
    }

    /** A write through {@code rt}'s own router: the server port that executed it (the node writes go to). */
    static int writeVia(ClusterRuntime rt) throws Exception {
        try (Connection c = new SluiceConnection(rt); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS cm (id serial PRIMARY KEY, port int)");
            try (ResultSet rs = st.executeQuery("INSERT INTO cm(port) VALUES (inet_server_port()) RETURNING port")) {
                assertTrue(rs.next());
                return rs.getInt(1);
            }
        }
    }

    /** Nodes that answer and are not in recovery: the writable ones. */
    List<String> writableNodes() {
        List<String> out = new ArrayList<>();
        for (DbNode n : db.nodes()) {
            if (!n.isRunning()) {
                continue;
            }
            try (Connection c = db.connectAdmin(n); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT NOT pg_is_in_recovery()")) {
                if (rs.next() && rs.getBoolean(1)) {
                    out.add(name(n));
                }
            } catch (Exception e) {
                // down: not writable
            }
        }
        return out;
    }

    static long events(ClusterRuntime rt, String type) {
        return rt.clusterStatus().events().stream().filter(e -> e.type().equals(type)).count();
    }

    String describe() {
        StringBuilder b = new StringBuilder();
        for (ClusterRuntime rt : instances) {
            b.append("\n  ").append(rt.coordinator().instanceName()).append(": leader=").append(rt.coordinator().isLeader())
                    .append(" epoch=").append(rt.router().epoch()).append(" designated=").append(rt.router().designatedPrimary())
                    .append(" topology=").append(rt.router().topology());
        }
        return b.append("\n  writable: ").append(writableNodes()).toString();
    }

    @Override
    public void close() throws Exception {
        for (ClusterRuntime rt : instances) {
            rt.close();
        }
        zk.close();
        db.close();
    }
}
