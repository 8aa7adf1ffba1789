package dev.sluice.testsupport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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

/** MariaDB primary + GTID replicas; mariadbd runs as a child of this JVM ({@code --user=root} when root). */
final class MariaDbCluster extends AbstractCluster {
    static final String REPL_USER = "repl";
    static final String REPL_PASSWORD = "repl-pw";
    private static final String BOOTSTRAP_SQL = String.join("\n",
            "FLUSH PRIVILEGES;",
            "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1';",
            "GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;",
            "CREATE USER IF NOT EXISTS '" + REPL_USER + "'@'%' IDENTIFIED BY '" + REPL_PASSWORD + "';",
            "GRANT REPLICATION SLAVE ON *.* TO '" + REPL_USER + "'@'%';",
            "");
    private static Path template;

    private MariaDbCluster(Path dir) {
        super(dir);
    }

    static String mariadbd() {
        return System.getProperty("sluice.mariadbd", "/usr/sbin/mariadbd");
    }

    static String installDb() {
        return System.getProperty("sluice.mariadbInstallDb", "/usr/bin/mariadb-install-db");
    }

    static void checkBinaries() {
        for (String b : List.of(mariadbd(), installDb())) {
            if (!Files.isExecutable(Path.of(b))) {
                throw new IllegalStateException("MariaDB binary " + b + " is missing (install mariadb-server,"
                        + " or set -Dsluice.mariadbd=<path> / -Dsluice.mariadbInstallDb=<path>)");
            }
        }
    }

    static MariaDbCluster create(String name, int replicas) {
        checkBinaries();
        Path tpl = template();
        MariaDbCluster c = new MariaDbCluster(Janitor.newClusterDir(name, false));
        try {
            c.init(tpl, replicas);
            return c;
        } catch (RuntimeException | SQLException | java.util.concurrent.TimeoutException e) {
            c.close();
            if (e instanceof RuntimeException re) {
                throw re;
            }
            throw new ClusterException("Could not set up MariaDB cluster: " + e.getMessage(), e);
        }
    }

    /** A pristine data dir made once per JVM by mariadb-install-db and copied for every node. */
    private static synchronized Path template() {
        if (template != null && Files.isDirectory(template)) {
            return template;
        }
        Path tdir = Janitor.newClusterDir("mariadb-template", false);
        Janitor.deleteAtExit(tdir);
        Path sql = tdir.resolve("bootstrap.sql");
        ProcessRunner.writeString(sql, BOOTSTRAP_SQL);
        List<String> cmd = new ArrayList<>(List.of(installDb(), "--no-defaults", "--datadir=" + tdir.resolve("data"),
                "--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve",
                "--extra-file=" + sql, "--innodb-log-file-size=16M", "--innodb-buffer-pool-size=32M"));
        if (OsUser.isRoot()) {
            cmd.add("--user=root");
        }
        ProcessRunner.Result r = ProcessRunner.run(cmd, tdir, START_TIMEOUT);
        if (r.exitCode() != 0) {
            throw new ClusterException("mariadb-install-db failed (exit " + r.exitCode() + "):\n" + r.output());
        }
        template = tdir.resolve("data");
        return template;
    }

    @Override
    public Engine engine() {
        return Engine.MARIADB;
    }

    private void init(Path tpl, int replicas) throws SQLException, java.util.concurrent.TimeoutException {
        DbNode primary = newNode(tpl, "mariadb-primary", 1, DbNode.Role.PRIMARY);
        startProcess(primary, true);
        try (Connection c = adminConnection(primary); Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE " + DATABASE + " CHARACTER SET utf8mb4");
            st.execute("CREATE USER '" + APP_USER + "'@'%' IDENTIFIED BY '" + APP_PASSWORD + "'");
            st.execute("GRANT ALL PRIVILEGES ON " + DATABASE + ".* TO '" + APP_USER + "'@'%'");
        }
        List<DbNode> rs = new ArrayList<>();
        for (int i = 1; i <= replicas; i++) {
            rs.add(newNode(tpl, "mariadb-replica" + i, i + 1, DbNode.Role.REPLICA));
        }
        inParallel(rs, r -> {
            startProcess(r, true);
            repoint(r, primary);
        });
        waitForReplication(START_TIMEOUT);
    }

    private DbNode newNode(Path tpl, String name, int id, DbNode.Role role) {
        DbNode n = new DbNode(Engine.MARIADB, name, id, dir.resolve(name), Ports.freePort(), role);
        FileOps.mkdir(n.directory().resolve("tmp"));
        FileOps.copyTree(tpl, n.dataDir());
        nodes.add(n);
        return n;
    }

    private Path socket(DbNode n) {
        Path s = n.directory().resolve("mariadb.sock");
        return s.toString().length() > 100 ? Path.of("/tmp", "sluice-" + dir.getFileName() + "-" + n.serverId() + ".sock") : s;
    }

    private List<String> command(DbNode n) {
        List<String> cmd = new ArrayList<>(List.of(mariadbd(), "--no-defaults"));
        if (OsUser.isRoot()) {
            cmd.add("--user=root");
        }
        cmd.addAll(List.of(
                "--datadir=" + n.dataDir(), "--tmpdir=" + n.directory().resolve("tmp"),
                "--socket=" + socket(n), "--pid-file=" + n.directory().resolve("mariadbd.pid"),
                "--log-error=" + n.logFile(), "--port=" + n.port(), "--bind-address=127.0.0.1",
                "--server-id=" + n.serverId(), "--log-bin=mariadb-bin", "--relay-log=relay-bin",
                "--log-slave-updates", "--binlog-format=ROW", "--gtid-strict-mode=ON", "--skip-name-resolve",
                "--read-only=" + (n.role() == DbNode.Role.REPLICA ? "ON" : "OFF"),
                "--innodb-buffer-pool-size=32M", "--innodb-log-file-size=16M", "--sync-binlog=0",
                "--innodb-flush-log-at-trx-commit=2", "--innodb-doublewrite=0", "--performance-schema=OFF",
                "--character-set-server=utf8mb4", "--collation-server=utf8mb4_general_ci",
                "--slave-net-timeout=10", "--max-connections=200"));
        return cmd;
    }

    @Override
    protected void startProcess(DbNode n, boolean mayChangePort) {
        for (int attempt = 1; ; attempt++) {
            long mark = FileOps.size(n.logFile());
            Process p;
            try {
                p = new ProcessBuilder(command(n))
                        .directory(n.directory().toFile())
                        .redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.appendTo(n.logFile().toFile()))
                        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                        .start();
            } catch (IOException e) {
                throw startFailure(n, "cannot exec " + mariadbd() + ": " + e.getMessage(), e);
            }
            recordPid(n, p.toHandle());
            SQLException last = awaitReady(n, p);
            if (last == null) {
                return;
            }
            if (p.isAlive()) {
                ProcessRunner.killTree(p.toHandle(), STOP_TIMEOUT);
                throw startFailure(n, "not accepting connections after " + START_TIMEOUT.toSeconds() + " s", last);
            }
            if (mayChangePort && attempt < START_ATTEMPTS && Ports.isPortClash(FileOps.linesSince(n.logFile(), mark))) {
                n.port(Ports.freePort());
                continue;
            }
            throw startFailure(n, "mariadbd exited with " + p.exitValue(), last);
        }
    }

    /** Polls until the node accepts connections; null when ready, else the last connect error. */
    private SQLException awaitReady(DbNode n, Process p) {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        SQLException last = new SQLException("never tried");
        while (System.nanoTime() < deadline && p.isAlive()) {
            try {
                adminConnection(n).close();
                return null;
            } catch (SQLException e) {
                last = e;
            }
            ProcessRunner.sleep(25);
        }
        return last;
    }

    @Override
    protected void stopProcess(DbNode n) {
        n.handle().destroy(); // SIGTERM: clean shutdown
    }

    private static Connection connect(DbNode n, String db) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "root");
        p.setProperty("connectTimeout", "10000");
        return DriverManager.getConnection("jdbc:mariadb://127.0.0.1:" + n.port() + "/" + db, p);
    }

    @Override
    public Connection connectAdmin(DbNode n) throws SQLException {
        checkMember(n);
        return connect(n, DATABASE);
    }

    @Override
    protected Connection adminConnection(DbNode n) throws SQLException {
        return connect(n, "");
    }

    @Override
    protected String primaryPosition(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT @@gtid_binlog_pos")) {
            rs.next();
            return rs.getString(1);
        }
    }

    @Override
    protected boolean hasApplied(Connection c, String gtidPos, Duration maxWait) throws SQLException {
        double secs = Math.max(0.0, Math.min(maxWait.toMillis(), 3_600_000L) / 1000.0);
        try (PreparedStatement ps = c.prepareStatement("SELECT MASTER_GTID_WAIT(?, ?)")) {
            ps.setString(1, gtidPos);
            ps.setDouble(2, secs);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1) == 0;
            }
        }
    }

    @Override
    protected void doPromote(DbNode n) throws SQLException {
        try (Connection c = adminConnection(n); Statement st = c.createStatement()) {
            // Apply whatever was already received before cutting the replica loose.
            st.execute("STOP SLAVE");
            String ioPos = "";
            try (ResultSet rs = st.executeQuery("SHOW SLAVE STATUS")) {
                if (rs.next()) {
                    ioPos = rs.getString("Gtid_IO_Pos");
                }
            }
            st.execute("CHANGE MASTER TO MASTER_DELAY = 0");
            st.execute("START SLAVE SQL_THREAD");
            try (PreparedStatement ps = c.prepareStatement("SELECT MASTER_GTID_WAIT(?, 30)")) {
                ps.setString(1, ioPos == null ? "" : ioPos);
                ps.executeQuery().close();
            }
            st.execute("STOP SLAVE");
            st.execute("RESET SLAVE ALL");
            st.execute("SET GLOBAL read_only = OFF");
        }
    }

    @Override
    protected void repoint(DbNode replica, DbNode primary) throws SQLException {
        try (Connection c = adminConnection(replica); Statement st = c.createStatement()) {
            st.execute("STOP SLAVE");
            st.execute("CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = " + primary.port()
                    + ", MASTER_USER = '" + REPL_USER + "', MASTER_PASSWORD = '" + REPL_PASSWORD + "'"
                    + ", MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1");
            st.execute(replica.paused() ? "START SLAVE IO_THREAD" : "START SLAVE");
        }
    }

    @Override
    protected void doPause(DbNode replica, boolean pause) throws SQLException {
        try (Connection c = adminConnection(replica); Statement st = c.createStatement()) {
            st.execute(pause ? "STOP SLAVE SQL_THREAD" : "START SLAVE SQL_THREAD");
        }
    }

    @Override
    protected void doSetApplyDelay(DbNode replica, Duration d) throws SQLException {
        long secs = (d.toMillis() + 999) / 1000;
        try (Connection c = adminConnection(replica); Statement st = c.createStatement()) {
            st.execute("STOP SLAVE");
            st.execute("CHANGE MASTER TO MASTER_DELAY = " + secs);
            st.execute(replica.paused() ? "START SLAVE IO_THREAD" : "START SLAVE");
        }
    }
}
