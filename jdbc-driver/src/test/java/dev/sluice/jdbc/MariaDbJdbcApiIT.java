package dev.sluice.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sluice.testsupport.Clusters;
import java.sql.CallableStatement;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.sql.Types;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class MariaDbJdbcApiIT extends AbstractJdbcApiIT {
    @BeforeAll
    static void start() throws Exception {
        cluster = Clusters.startMariaDb("api-maria", 2);
        try (Connection c = cluster.connectAdmin(cluster.primary()); Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE sluice2");
            st.execute("GRANT ALL PRIVILEGES ON sluice2.* TO '" + cluster.user() + "'@'%'");
            st.execute("CREATE TABLE sluice2.same_name (v varchar(20))");
            st.execute("INSERT INTO sluice2.same_name VALUES ('sluice2')");
            st.execute("CREATE TABLE " + cluster.database() + ".same_name (v varchar(20))");
            st.execute("INSERT INTO " + cluster.database() + ".same_name VALUES ('" + cluster.database() + "')");
        }
        try (Connection c = direct(cluster.primary()); Statement st = c.createStatement()) {
            st.execute("CREATE PROCEDURE api_out(IN x INT, OUT doubled INT, OUT p INT) BEGIN SET doubled = x * 2; SET p = @@port; END");
        }
        replicate();
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
    String isolationSql() {
        return "@@SESSION.tx_isolation";
    }

    @Override
    int nonDefaultIsolation() {
        return Connection.TRANSACTION_SERIALIZABLE;
    }

    @Override
    String namespaceSql() {
        return "DATABASE()";
    }

    @Override
    String otherNamespace() {
        return "sluice2";
    }

    @Override
    void switchNamespace(Connection c) throws java.sql.SQLException {
        c.setCatalog("sluice2");
    }

    @Override
    String autoIdTable(String name) {
        return "CREATE TABLE " + name + " (id int auto_increment PRIMARY KEY, note varchar(100), written_by int)";
    }

    @Override
    String typesTable(String name) {
        return "CREATE TABLE " + name + " (id int PRIMARY KEY, i int, l bigint, s varchar(100), d decimal(20,6), dt date, "
                + "tm time, ts datetime(3), b boolean, bin varbinary(100), n int, o varchar(100))";
    }

    @Override
    String lobTable(String name) {
        return "CREATE TABLE " + name + " (id int PRIMARY KEY, bin LONGBLOB, txt LONGTEXT)";
    }

    @Override
    String sleepSql() {
        return "SELECT SLEEP(3), @@port";
    }

    @Override
    String[] sessionSetting() {
        return new String[] {"SET SESSION sql_mode = 'ANSI_QUOTES'", "@@SESSION.sql_mode", "ANSI_QUOTES"};
    }

    @Override
    Class<?> realStatementClass() {
        return org.mariadb.jdbc.Statement.class;
    }

    @Override
    Class<?> realPreparedStatementClass() {
        return org.mariadb.jdbc.BasePreparedStatement.class;
    }

    @Override
    Connection multiQueryConnection() throws java.sql.SQLException {
        return DriverManager.getConnection(url("&driver.allowMultiQueries=true"));
    }

    @Test
    void setCatalogMakesReplicaReadsSeeTheOtherDatabase() throws Exception {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            port(st, "SELECT " + whereSql()); // one replica held before the call
            c.setCatalog("sluice2");
            assertEquals("sluice2", c.getCatalog());
            String q = "SELECT v, DATABASE(), @@port FROM same_name";
            onEveryReplica(st, q, (rs, p) -> {
                assertEquals("sluice2", rs.getString(1), "on " + p);
                assertEquals("sluice2", rs.getString(2));
            });
            onPrimary(st, q, (rs, p) -> assertEquals("sluice2", rs.getString(1)));
            c.setCatalog(cluster.database());
            onEveryReplica(st, q, (rs, p) -> assertEquals(cluster.database(), rs.getString(1)));
        }
    }

    @Test
    void setSchemaIsWhatTheRealDriverMakesOfIt() throws Exception {
        String expected;
        try (Connection d = direct(cluster.primary())) {
            d.setSchema("sluice2");
            expected = d.getSchema();
        }
        try (Connection c = connect(); Statement st = c.createStatement()) {
            c.setSchema("sluice2");
            assertEquals(expected, c.getSchema(), "Connector/J ignores setSchema by default");
            onEveryReplica(st, "SELECT DATABASE(), @@port", (rs, p) -> assertEquals(cluster.database(), rs.getString(1)));
        }
    }

    @Test
    void aStoredProcedureWithOutParametersRunsOnThePrimary() throws Exception {
        try (Connection c = connect(); CallableStatement cs = c.prepareCall("{call api_out(?, ?, ?)}")) {
            cs.setInt(1, 21);
            cs.registerOutParameter(2, Types.INTEGER);
            cs.registerOutParameter(3, Types.INTEGER);
            cs.execute();
            assertEquals(42, cs.getInt(2), "OUT parameter");
            assertEquals(primaryPort(), cs.getInt(3), "the procedure ran on the primary");
            try (CallableStatement cs2 = c.prepareCall("CALL api_out(?, ?, ?)")) {
                cs2.setInt(1, 5);
                cs2.registerOutParameter(2, Types.INTEGER);
                cs2.registerOutParameter(3, Types.INTEGER);
                cs2.execute();
                assertEquals(10, cs2.getInt(2));
                assertEquals(primaryPort(), cs2.getInt(3));
            }
        }
    }
}
