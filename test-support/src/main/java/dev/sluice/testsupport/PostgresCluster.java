package dev.sluice.testsupport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/** PostgreSQL 15 primary + streaming hot-standby replicas (physical slots), run as the postgres OS user. */
final class PostgresCluster extends AbstractCluster {
    private static final String CONF = String.join("\n",
            "",
            "# ---- sluice test tuning ----",
            "listen_addresses = '127.0.0.1'",
            "fsync = off",
            "synchronous_commit = off",
            "full_page_writes = off",
            "shared_buffers = 16MB",
            "max_connections = 40",
            "wal_level = replica",
            "max_wal_senders = 10",
            "max_replication_slots = 10",
            "wal_keep_size = 64MB",
            "max_wal_size = 256MB",
            "hot_standby = on",
            "hot_standby_feedback = on",
            "wal_receiver_status_interval = 1s",
            "wal_retrieve_retry_interval = 200ms",
            "password_encryption = scram-sha-256",
            "logging_collector = off",
            "log_line_prefix = '%m [%p] %q%u@%d '",
            "include_if_exists = 'sluice-node.conf'",
            "");
    private static final String HBA = String.join("\n",
            "local all all trust",
            "local replication all trust",
            "host all postgres 127.0.0.1/32 trust",
            "host replication postgres 127.0.0.1/32 trust",
            "host all all 127.0.0.1/32 scram-sha-256",
            "");

    private static Path template;
    private final Path bin;

    private PostgresCluster(Path dir, Path bin) {
        super(dir);
        this.bin = bin;
    }

    static Path binDir() {
        return Path.of(System.getProperty("sluice.pgBin", "/usr/lib/postgresql/15/bin"));
    }

    static void checkBinaries() {
        Path bin = binDir();
        if (!Files.isDirectory(bin)) {
            throw new IllegalStateException("PostgreSQL 15 binary directory " + bin + " is missing"
                    + " (install postgresql-15 or set -Dsluice.pgBin=<dir>)");
        }
        for (String tool : List.of("initdb", "pg_ctl", "postgres", "pg_basebackup")) {
            if (!Files.isExecutable(bin.resolve(tool))) {
                throw new IllegalStateException("PostgreSQL binary " + bin.resolve(tool) + " is missing"
                        + " (install postgresql-15 or set -Dsluice.pgBin=<dir>)");
            }
        }
    }

    static PostgresCluster create(String name, int replicas) {
        checkBinaries();
        PostgresCluster c = new PostgresCluster(Janitor.newClusterDir(name, true), binDir());
        try {
            c.init(replicas);
            return c;
        } catch (RuntimeException | SQLException e) {
            c.close();
            if (e instanceof RuntimeException re) {
                throw re;
            }
            throw new ClusterException("Could not set up PostgreSQL cluster: " + e.getMessage(), e);
        }
    }

    @Override
    public Engine engine() {
        return Engine.POSTGRESQL;
    }

    /** initdb output with our configuration, made once per JVM and copied for every cluster's primary. */
    private static synchronized Path template(Path bin) {
        if (template != null && Files.isDirectory(template)) {
            return template;
        }
        Path tdir = Janitor.newClusterDir("pg-template", true);
        Janitor.deleteAtExit(tdir);
        OsUser.chownToPostgres(tdir);
        Path data = tdir.resolve("data");
        ProcessRunner.runChecked(OsUser.asPostgres(List.of(bin.resolve("initdb").toString(), "-D", data.toString(),
                "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync", "--no-instructions")),
                tdir, START_TIMEOUT);
        try {
            Files.writeString(data.resolve("postgresql.conf"), CONF, StandardOpenOption.APPEND);
            Files.writeString(data.resolve("pg_hba.conf"), HBA);
        } catch (IOException e) {
            throw new ClusterException("Cannot write config in " + data, e);
        }
        template = data;
        return template;
    }

    private void init(int replicas) throws SQLException {
        DbNode primary = newNode("pg-primary", 1, DbNode.Role.PRIMARY);
        FileOps.copyTree(template(bin), primary.dataDir());
        OsUser.chownToPostgres(primary.dataDir());
        startProcess(primary, true);
        try (Connection c = adminConnection(primary); Statement st = c.createStatement()) {
            st.execute("CREATE ROLE " + APP_USER + " LOGIN PASSWORD '" + APP_PASSWORD + "'");
            st.execute("CREATE DATABASE " + DATABASE + " OWNER " + APP_USER + " STRATEGY = FILE_COPY");
            st.execute("GRANT ALL PRIVILEGES ON DATABASE " + DATABASE + " TO " + APP_USER);
        }
        List<DbNode> rs = new ArrayList<>();
        for (int i = 1; i <= replicas; i++) {
            rs.add(newNode("pg-replica" + i, i + 1, DbNode.Role.REPLICA));
        }
        inParallel(rs, r -> {
            ProcessRunner.runChecked(OsUser.asPostgres(List.of(tool("pg_basebackup"), "-d", conninfo(primary, r),
                    "-D", r.dataDir().toString(), "-R", "-C", "-S", slot(r), "-X", "stream", "-c", "fast",
                    "--no-sync", "--no-manifest")), r.directory(), START_TIMEOUT);
            startProcess(r, true);
        });
    }

    private DbNode newNode(String name, int id, DbNode.Role role) {
        DbNode n = new DbNode(Engine.POSTGRESQL, name, id, dir.resolve(name), Ports.freePort(), role);
        FileOps.mkdir(n.directory());
        try {
            Files.setPosixFilePermissions(n.directory(), PosixFilePermissions.fromString("rwx------"));
        } catch (IOException e) {
            throw new ClusterException("Cannot chmod " + n.directory(), e);
        }
        OsUser.chownToPostgres(n.directory());
        nodes.add(n);
        return n;
    }

    private String tool(String name) {
        return bin.resolve(name).toString();
    }

    private static String slot(DbNode n) {
        return n.name().replace('-', '_');
    }

    private static String conninfo(DbNode upstream, DbNode replica) {
        return "host=127.0.0.1 port=" + upstream.port() + " user=postgres application_name=" + replica.name();
    }

    /** Per-node settings, included from postgresql.conf (the file is copied by pg_basebackup, then rewritten). */
    private void writeNodeConf(DbNode n) {
        String socketDir = n.directory().toString();
        if (socketDir.length() > 90) { // unix socket paths are limited to ~107 bytes: use TCP only
            socketDir = "";
        }
        Path f = n.dataDir().resolve("sluice-node.conf");
        ProcessRunner.writeString(f, "port = " + n.port() + "\nunix_socket_directories = '" + socketDir
                + "'\ncluster_name = '" + n.name() + "'\n");
        OsUser.chownToPostgres(f);
    }

    @Override
    protected void startProcess(DbNode n, boolean mayChangePort) {
        if (n.handle() != null) {
            removeStaleLockFiles(n);
        }
        for (int attempt = 1; ; attempt++) {
            writeNodeConf(n);
            long mark = FileOps.size(n.logFile());
            ProcessRunner.Result r = ProcessRunner.run(OsUser.asPostgres(List.of(tool("pg_ctl"), "-D",
                    n.dataDir().toString(), "-l", n.logFile().toString(), "-w", "-t", "60", "-s", "start")),
                    n.directory(), START_TIMEOUT.plusSeconds(10));
            if (r.exitCode() == 0) {
                long pid = ProcessRunner.readPid(n.dataDir().resolve("postmaster.pid"));
                ProcessHandle h = ProcessHandle.of(pid).orElseThrow(
                        () -> startFailure(n, "postmaster.pid has no live pid", null));
                recordPid(n, h);
                return;
            }
            List<String> fresh = FileOps.linesSince(n.logFile(), mark);
            if (mayChangePort && attempt < START_ATTEMPTS && Ports.isPortClash(fresh)) {
                n.port(Ports.freePort());
                continue;
            }
            throw startFailure(n, "pg_ctl start exited with " + r.exitCode() + ": " + r.output().trim(), null);
        }
    }

    /**
     * After a kill -9 the old postmaster may linger as a zombie until PID 1 reaps it; PostgreSQL would take
     * its pid in the lock files for a live server. All its processes are gone by now, so drop the lock files.
     */
    private static void removeStaleLockFiles(DbNode n) {
        try {
            Files.deleteIfExists(n.dataDir().resolve("postmaster.pid"));
            Files.deleteIfExists(n.directory().resolve(".s.PGSQL." + n.port() + ".lock"));
        } catch (IOException e) {
            throw new ClusterException("Cannot remove stale lock files of " + n, e);
        }
    }

    @Override
    protected void stopProcess(DbNode n) {
        ProcessRunner.runChecked(OsUser.asPostgres(List.of(tool("pg_ctl"), "-D", n.dataDir().toString(),
                "-m", "fast", "-w", "-t", Long.toString(STOP_TIMEOUT.toSeconds()), "-s", "stop")),
                n.directory(), STOP_TIMEOUT.plusSeconds(10));
    }

    private static Connection connect(DbNode n, String db) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        p.setProperty("connectTimeout", "10");
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + n.port() + "/" + db, p);
    }

    @Override
    public Connection connectAdmin(DbNode n) throws SQLException {
        checkMember(n);
        return connect(n, DATABASE);
    }

    @Override
    protected Connection adminConnection(DbNode n) throws SQLException {
        return connect(n, "postgres");
    }

    @Override
    protected String primaryPosition(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            // A synchronously committed transaction that wrote WAL flushes all WAL inserted before it, even
            // though the cluster runs with synchronous_commit=off (walsenders only ship flushed WAL); the
            // flush LSN after it is what the replicas must reach.
            st.execute("SET synchronous_commit = on");
            st.execute("SELECT pg_logical_emit_message(true, 'sluice', 'sync')");
            try (ResultSet rs = st.executeQuery("SELECT pg_current_wal_flush_lsn()")) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    @Override
    protected boolean hasApplied(Connection c, String lsn, Duration maxWait) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT coalesce(pg_last_wal_replay_lsn() >= ?::pg_lsn, false)")) {
            ps.setString(1, lsn);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    @Override
    protected void doPromote(DbNode n) throws SQLException {
        try (Connection c = adminConnection(n); Statement st = c.createStatement()) {
            if (n.paused()) {
                st.execute("SELECT pg_wal_replay_resume()");
            }
            try (ResultSet rs = st.executeQuery("SELECT pg_promote(true, 60)")) {
                rs.next();
                if (!rs.getBoolean(1)) {
                    throw new ClusterException("pg_promote() on " + n + " did not finish within 60 s");
                }
            }
            st.execute("ALTER SYSTEM RESET recovery_min_apply_delay");
            st.execute("SELECT pg_reload_conf()");
        }
    }

    @Override
    protected void repoint(DbNode replica, DbNode primary) throws SQLException {
        try (Connection c = adminConnection(primary);
             PreparedStatement ps = c.prepareStatement("SELECT pg_create_physical_replication_slot(?, true) "
                     + "WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = ?)")) {
            ps.setString(1, slot(replica));
            ps.setString(2, slot(replica));
            ps.executeQuery().close();
        }
        try (Connection c = adminConnection(replica); Statement st = c.createStatement()) {
            st.execute("ALTER SYSTEM SET primary_conninfo = '" + conninfo(primary, replica) + "'");
            st.execute("ALTER SYSTEM SET primary_slot_name = '" + slot(replica) + "'");
            st.execute("SELECT pg_reload_conf()");
        }
    }

    @Override
    protected void doPause(DbNode replica, boolean pause) throws SQLException {
        try (Connection c = adminConnection(replica); Statement st = c.createStatement()) {
            if (!pause) {
                st.execute("SELECT pg_wal_replay_resume()");
                return;
            }
            st.execute("SELECT pg_wal_replay_pause()");
            // No record is applied once a pause is requested; wait briefly for the confirmation anyway.
            long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
            while (System.nanoTime() < deadline) {
                try (ResultSet rs = st.executeQuery("SELECT pg_get_wal_replay_pause_state()")) {
                    rs.next();
                    if ("paused".equals(rs.getString(1))) {
                        return;
                    }
                }
                ProcessRunner.sleep(10);
            }
        }
    }

    @Override
    protected void doSetApplyDelay(DbNode replica, Duration d) throws SQLException {
        try (Connection c = adminConnection(replica); Statement st = c.createStatement()) {
            st.execute("ALTER SYSTEM SET recovery_min_apply_delay = '" + d.toMillis() + "ms'");
            st.execute("SELECT pg_reload_conf()");
        }
    }
}
