package dev.sluice.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.testsupport.Clusters;
import java.sql.CallableStatement;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.sql.Types;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class PostgresJdbcApiIT extends AbstractJdbcApiIT {
    @BeforeAll
    static void start() throws Exception {
        cluster = Clusters.startPostgres("api-pg", 2);
        try (Connection c = direct(cluster.primary()); Statement st = c.createStatement()) {
            st.execute("CREATE SCHEMA s2");
            st.execute("CREATE TABLE public.same_name (v text)");
            st.execute("INSERT INTO public.same_name VALUES ('public')");
            st.execute("CREATE TABLE s2.same_name (v text)");
            st.execute("INSERT INTO s2.same_name VALUES ('s2')");
            st.execute("CREATE PROCEDURE api_inout(INOUT x int, INOUT p int) LANGUAGE plpgsql AS $$ "
                    + "BEGIN x := x + 1; p := inet_server_port(); END $$");
        }
        replicate();
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
    String isolationSql() {
        return "current_setting('transaction_isolation')";
    }

    @Override
    int nonDefaultIsolation() {
        return Connection.TRANSACTION_REPEATABLE_READ; // a hot standby refuses SERIALIZABLE
    }

    @Override
    String namespaceSql() {
        return "current_schema()";
    }

    @Override
    String otherNamespace() {
        return "s2";
    }

    @Override
    void switchNamespace(Connection c) throws java.sql.SQLException {
        c.setSchema("s2");
    }

    @Override
    String autoIdTable(String name) {
        return "CREATE TABLE " + name + " (id serial PRIMARY KEY, note varchar(100), written_by int)";
    }

    @Override
    String typesTable(String name) {
        return "CREATE TABLE " + name + " (id int PRIMARY KEY, i int, l bigint, s varchar(100), d numeric(20,6), dt date, "
                + "tm time, ts timestamp(3), b boolean, bin bytea, n int, o varchar(100))";
    }

    @Override
    String lobTable(String name) {
        return "CREATE TABLE " + name + " (id int PRIMARY KEY, bin bytea, txt text)";
    }

    @Override
    String sleepSql() {
        return "SELECT pg_sleep(3), inet_server_port()";
    }

    @Override
    String[] sessionSetting() {
        return new String[] {"SET work_mem = '7MB'", "current_setting('work_mem')", "7MB"};
    }

    @Override
    Class<?> realStatementClass() {
        return org.postgresql.jdbc.PgStatement.class;
    }

    @Override
    Class<?> realPreparedStatementClass() {
        return org.postgresql.jdbc.PgStatement.class; // PgPreparedStatement is package-private
    }

    @Override
    Connection multiQueryConnection() throws java.sql.SQLException {
        return connect();
    }

    /**
     * The real driver on a primary reads fine at SERIALIZABLE; a hot standby refuses to start a serializable
     * transaction ("cannot use serializable mode in a hot standby"), so such reads must not be sent there.
     */
    @Test
    void serializableIsolationStillServesReads() throws Exception {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            c.setTransactionIsolation(Connection.TRANSACTION_SERIALIZABLE);
            try (ResultSet rs = st.executeQuery("SELECT current_setting('transaction_isolation'), inet_server_port()")) {
                assertTrue(rs.next());
                assertEquals("serializable", rs.getString(1));
                assertEquals(primaryPort(), rs.getInt(2), "only the primary can run a serializable read");
            }
            c.setReadOnly(true);
            c.setAutoCommit(false);
            try (ResultSet rs = st.executeQuery("SELECT current_setting('transaction_isolation'), inet_server_port()")) {
                assertTrue(rs.next());
                assertEquals("serializable", rs.getString(1), "a read-only serializable transaction");
            }
            c.commit();
        }
    }

    @Test
    void setSchemaMakesReplicaReadsSeeTheSchemasTable() throws Exception {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            port(st, "SELECT " + whereSql()); // one replica held before the call
            c.setSchema("s2");
            assertEquals("s2", c.getSchema());
            onEveryReplica(st, "SELECT v, inet_server_port() FROM same_name", (rs, p) -> assertEquals("s2", rs.getString(1), "on " + p));
            onPrimary(st, "SELECT v, inet_server_port() FROM same_name", (rs, p) -> assertEquals("s2", rs.getString(1)));
            try (PreparedStatement ps = c.prepareStatement("SELECT v, inet_server_port() FROM same_name WHERE v <> ?")) {
                ps.setString(1, "x");
                try (ResultSet rs = ps.executeQuery()) {
                    assertTrue(rs.next());
                    assertEquals("s2", rs.getString(1));
                }
            }
            c.setSchema("public");
            onEveryReplica(st, "SELECT v, inet_server_port() FROM same_name", (rs, p) -> assertEquals("public", rs.getString(1)));
        }
    }

    @Test
    void setCatalogIsWhatTheRealDriverMakesOfIt() throws Exception {
        String expected;
        try (Connection d = direct(cluster.primary())) {
            d.setCatalog("elsewhere");
            expected = d.getCatalog();
        }
        try (Connection c = connect(); Statement st = c.createStatement()) {
            c.setCatalog("elsewhere");
            assertEquals(expected, c.getCatalog(), "pgjdbc ignores setCatalog");
            onEveryReplica(st, "SELECT current_database(), inet_server_port()", (rs, p) -> assertEquals(cluster.database(), rs.getString(1)));
        }
    }

    @Test
    void applicationNameReachesEveryBackendIncludingLaterOnes() throws Exception {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            port(st, "SELECT " + whereSql());
            c.setClientInfo("ApplicationName", "sluice-api-app");
            String q = "SELECT current_setting('application_name'), inet_server_port()";
            onEveryReplica(st, q, (rs, p) -> assertEquals("sluice-api-app", rs.getString(1), "application_name on replica " + p));
            onPrimary(st, q, (rs, p) -> assertEquals("sluice-api-app", rs.getString(1)));
            try (ResultSet rs = st.executeQuery("SELECT count(*), inet_server_port() FROM pg_stat_activity "
                    + "WHERE application_name = 'sluice-api-app' AND pid = pg_backend_pid()")) {
                assertTrue(rs.next());
                assertEquals(1, rs.getInt(1), "visible as application_name in pg_stat_activity of the replica");
            }
        }
    }

    @Test
    void callableStatementsRunOnThePrimary() throws Exception {
        try (Connection c = connect()) {
            try (CallableStatement cs = c.prepareCall("{? = call upper(?)}")) {
                cs.registerOutParameter(1, Types.VARCHAR);
                cs.setString(2, "sluice");
                cs.execute();
                assertEquals("SLUICE", cs.getString(1));
            }
            try (CallableStatement cs = c.prepareCall("{? = call inet_server_port()}")) {
                cs.registerOutParameter(1, Types.INTEGER);
                cs.execute();
                assertEquals(primaryPort(), cs.getInt(1), "{? = call …} runs on the primary");
            }
            try (CallableStatement cs = c.prepareCall("CALL api_inout(?, ?)")) {
                cs.setInt(1, 41);
                cs.registerOutParameter(1, Types.INTEGER);
                cs.setNull(2, Types.INTEGER);
                cs.registerOutParameter(2, Types.INTEGER);
                cs.execute();
                assertEquals(42, cs.getInt(1), "INOUT parameter");
                assertEquals(primaryPort(), cs.getInt(2), "CALL runs on the primary");
            }
            c.setAutoCommit(false);
            try (CallableStatement cs = c.prepareCall("CALL api_inout(?, ?)")) {
                cs.setInt(1, 1);
                cs.registerOutParameter(1, Types.INTEGER);
                cs.setNull(2, Types.INTEGER);
                cs.registerOutParameter(2, Types.INTEGER);
                cs.execute();
                assertEquals(2, cs.getInt(1));
                assertEquals(primaryPort(), cs.getInt(2), "in a transaction: the transaction's node");
            }
            c.commit();
        }
    }
}
