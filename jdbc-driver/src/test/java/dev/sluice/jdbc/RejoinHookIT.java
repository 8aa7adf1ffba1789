package dev.sluice.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.sluice.core.failover.FailoverResult;
import dev.sluice.core.health.ClusterStatus;
import dev.sluice.core.health.EventLog;
import dev.sluice.testsupport.Clusters;
import dev.sluice.testsupport.DbCluster;
import dev.sluice.testsupport.DbNode;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The shipped example {@code failover-hook} (docs/examples/rejoin-postgres-standby.sh) against a real
 * PostgreSQL cluster: after a switchover through Sluice it rewinds the old primary and brings it back as a
 * standby of the new one, and Sluice routes reads to it again. Also: a failing hook is reported as such and
 * does not undo the promotion.
 */
class RejoinHookIT {
    private static final Path HOOK = Path.of("..", "docs", "examples", "rejoin-postgres-standby.sh").toAbsolutePath().normalize();
    private static final Path PG_BIN = Path.of(System.getProperty("sluice.pgBin", "/usr/lib/postgresql/15/bin"));

    private DbCluster cluster;
    /** A node the hook restarted: the harness does not know its new postmaster, so the test stops it. */
    private DbNode restartedByHook;

    @AfterEach
    void shutdown() throws Exception {
        SluiceDriver.closeAll();
        if (restartedByHook != null) {
            pgCtlStop(restartedByHook);
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void exampleHookRejoinsTheOldPrimaryAsAStandbyAndReadsGoToItAgain() throws Exception {
        for (String tool : List.of("pg_rewind", "pg_ctl", "psql")) {
            assertTrue(Files.isExecutable(PG_BIN.resolve(tool)), PG_BIN.resolve(tool) + " is needed by the example hook");
        }
        assertTrue(onPath("jq"), "jq is needed by the example hook (docs/examples/rejoin-postgres-standby.sh)");
        assertTrue(Files.isReadable(HOOK), "example hook missing: " + HOOK);

        cluster = Clusters.startPostgres("rejoin-pg", 1);
        DbNode oldPrimary = cluster.primary();
        DbNode target = cluster.replicas().get(0);
        enableRewindPrerequisites();

        String oldName = name(oldPrimary);
        String targetName = name(target);
        // the example finds the data directory of a node it may rewind in PGDATA_FOR_<node name, sanitized>
        String hook = "PGDATA_FOR_" + oldName.replaceAll("[^A-Za-z0-9_]", "_") + "=" + oldPrimary.directory().resolve("data")
                + " PG_BIN=" + PG_BIN + " sh " + HOOK;
        String url = url(hook);
        try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE rj (id int PRIMARY KEY, note text)");
            st.execute("INSERT INTO rj SELECT g, 'before' FROM generate_series(1, 200) g");

            long t0 = System.nanoTime();
            FailoverResult r = c.unwrap(SluiceAdmin.class).switchover(targetName, false);
            restartedByHook = oldPrimary; // from here on, whatever the assertions say
            System.out.printf("[rejoin] switchover + hook: %.0f ms%n", (System.nanoTime() - t0) / 1e6);
            r.steps().forEach(s -> System.out.println("[rejoin]   " + s.replace("\n", "\n[rejoin]     ")));
            assertTrue(r.promoted(), r.message() + " " + r.steps());
            assertEquals(targetName, r.newPrimary());

            EventLog.Event hookEvent = event(c, "hook", targetName);
            assertNotNull(hookEvent, "no hook event; events: " + events(c));
            String out = hookEvent.message();
            assertTrue(out.startsWith("exit 0"), out);
            // the whole output is recorded, not only its first line: pg_rewind's own lines, then the script's last
            assertTrue(out.contains("pg_rewind: Done!"), "pg_rewind did not rewind: " + out);
            assertTrue(out.contains("rejoined " + oldName + " as a standby of " + target.host() + ":" + target.port()), out);
            // the harness's crash clean-up kills what node.pid names: make that the server the hook started
            Path data = oldPrimary.directory().resolve("data");
            Files.writeString(oldPrimary.directory().resolve("node.pid"), Files.readAllLines(data.resolve("postmaster.pid")).get(0) + "\n");

            st.execute("INSERT INTO rj VALUES (1001, 'after the switchover')");
        }

        // the old primary replays from the new primary: in recovery, streaming, and it has the new row
        await("old primary replaying the new primary's row 1001", () -> {
            try (Connection c = cluster.connectAdmin(oldPrimary); Statement st = c.createStatement()) {
                return "t".equals(one(st, "SELECT pg_is_in_recovery()"))
                        && "1".equals(one(st, "SELECT count(*) FROM rj WHERE id = 1001"))
                        && "streaming".equals(one(st, "SELECT status FROM pg_stat_wal_receiver"));
            } catch (SQLException e) {
                return false;
            }
        }, () -> tail(oldPrimary.directory().resolve("data").resolve("rejoin.log")));
        try (Connection c = cluster.connectAdmin(oldPrimary); Statement st = c.createStatement()) {
            assertEquals("201", one(st, "SELECT count(*) FROM rj"), "rows written before the switchover");
            assertEquals("2", one(st, "SELECT received_tli FROM pg_stat_wal_receiver"), "follows the new primary's timeline");
        }
        try (Connection c = cluster.connectAdmin(target); Statement st = c.createStatement()) {
            assertEquals("streaming", one(st, "SELECT state FROM pg_stat_replication WHERE application_name = '"
                    + oldPrimary.name() + "'"), "the new primary's pg_stat_replication lists the old primary");
        }

        // Sluice sees it as a healthy replica again and routes reads to it (the only replica now)
        try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement()) {
            SluiceAdmin admin = c.unwrap(SluiceAdmin.class);
            await("old primary an UP replica in Sluice's status", () -> {
                ClusterStatus.NodeView v = admin.clusterStatus().node(oldName);
                return v != null && "REPLICA".equals(v.role()) && "UP".equals(v.state());
            }, () -> admin.clusterStatus().nodes().toString());
            assertEquals(targetName, admin.clusterStatus().primary());
            assertEquals(String.valueOf(oldPrimary.port()), one(st, "/* sluice:replica */ SELECT inet_server_port()"));
            assertEquals("after the switchover", one(st, "/* sluice:replica */ SELECT note FROM rj WHERE id = 1001"));
        }
    }

    @Test
    void aFailingHookIsReportedAndDoesNotUndoThePromotion() throws Exception {
        cluster = Clusters.startPostgres("rejoin-fail", 1);
        DbNode target = cluster.replicas().get(0);
        String targetName = name(target);
        // reads the event from stdin, writes on both streams, fails
        String hook = "cat; echo; echo 'pager unreachable' >&2; exit 3";
        try (Connection c = DriverManager.getConnection(url(hook)); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE rf (id int PRIMARY KEY)");
            FailoverResult r = c.unwrap(SluiceAdmin.class).switchover(targetName, false);
            r.steps().forEach(s -> System.out.println("[rejoin-fail]   " + s));
            assertTrue(r.promoted(), r.message() + " " + r.steps());

            EventLog.Event failed = event(c, "hook-failed", targetName);
            assertNotNull(failed, "no hook-failed event; events: " + events(c));
            assertTrue(failed.message().startsWith("exit 3"), failed.message());
            assertTrue(failed.message().contains("\"event\":\"promotion\"") && failed.message().contains("\"name\":\"" + targetName + "\""),
                    "the hook got the event on stdin and all its output is recorded: " + failed.message());
            assertTrue(failed.message().contains("pager unreachable"), failed.message());
            assertTrue(r.steps().stream().anyMatch(s -> s.startsWith("hook-failed " + targetName)), r.steps().toString());

            // the promotion stands: writes go to the new primary
            assertEquals(targetName, c.unwrap(SluiceAdmin.class).clusterStatus().primary());
            st.execute("INSERT INTO rf VALUES (1)");
            assertEquals(String.valueOf(target.port()), one(st, "/* sluice:primary */ SELECT inet_server_port()"));
        }
        try (Connection c = cluster.connectAdmin(target); Statement st = c.createStatement()) {
            assertEquals("f", one(st, "SELECT pg_is_in_recovery()"));
            assertEquals("1", one(st, "SELECT count(*) FROM rf"));
        }
    }

    /**
     * The test clusters run with full_page_writes=off and without wal_log_hints; pg_rewind needs
     * full_page_writes on the source (the new primary) and wal_log_hints (or checksums) on the target, as
     * recorded in its control file at start-up: hence the restart of the primary.
     */
    private void enableRewindPrerequisites() throws Exception {
        for (DbNode n : cluster.nodes()) {
            try (Connection c = cluster.connectAdmin(n); Statement st = c.createStatement()) {
                st.execute("ALTER SYSTEM SET wal_log_hints = on");
                st.execute("ALTER SYSTEM SET full_page_writes = on");
                st.execute("SELECT pg_reload_conf()");
            }
        }
        DbNode primary = cluster.primary();
        cluster.stop(primary);
        cluster.start(primary);
        try (Connection c = cluster.connectAdmin(primary); Statement st = c.createStatement()) {
            assertEquals("on", one(st, "SHOW wal_log_hints"));
            assertEquals("on", one(st, "SHOW full_page_writes"));
        }
        DbNode replica = cluster.replicas().get(0);
        await("replica full_page_writes on and streaming again", () -> {
            try (Connection c = cluster.connectAdmin(replica); Statement st = c.createStatement()) {
                return "on".equals(one(st, "SHOW full_page_writes"))
                        && "streaming".equals(one(st, "SELECT status FROM pg_stat_wal_receiver"));
            } catch (SQLException e) {
                return false;
            }
        }, () -> tail(replica.logFile()));
    }

    private String url(String hook) {
        String hosts = cluster.nodes().stream().map(RejoinHookIT::name).collect(Collectors.joining(","));
        return "jdbc:sluice:postgresql://" + hosts + "/" + cluster.database() + "?user=" + cluster.user()
                + "&password=" + cluster.password() + "&admin-user=postgres"
                + "&failover-hook=" + URLEncoder.encode(hook, StandardCharsets.UTF_8);
    }

    private static String name(DbNode n) {
        return n.host() + ":" + n.port();
    }

    private static EventLog.Event event(Connection c, String type, String node) throws SQLException {
        return c.unwrap(SluiceAdmin.class).clusterStatus().events().stream()
                .filter(e -> e.type().equals(type) && node.equals(e.node())).reduce((a, b) -> b).orElse(null);
    }

    private static List<String> events(Connection c) throws SQLException {
        List<String> out = new ArrayList<>();
        for (EventLog.Event e : c.unwrap(SluiceAdmin.class).clusterStatus().events()) {
            out.add(e.type() + " " + e.node() + ": " + e.message());
        }
        return out;
    }

    private static String one(Statement st, String sql) throws SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    private static void await(String what, BooleanSupplier condition, Supplier<String> diagnostics) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out after 20 s waiting for: " + what + "\n" + diagnostics.get());
            }
            Thread.sleep(50);
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return log + ":\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e + ")";
        }
    }

    private static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }

    /** Stops a server the hook started (as the postgres OS user when we are root, like the harness). */
    private static void pgCtlStop(DbNode n) throws Exception {
        Path data = n.directory().resolve("data");
        if (!Files.exists(data.resolve("postmaster.pid"))) {
            return;
        }
        List<String> cmd = new ArrayList<>();
        if ("root".equals(System.getProperty("user.name"))) {
            cmd.addAll(List.of("runuser", "-u", "postgres", "--"));
        }
        cmd.addAll(List.of(PG_BIN.resolve("pg_ctl").toString(), "-D", data.toString(), "-m", "immediate", "-w", "stop"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
    }
}
