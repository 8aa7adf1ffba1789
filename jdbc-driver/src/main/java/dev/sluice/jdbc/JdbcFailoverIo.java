package dev.sluice.jdbc;

import dev.sluice.core.config.ClusterConfig;
import dev.sluice.core.config.Engine;
import dev.sluice.core.config.NodeConfig;
import dev.sluice.core.failover.FailoverIo;
import dev.sluice.core.failover.ReplicaReport;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Locale;
import java.util.Properties;

/**
 * Failover over JDBC with the admin credentials. Re-pointing keeps each replica's own replication
 * credentials: PostgreSQL's primary_conninfo and MariaDB's master info are edited, not rewritten.
 */
final class JdbcFailoverIo implements FailoverIo {
    private final ClusterConfig config;
    private final boolean pg;

    JdbcFailoverIo(ClusterConfig config) {
        this.config = config;
        this.pg = config.engine() == Engine.POSTGRESQL;
    }

    private Connection admin(NodeConfig n) throws SQLException {
        Properties p = NodeUrls.probeProperties(config);
        // connect fast (probe timeout), but let admin statements run: waits for replay take seconds
        if (pg) {
            p.setProperty("socketTimeout", "60");
        } else {
            p.setProperty("socketTimeout", "3600000"); // MASTER_GTID_WAIT may wait out a MASTER_DELAY
        }
        if (config.adminUser() != null) {
            p.setProperty("user", config.adminUser());
        }
        if (config.adminPassword() != null) {
            p.setProperty("password", config.adminPassword());
        } else {
            p.remove("password");
        }
        return DriverManager.getConnection(NodeUrls.url(config, n), p);
    }

    private static String one(Statement st, String sql) throws SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    private static boolean mariadb(Statement st) throws SQLException {
        return one(st, "SELECT @@version").toLowerCase(Locale.ROOT).contains("mariadb");
    }

    @Override
    public ReplicaReport report(NodeConfig r) throws SQLException {
        try (Connection c = admin(r); Statement st = c.createStatement()) {
            if (pg) {
                String status = one(st, "SELECT status FROM pg_stat_wal_receiver");
                String received = one(st, "SELECT pg_last_wal_receive_lsn()::text");
                String replayed = one(st, "SELECT pg_last_wal_replay_lsn()::text");
                return new ReplicaReport("streaming".equals(status), received, replayed,
                        "wal receiver " + (status == null ? "not running" : status));
            }
            boolean maria = mariadb(st);
            try (ResultSet rs = st.executeQuery(maria ? "SHOW SLAVE STATUS" : "SHOW REPLICA STATUS")) {
                if (!rs.next()) {
                    return new ReplicaReport(false, null, null, "no replication configured");
                }
                String io = rs.getString(maria ? "Slave_IO_Running" : "Replica_IO_Running");
                String received = maria ? rs.getString("Gtid_IO_Pos") : rs.getString("Retrieved_Gtid_Set");
                String err = rs.getString(maria ? "Last_IO_Error" : "Last_IO_Error");
                String replayed = maria ? one(st, "SELECT @@gtid_slave_pos") : one(st, "SELECT @@GLOBAL.gtid_executed");
                return new ReplicaReport("Yes".equalsIgnoreCase(io), received, replayed,
                        "IO thread " + io + (err == null || err.isBlank() ? "" : ", last error: " + err));
            }
        }
    }

    @Override
    public void applyReceived(NodeConfig r, Duration max) throws SQLException {
        try (Connection c = admin(r); Statement st = c.createStatement()) {
            long deadline = System.nanoTime() + max.toNanos();
            if (pg) {
                // a delayed standby must apply now what it holds: it may be the only one with acknowledged writes
                st.execute("ALTER SYSTEM SET recovery_min_apply_delay = 0");
                st.execute("SELECT pg_reload_conf()");
                st.execute("SELECT pg_wal_replay_resume() WHERE pg_is_wal_replay_paused()");
                // the receive LSN may end inside a partial record that will never replay: done when replay
                // reaches it, or stops advancing for 300 ms
                String lastReplay = null;
                long stableSince = System.nanoTime();
                while (!"t".equals(one(st, "SELECT pg_last_wal_replay_lsn() >= pg_last_wal_receive_lsn()"))) {
                    String replay = one(st, "SELECT pg_last_wal_replay_lsn()::text");
                    if (!replay.equals(lastReplay)) {
                        lastReplay = replay;
                        stableSince = System.nanoTime();
                    } else if (System.nanoTime() - stableSince > 300_000_000L) {
                        return;
                    }
                    if (System.nanoTime() > deadline) {
                        throw new SQLException("replay did not reach the received position in " + max.toMillis() + " ms");
                    }
                    sleep(20);
                }
                return;
            }
            boolean maria = mariadb(st);
            if (maria) {
                String io = null;
                try (ResultSet rs = st.executeQuery("SHOW SLAVE STATUS")) {
                    if (rs.next()) {
                        io = rs.getString("Gtid_IO_Pos");
                    }
                }
                // apply what is in the relay log (CHANGE MASTER would purge it: a MASTER_DELAY is waited out instead)
                long delay = 0;
                try (ResultSet rs = st.executeQuery("SHOW SLAVE STATUS")) {
                    if (rs.next()) {
                        delay = rs.getLong("SQL_Delay");
                    }
                }
                st.execute("START SLAVE SQL_THREAD");
                if (io != null && !io.isBlank()) {
                    long secs = Math.max(max.toSeconds(), delay + 10);
                    String res = one(st, "SELECT MASTER_GTID_WAIT('" + io.replace("'", "") + "', " + secs + ")");
                    if (!"0".equals(res)) {
                        throw new SQLException("MASTER_GTID_WAIT(" + io + ") returned " + res);
                    }
                }
            } else {
                st.execute("START REPLICA SQL_THREAD");
            }
        }
    }

    @Override
    public void promote(NodeConfig r) throws SQLException {
        try (Connection c = admin(r); Statement st = c.createStatement()) {
            if (pg) {
                if ("t".equals(one(st, "SELECT pg_is_in_recovery()"))) {
                    String ok = one(st, "SELECT pg_promote(true, 10)");
                    if (!"t".equals(ok)) {
                        throw new SQLException("pg_promote() did not complete within 10 s");
                    }
                }
                return;
            }
            if (mariadb(st)) {
                st.execute("STOP SLAVE");
                st.execute("RESET SLAVE ALL");
            } else {
                st.execute("STOP REPLICA");
                st.execute("RESET REPLICA ALL");
                st.execute("SET GLOBAL super_read_only = OFF");
            }
            st.execute("SET GLOBAL read_only = OFF");
        }
    }

    @Override
    public String repoint(NodeConfig r, NodeConfig primary) throws SQLException {
        try (Connection c = admin(r); Statement st = c.createStatement()) {
            if (pg) {
                return repointPostgres(st, r, primary);
            }
            if (mariadb(st)) {
                st.execute("STOP SLAVE");
                st.execute("CHANGE MASTER TO MASTER_HOST = '" + primary.host() + "', MASTER_PORT = " + primary.port()
                        + ", MASTER_USE_GTID = slave_pos");
                st.execute("START SLAVE");
            } else {
                st.execute("STOP REPLICA");
                st.execute("CHANGE REPLICATION SOURCE TO SOURCE_HOST = '" + primary.host() + "', SOURCE_PORT = " + primary.port()
                        + ", SOURCE_AUTO_POSITION = 1");
                st.execute("START REPLICA");
            }
            return "replicating from " + primary.name() + " by GTID";
        }
    }

    private String repointPostgres(Statement st, NodeConfig r, NodeConfig primary) throws SQLException {
        String conninfo = one(st, "SHOW primary_conninfo");
        String slot = one(st, "SHOW primary_slot_name");
        String updated = withHostPort(conninfo == null ? "" : conninfo, primary.host(), primary.port());
        if (slot != null && !slot.isBlank()) {
            // the new primary needs the replica's slot, or it would recycle WAL the replica still needs
            try (Connection np = admin(primary); Statement ps = np.createStatement()) {
                ps.execute("SELECT pg_create_physical_replication_slot('" + slot.replace("'", "") + "', true) "
                        + "WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = '" + slot.replace("'", "") + "')");
            }
        }
        st.execute("ALTER SYSTEM SET primary_conninfo = '" + updated.replace("'", "''") + "'");
        st.execute("SELECT pg_reload_conf()");
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (System.nanoTime() < deadline) {
            if ("streaming".equals(one(st, "SELECT status FROM pg_stat_wal_receiver"))) {
                return "streaming from " + primary.name();
            }
            sleep(50);
        }
        // typical cause: this replica received WAL the new primary never had (it is ahead): needs pg_rewind
        return "not streaming from " + primary.name() + " after 5 s: it may be ahead of the new primary and need pg_rewind";
    }

    /** Replaces host= and port= in a libpq conninfo string, keeping everything else (user, password, …). */
    static String withHostPort(String conninfo, String host, int port) {
        StringBuilder out = new StringBuilder();
        for (String kv : conninfo.trim().split("\\s+")) {
            if (kv.isEmpty() || kv.startsWith("host=") || kv.startsWith("port=") || kv.startsWith("hostaddr=")) {
                continue;
            }
            out.append(kv).append(' ');
        }
        return out.append("host=").append(host).append(" port=").append(port).toString();
    }

    @Override
    public void fence(NodeConfig old) throws Exception {
        String cmd = config.fenceCommand();
        if (cmd != null && !cmd.isBlank()) {
            ProcessBuilder pb = new ProcessBuilder("sh", "-c", cmd).redirectErrorStream(true);
            pb.environment().put("SLUICE_NODE_HOST", old.host());
            pb.environment().put("SLUICE_NODE_PORT", String.valueOf(old.port()));
            Process p = pb.start();
            if (!p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new SQLException("fence command failed or timed out");
            }
            return;
        }
        try (Connection c = admin(old); Statement st = c.createStatement()) {
            if (pg) {
                st.execute("ALTER SYSTEM SET default_transaction_read_only = on");
                st.execute("SELECT pg_reload_conf()");
                return;
            }
            if (!mariadb(st)) {
                st.execute("SET GLOBAL super_read_only = ON");
            }
            st.execute("SET GLOBAL read_only = ON");
        }
    }

    @Override
    public void unfence(NodeConfig primary) throws SQLException {
        try (Connection c = admin(primary); Statement st = c.createStatement()) {
            if (pg) {
                st.execute("ALTER SYSTEM RESET default_transaction_read_only");
                st.execute("SELECT pg_reload_conf()");
                return;
            }
            if (!mariadb(st)) {
                st.execute("SET GLOBAL super_read_only = OFF");
            }
            st.execute("SET GLOBAL read_only = OFF");
        }
    }

    @Override
    public String position(NodeConfig primary) throws SQLException {
        try (Connection c = admin(primary); Statement st = c.createStatement()) {
            if (pg) {
                return one(st, "SELECT pg_current_wal_insert_lsn()::text");
            }
            return one(st, mariadb(st) ? "SELECT @@gtid_binlog_pos" : "SELECT @@GLOBAL.gtid_executed");
        }
    }

    @Override
    public void waitForPosition(NodeConfig replica, String position, Duration max) throws SQLException {
        try (Connection c = admin(replica); Statement st = c.createStatement()) {
            long deadline = System.nanoTime() + max.toNanos();
            if (pg) {
                String lsn = position.replace("'", "");
                while (!"t".equals(one(st, "SELECT pg_last_wal_replay_lsn() >= '" + lsn + "'::pg_lsn"))) {
                    if (System.nanoTime() > deadline) {
                        throw new SQLException(replica.name() + " did not replay up to " + lsn + " in " + max.toMillis() + " ms");
                    }
                    sleep(10);
                }
                return;
            }
            String pos = position.replace("'", "").replace("\n", "");
            String fn = mariadb(st) ? "MASTER_GTID_WAIT" : "WAIT_FOR_EXECUTED_GTID_SET";
            String res = one(st, "SELECT " + fn + "('" + pos + "', " + Math.max(1, max.toSeconds()) + ")");
            if (!"0".equals(res)) {
                throw new SQLException(replica.name() + ": " + fn + "(" + pos + ") returned " + res);
            }
        }
    }

    @Override
    public String rejoin(NodeConfig oldPrimary, NodeConfig newPrimary) throws SQLException {
        if (pg) {
            // a PostgreSQL primary becomes a standby only by restarting with standby.signal: the rejoin hook's job
            return "PostgreSQL: left read-only and fenced; the failover-hook rejoins it as a standby (see docs/failover.md)";
        }
        try (Connection c = admin(oldPrimary); Statement st = c.createStatement()) {
            boolean maria = mariadb(st);
            if (maria) {
                st.execute("CHANGE MASTER TO MASTER_HOST = '" + newPrimary.host() + "', MASTER_PORT = " + newPrimary.port()
                        + ", MASTER_USER = '" + replicationUser() + "', MASTER_PASSWORD = '" + replicationPassword()
                        + "', MASTER_USE_GTID = current_pos");
                st.execute("START SLAVE");
            } else {
                st.execute("CHANGE REPLICATION SOURCE TO SOURCE_HOST = '" + newPrimary.host() + "', SOURCE_PORT = " + newPrimary.port()
                        + ", SOURCE_USER = '" + replicationUser() + "', SOURCE_PASSWORD = '" + replicationPassword()
                        + "', SOURCE_AUTO_POSITION = 1");
                st.execute("START REPLICA");
            }
            return "replicating from " + newPrimary.name() + " (read-only)";
        }
    }

    /** The old primary has no replication credentials of its own: the configured replication user, else admin. */
    private String replicationUser() {
        String u = config.replicationUser();
        return (u != null ? u : config.adminUser()).replace("'", "");
    }

    private String replicationPassword() {
        String p = config.replicationUser() != null ? config.replicationPassword() : config.adminPassword();
        return p == null ? "" : p.replace("'", "''");
    }

    /** Records a drain on the primary, where every router's heartbeat writer reads it. */
    void setDrained(NodeConfig primary, String node, boolean on) throws SQLException {
        String table = JdbcHeartbeatWriter.drainTable(config);
        try (Connection c = admin(primary); java.sql.PreparedStatement ps = c.prepareStatement(on
                ? (pg ? "INSERT INTO " + table + " (node, reason) VALUES (?, 'drained by an operator') ON CONFLICT (node) DO NOTHING"
                      : "INSERT IGNORE INTO " + table + " (node, reason) VALUES (?, 'drained by an operator')")
                : "DELETE FROM " + table + " WHERE node = ?")) {
            ps.setString(1, node);
            ps.executeUpdate();
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
