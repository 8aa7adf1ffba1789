package dev.sluice.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.testsupport.Clusters;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class PostgresRoutingIT extends AbstractRoutingIT {
    @BeforeAll
    static void start() throws Exception {
        cluster = Clusters.startPostgres("driver-pg", 2);
        try (Connection c = cluster.connectAdmin(cluster.primary()); Statement st = c.createStatement()) {
            st.execute("CREATE SEQUENCE IF NOT EXISTS seq_x");
            st.execute("GRANT USAGE, SELECT, UPDATE ON SEQUENCE seq_x TO " + cluster.user());
        }
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
    String sessionReadSql() {
        return "SELECT nextval('seq_x'), inet_server_port()";
    }

    @Override
    String createTable(String name) {
        return "CREATE TABLE IF NOT EXISTS " + name + " (id serial PRIMARY KEY, note text, written_by int)";
    }

    @Override
    Class<?> realConnectionClass() {
        return org.postgresql.PGConnection.class;
    }

    @Test
    void sessionStateIsReplayedOnEveryBackendConnection() throws Exception {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute("SET application_name = 'sluice-test'");
            st.execute("SET search_path TO public");
            for (int i = 0; i < 4; i++) { // both replicas, opened after the SET
                try (ResultSet rs = st.executeQuery("SELECT current_setting('application_name'), inet_server_port()")) {
                    rs.next();
                    assertEquals("sluice-test", rs.getString(1), "replayed on " + rs.getInt(2));
                }
            }
            try (ResultSet rs = st.executeQuery("/* sluice:primary */ SELECT current_setting('application_name')")) {
                rs.next();
                assertEquals("sluice-test", rs.getString(1));
            }
        }
    }

    @Test
    void aTemporaryTablePinsTheSessionToThePrimary() throws Exception {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute("CREATE TEMPORARY TABLE scratch (v int)");
            st.executeUpdate("INSERT INTO scratch VALUES (1)");
            try (ResultSet rs = st.executeQuery("SELECT count(*), inet_server_port() FROM scratch")) {
                rs.next();
                assertEquals(1, rs.getInt(1));
                assertEquals(primaryPort(), rs.getInt(2));
            }
            assertTrue(st.unwrap(SluiceRouted.class).lastRoute().reason().startsWith("session-pinned"));
        }
    }

    @Test
    void multiStatementStringWithAWriteGoesToThePrimary() throws Exception {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute(createTable("m1"));
            st.execute("SELECT 1; INSERT INTO m1(note, written_by) VALUES ('multi', inet_server_port())");
            assertEquals(primaryPort(), port(st, "/* sluice:primary */ SELECT max(written_by) FROM m1"));
        }
    }
}
