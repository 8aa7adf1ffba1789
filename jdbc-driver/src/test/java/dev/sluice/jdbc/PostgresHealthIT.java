package dev.sluice.jdbc;

import dev.sluice.testsupport.Clusters;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.BeforeAll;

class PostgresHealthIT extends AbstractHealthIT {
    @BeforeAll
    static void start() {
        cluster = Clusters.startPostgres("health-pg", 2);
    }

    @Override
    String whereSql() {
        return "inet_server_port()";
    }

    @Override
    String scheme() {
        return "postgresql";
    }

    @Override
    long backendBaseline(Connection admin) {
        return 0;
    }

    /** The writer's last statement is the heartbeat UPDATE (probes only SELECT it); {@code other}: a pid to skip. */
    @Override
    Long findHeartbeatWriter(Connection admin, long other) throws SQLException {
        try (Statement st = admin.createStatement();
             ResultSet rs = st.executeQuery("SELECT pid FROM pg_stat_activity WHERE usename = '" + cluster.user()
                     + "' AND query LIKE 'UPDATE sluice_heartbeat%' AND pid <> " + other + " ORDER BY backend_start DESC")) {
            return rs.next() ? rs.getLong(1) : null;
        }
    }

    @Override
    void terminateBackend(Connection admin, long id) throws SQLException {
        try (Statement st = admin.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_terminate_backend(" + id + ")")) {
            rs.next();
            if (!rs.getBoolean(1)) {
                throw new AssertionError("pg_terminate_backend(" + id + ") = false");
            }
        }
    }

    /** The primary's write/insert LSNs next to the topology's positions: shows why a replica was thought to have a write. */
    @Override
    String diagnose(ClusterRuntime rt) {
        String lsns;
        try (Connection c = cluster.connectAdmin(cluster.primary()); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT pg_current_wal_lsn(), pg_current_wal_insert_lsn()")) {
            rs.next();
            lsns = "primary write-lsn " + rs.getString(1) + " insert-lsn " + rs.getString(2);
        } catch (SQLException e) {
            lsns = e.toString();
        }
        return super.diagnose(rt) + "; " + lsns;
    }

    @Override
    String createPortLog(String name) {
        return "CREATE TABLE IF NOT EXISTS " + name + " (id serial PRIMARY KEY, port int)";
    }
}
