package dev.sluice.jdbc;

import dev.sluice.core.config.ClusterConfig;
import dev.sluice.core.config.Engine;
import dev.sluice.core.config.NodeConfig;
import dev.sluice.core.health.NodeProbe;
import dev.sluice.core.health.ProbeResult;
import dev.sluice.core.route.NodeRole;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDateTime;
import java.time.ZoneOffset;

/**
 * Probes one node over JDBC: role, replication position, applied heartbeat. The role always comes from the
 * server, never from the order of hosts in the configuration:
 * <ul>
 *   <li>PostgreSQL: {@code pg_is_in_recovery()}; position = replay LSN (standby) or current LSN (primary).</li>
 *   <li>MySQL/MariaDB: {@code @@read_only} and {@code SHOW SLAVE STATUS}. A node that is writable but still
 *       replicates from another is treated as a replica: writing there would silently diverge. Position =
 *       {@code @@gtid_slave_pos} (replica) or {@code @@gtid_binlog_pos} (primary).</li>
 * </ul>
 * Keeps one connection between probes; reconnects after any failure. Timeouts bound every step.
 */
final class JdbcNodeProbe implements NodeProbe {
    /** MySQL/MariaDB ER_SPECIFIC_ACCESS_DENIED_ERROR: "you need (at least one of) the X privilege(s)". */
    private static final int ER_SPECIFIC_ACCESS_DENIED = 1227;

    private final ClusterConfig config;
    private final NodeConfig node;
    private final String heartbeatSql;
    private Connection conn;
    private boolean replicationStatusDenied; // remembered so a missing grant costs one error, not one per probe
    private Boolean mariadbServer; // MySQL and MariaDB differ in GTID variables and replica-status names

    JdbcNodeProbe(ClusterConfig config, NodeConfig node) {
        this.config = config;
        this.node = node;
        this.heartbeatSql = config.ptHeartbeat()
                ? "SELECT ts FROM " + config.heartbeatTable() + " ORDER BY ts DESC LIMIT 1"
                : "SELECT beat FROM " + config.heartbeatTable() + " WHERE id = 1";
    }

    @Override
    public synchronized ProbeResult probe() {
        try {
            if (conn == null || conn.isClosed()) {
                conn = DriverManager.getConnection(NodeUrls.url(config, node), NodeUrls.probeProperties(config));
            }
            try (Statement st = conn.createStatement()) {
                st.setQueryTimeout(Math.max(1, (config.probeTimeoutMs() + 999) / 1000));
                return config.engine() == Engine.POSTGRESQL ? postgres(st) : mysql(st);
            }
        } catch (SQLException e) {
            closeQuietly();
            return ProbeResult.unreachable(e.getMessage());
        }
    }

    private ProbeResult postgres(Statement st) throws SQLException {
        boolean recovery;
        String position;
        boolean readOnly;
        try (ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery(), CASE WHEN pg_is_in_recovery() "
                + "THEN pg_last_wal_replay_lsn()::text ELSE pg_current_wal_lsn()::text END, "
                + "current_setting('default_transaction_read_only') = 'on'")) {
            rs.next();
            recovery = rs.getBoolean(1);
            position = rs.getString(2);
            readOnly = rs.getBoolean(3);
        }
        Heartbeat hb = heartbeat(st);
        // a primary set read-only (fenced after a switchover or failover) is neither writable nor a replica
        NodeRole role = recovery ? NodeRole.REPLICA : readOnly ? NodeRole.UNKNOWN : NodeRole.PRIMARY;
        String reason = recovery ? "pg_is_in_recovery() = true"
                : readOnly ? "not in recovery but default_transaction_read_only = on: a fenced old primary" : "pg_is_in_recovery() = false";
        return new ProbeResult(true, role, reason, hb.value, hb.error, null, null, position, null);
    }

    private ProbeResult mysql(Statement st) throws SQLException {
        if (mariadbServer == null) {
            try (ResultSet rs = st.executeQuery("SELECT @@version")) {
                rs.next();
                mariadbServer = rs.getString(1).toLowerCase(java.util.Locale.ROOT).contains("mariadb");
            }
        }
        boolean mariadb = mariadbServer; // by the server, not the URL scheme: jdbc:sluice:mysql:// may reach MariaDB
        boolean readOnly;
        String slavePos;
        String binlogPos;
        // MariaDB keeps GTID positions in gtid_slave_pos / gtid_binlog_pos; MySQL has one executed GTID set
        try (ResultSet rs = st.executeQuery(mariadb ? "SELECT @@read_only, @@gtid_slave_pos, @@gtid_binlog_pos"
                : "SELECT @@read_only, @@GLOBAL.gtid_executed, @@GLOBAL.gtid_executed")) {
            rs.next();
            readOnly = rs.getInt(1) != 0;
            slavePos = rs.getString(2);
            binlogPos = rs.getString(3);
        }
        String master = null;
        Long secondsBehind = null;
        if (!replicationStatusDenied) {
            // MySQL 8.0.22+ renamed the statement and its columns; MariaDB keeps SHOW SLAVE STATUS
            try (ResultSet rs = st.executeQuery(mariadb ? "SHOW SLAVE STATUS" : "SHOW REPLICA STATUS")) {
                if (rs.next()) {
                    master = mariadb ? rs.getString("Master_Host") + ":" + rs.getString("Master_Port")
                            : rs.getString("Source_Host") + ":" + rs.getString("Source_Port");
                    Object sbm = rs.getObject(mariadb ? "Seconds_Behind_Master" : "Seconds_Behind_Source");
                    secondsBehind = sbm == null ? null : ((Number) sbm).longValue(); // NULL is "unknown", never 0
                }
            } catch (SQLException e) {
                if (e.getErrorCode() != ER_SPECIFIC_ACCESS_DENIED) {
                    throw e;
                }
                replicationStatusDenied = true;
            }
        }
        NodeRole role;
        String reason;
        String note = replicationStatusDenied
                ? " (replication status not visible to this user: grant SLAVE MONITOR or REPLICATION CLIENT)" : "";
        if (readOnly && master == null && !replicationStatusDenied) {
            // read-only and replicating from nobody: a fenced old primary, stale for reads and closed to writes
            role = NodeRole.UNKNOWN;
            reason = "read_only = ON but no replication source: a fenced old primary";
        } else if (readOnly) {
            role = NodeRole.REPLICA;
            reason = "read_only = ON" + (master == null ? "" : ", replicating from " + master) + note;
        } else if (master != null) {
            role = NodeRole.REPLICA;
            reason = "writable but replicating from " + master + ": treated as replica";
        } else {
            role = NodeRole.PRIMARY;
            reason = "read_only = OFF, no replication source" + note;
        }
        Heartbeat hb = heartbeat(st);
        return new ProbeResult(true, role, reason, hb.value, hb.error, null, secondsBehind,
                role == NodeRole.PRIMARY ? binlogPos : slavePos, null);
    }

    private record Heartbeat(Long value, String error) {
    }

    /** The heartbeat this node has applied; a missing table or row is a heartbeat error, not a dead node. */
    private Heartbeat heartbeat(Statement st) {
        try (ResultSet rs = st.executeQuery(heartbeatSql)) {
            if (!rs.next()) {
                return new Heartbeat(null, "heartbeat row missing in " + config.heartbeatTable());
            }
            if (config.ptHeartbeat()) {
                // pt-heartbeat's ts: "2026-11-24T02:42:04.123456" of the writer host's clock; only differences matter
                LocalDateTime ts = LocalDateTime.parse(rs.getString(1).trim().replace(' ', 'T'));
                return new Heartbeat(ts.toEpochSecond(ZoneOffset.UTC) * 1_000_000L + ts.getNano() / 1000, null);
            }
            return new Heartbeat(rs.getLong(1), null);
        } catch (SQLException | RuntimeException e) {
            return new Heartbeat(null, "heartbeat unreadable: " + e.getMessage());
        }
    }

    private void closeQuietly() {
        if (conn != null) {
            try {
                conn.close();
            } catch (SQLException ignored) {
                // the connection is already broken; nothing to save
            }
            conn = null;
        }
    }

    @Override
    public synchronized void close() {
        closeQuietly();
    }
}
