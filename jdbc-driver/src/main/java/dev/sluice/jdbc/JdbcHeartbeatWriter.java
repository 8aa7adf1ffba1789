package dev.sluice.jdbc;

import dev.sluice.core.config.ClusterConfig;
import dev.sluice.core.config.Engine;
import dev.sluice.core.config.NodeConfig;
import dev.sluice.core.health.HeartbeatWriter;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Writes Sluice's heartbeat row on the primary: the primary's own clock in microseconds, so lag can be
 * computed without synchronised clocks (see {@code Heartbeats}). Table, created when permitted:
 * <pre>
 *   CREATE TABLE sluice_heartbeat (id int PRIMARY KEY, beat bigint NOT NULL);  -- one row, id = 1
 * </pre>
 */
final class JdbcHeartbeatWriter implements HeartbeatWriter {
    private final ClusterConfig config;
    private final NodeConfig node;
    private final boolean pg;
    private Connection conn;
    private int beats;
    private volatile java.util.Set<String> drained = java.util.Set.of();

    JdbcHeartbeatWriter(ClusterConfig config, NodeConfig node) {
        this.config = config;
        this.node = node;
        this.pg = config.engine() == Engine.POSTGRESQL;
    }

    @Override
    public synchronized long beat() throws SQLException {
        try {
            if (conn == null || conn.isClosed()) {
                conn = open();
            }
            String table = config.heartbeatTable();
            try (Statement st = conn.createStatement()) {
                st.setQueryTimeout(Math.max(1, (config.probeTimeoutMs() + 999) / 1000));
                if (beats++ % 5 == 0) {
                    drained = readDrained(st);
                }
                if (pg) {
                    try (ResultSet rs = st.executeQuery("UPDATE " + table
                            + " SET beat = (extract(epoch FROM clock_timestamp()) * 1000000)::bigint WHERE id = 1 RETURNING beat")) {
                        if (!rs.next()) {
                            throw new SQLException("heartbeat row id = 1 missing in " + table);
                        }
                        return rs.getLong(1);
                    }
                }
                long v;
                try (ResultSet rs = st.executeQuery("SELECT CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS SIGNED)")) {
                    rs.next();
                    v = rs.getLong(1);
                }
                if (st.executeUpdate("UPDATE " + table + " SET beat = " + v + " WHERE id = 1") == 0) {
                    // MySQL reports 0 changed rows when the value is unchanged; a missing row is the real problem
                    try (ResultSet rs = st.executeQuery("SELECT 1 FROM " + table + " WHERE id = 1")) {
                        if (!rs.next()) {
                            throw new SQLException("heartbeat row id = 1 missing in " + table);
                        }
                    }
                }
                return v;
            }
        } catch (SQLException e) {
            close();
            throw e;
        }
    }

    /** The drain table: one row per node an operator took out of routing (see docs/failover.md). */
    static String drainTable(ClusterConfig config) {
        return config.heartbeatTable() + "_drain";
    }

    private java.util.Set<String> readDrained(Statement st) {
        java.util.Set<String> out = new java.util.HashSet<>();
        try (ResultSet rs = st.executeQuery("SELECT node FROM " + drainTable(config))) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
            return java.util.Set.copyOf(out);
        } catch (SQLException e) {
            return drained; // no drain table (not created, no grant): keep what we knew
        }
    }

    @Override
    public java.util.Set<String> drainedNodes() {
        return drained;
    }

    private Connection open() throws SQLException {
        Connection c = DriverManager.getConnection(NodeUrls.url(config, node), NodeUrls.probeProperties(config));
        try (Statement st = c.createStatement()) {
            String table = config.heartbeatTable();
            if (pg) {
                // ship each beat at once even where synchronous_commit is off: the beat is the lag clock
                st.execute("SET synchronous_commit = local");
            }
            if (config.heartbeatCreate()) {
                st.execute("CREATE TABLE IF NOT EXISTS " + table + " (id int PRIMARY KEY, beat bigint NOT NULL)");
                // 0 = "never beaten": read as unknown lag, never as a huge one
                st.execute(pg ? "INSERT INTO " + table + " VALUES (1, 0) ON CONFLICT (id) DO NOTHING"
                        : "INSERT IGNORE INTO " + table + " VALUES (1, 0)");
                st.execute("CREATE TABLE IF NOT EXISTS " + drainTable(config) + " (node varchar(200) PRIMARY KEY, reason varchar(400))");
            }
        } catch (SQLException e) {
            c.close();
            throw e;
        }
        return c;
    }

    @Override
    public synchronized void close() {
        if (conn != null) {
            try {
                conn.close();
            } catch (SQLException ignored) {
                // broken already
            }
            conn = null;
        }
    }
}
