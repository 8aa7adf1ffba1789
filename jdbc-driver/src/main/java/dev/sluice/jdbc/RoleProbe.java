package dev.sluice.jdbc;

import dev.sluice.core.config.ClusterConfig;
import dev.sluice.core.config.Engine;
import dev.sluice.core.config.NodeConfig;
import dev.sluice.core.route.NodeRole;
import dev.sluice.core.route.NodeStatus;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Asks one node what it is right now. The role always comes from the server, never from the order of
 * hosts in the configuration:
 * <ul>
 *   <li>PostgreSQL: {@code pg_is_in_recovery()} — true on a standby.</li>
 *   <li>MySQL/MariaDB: {@code @@read_only} and {@code SHOW SLAVE STATUS}. A node that is writable but
 *       still replicates from another is treated as a replica: writing there would silently diverge.</li>
 * </ul>
 * Keeps one connection per node between probes; reconnects after any failure.
 */
final class RoleProbe implements AutoCloseable {
    /** MySQL/MariaDB ER_SPECIFIC_ACCESS_DENIED_ERROR: "you need (at least one of) the X privilege(s)". */
    private static final int ER_SPECIFIC_ACCESS_DENIED = 1227;

    private final ClusterConfig config;
    private final NodeConfig node;
    private Connection conn;
    private NodeStatus last;
    private boolean replicationStatusDenied; // remembered so a missing grant costs one error, not one per probe

    RoleProbe(ClusterConfig config, NodeConfig node) {
        this.config = config;
        this.node = node;
    }

    synchronized NodeStatus probe() {
        NodeRole role;
        String reason;
        try {
            if (conn == null || conn.isClosed()) {
                conn = DriverManager.getConnection(NodeUrls.url(config, node), NodeUrls.probeProperties(config));
            }
            int timeoutSecs = Math.max(1, (config.probeTimeoutMs() + 999) / 1000);
            try (Statement st = conn.createStatement()) {
                st.setQueryTimeout(timeoutSecs);
                if (config.engine() == Engine.POSTGRESQL) {
                    try (ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
                        rs.next();
                        boolean recovery = rs.getBoolean(1);
                        role = recovery ? NodeRole.REPLICA : NodeRole.PRIMARY;
                        reason = recovery ? "pg_is_in_recovery() = true" : "pg_is_in_recovery() = false";
                    }
                } else {
                    boolean readOnly;
                    try (ResultSet rs = st.executeQuery("SELECT @@read_only")) {
                        rs.next();
                        readOnly = rs.getInt(1) != 0;
                    }
                    String master = null;
                    String note = "";
                    if (!replicationStatusDenied) {
                        try (ResultSet rs = st.executeQuery("SHOW SLAVE STATUS")) {
                            if (rs.next()) {
                                master = rs.getString("Master_Host") + ":" + rs.getString("Master_Port");
                            }
                        } catch (SQLException e) {
                            if (e.getErrorCode() != ER_SPECIFIC_ACCESS_DENIED) {
                                throw e;
                            }
                            replicationStatusDenied = true;
                        }
                    }
                    if (replicationStatusDenied) {
                        // the user lacks SLAVE MONITOR / REPLICATION CLIENT: read_only alone decides
                        note = " (replication status not visible to this user: grant SLAVE MONITOR or REPLICATION CLIENT)";
                    }
                    if (!note.isEmpty()) {
                        role = readOnly ? NodeRole.REPLICA : NodeRole.PRIMARY;
                        reason = "read_only = " + (readOnly ? "ON" : "OFF") + note;
                    } else if (readOnly) {
                        role = NodeRole.REPLICA;
                        reason = "read_only = ON" + (master == null ? "" : ", replicating from " + master);
                    } else if (master != null) {
                        role = NodeRole.REPLICA;
                        reason = "writable but replicating from " + master + ": treated as replica";
                    } else {
                        role = NodeRole.PRIMARY;
                        reason = "read_only = OFF, no replication source";
                    }
                }
            }
        } catch (SQLException e) {
            closeQuietly();
            role = NodeRole.DOWN;
            reason = "probe failed: " + e.getMessage();
        }
        long since = last != null && last.role() == role ? last.sinceMillis() : System.currentTimeMillis();
        last = new NodeStatus(node.name(), role, reason, since);
        return last;
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
