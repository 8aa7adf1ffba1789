package dev.sluice.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.testsupport.Clusters;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class MariaDbRoutingIT extends AbstractRoutingIT {
    @BeforeAll
    static void start() {
        cluster = Clusters.startMariaDb("driver-maria", 2);
    }

    @Override
    String whereSql() {
        return "@@port";
    }

    @Override
    String scheme() {
        return "mariadb";
    }

    @Override
    String sessionReadSql() {
        return "SELECT LAST_INSERT_ID(), @@port";
    }

    @Override
    String createTable(String name) {
        return "CREATE TABLE IF NOT EXISTS " + name + " (id int auto_increment PRIMARY KEY, note varchar(40), written_by int)";
    }

    @Override
    Class<?> realConnectionClass() {
        return org.mariadb.jdbc.Connection.class;
    }

    @Test
    void sessionStateIsReplayedOnEveryBackendConnection() throws Exception {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute("SET @sluice_marker = 42");
            st.execute("SET SESSION sql_mode = 'ANSI_QUOTES'");
            for (int i = 0; i < 4; i++) {
                try (ResultSet rs = st.executeQuery("SELECT @sluice_marker, @@SESSION.sql_mode, @@port")) {
                    rs.next();
                    assertEquals(42, rs.getInt(1), "user variable replayed on " + rs.getInt(3));
                    assertEquals("ANSI_QUOTES", rs.getString(2));
                    assertTrue(replicaPorts().contains(rs.getInt(3)));
                }
            }
        }
    }

    @Test
    void useDatabaseAndNamedLocksStayConsistent() throws Exception {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute("USE " + cluster.database());
            try (ResultSet rs = st.executeQuery("SELECT GET_LOCK('sluice-l', 1), @@port")) {
                rs.next();
                assertEquals(1, rs.getInt(1));
                assertEquals(primaryPort(), rs.getInt(2));
            }
            // the named lock lives in the primary session: the session is pinned there until it ends
            assertEquals(primaryPort(), port(st, "SELECT @@port"));
            try (ResultSet rs = st.executeQuery("SELECT RELEASE_LOCK('sluice-l'), @@port")) {
                rs.next();
                assertEquals(1, rs.getInt(1), "released by the session that holds it");
            }
        }
    }

    @Test
    void multiStatementStringWithAWriteGoesToThePrimary() throws Exception {
        try (Connection c = DriverManager.getConnection(url("&driver.allowMultiQueries=true")); Statement st = c.createStatement()) {
            st.execute(createTable("m1"));
            st.execute("SELECT 1; INSERT INTO m1(note, written_by) VALUES ('multi', @@port)");
            assertEquals(primaryPort(), port(st, "/* sluice:primary */ SELECT max(written_by) FROM m1"));
        }
    }
}
