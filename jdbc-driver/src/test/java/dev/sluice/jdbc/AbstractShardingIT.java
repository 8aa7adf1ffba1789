package dev.sluice.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.testsupport.DbCluster;
import dev.sluice.testsupport.DbNode;
import dev.sluice.testsupport.ShardingDataSet;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;

/**
 * Sharding through the driver against real servers: a logical database {@code app} of three shards, each a
 * primary with a replica. The same data set is loaded through Sluice (split across the shards) and directly
 * into one unsharded reference database; every supported query shape must give exactly the reference result
 * (values and their types, column labels, and row order where ORDER BY fixes it). Subclasses provide the shards:
 * databases on one cluster ({@code shard1..3}) or separate server processes per shard.
 */
abstract class AbstractShardingIT {
    /** One shard's home: a cluster and the database on it. */
    record Shard(DbCluster cluster, String database) {
    }

    static final List<Shard> SHARDS = new ArrayList<>();
    static final List<DbCluster> CLUSTERS = new ArrayList<>();
    static Path yaml;
    /** The unsharded reference database (on the first shard's cluster). */
    static String refUrl;


    @AfterAll
    static void shutdown() throws Exception {
        SluiceDriver.closeAll();
        for (DbCluster c : CLUSTERS) {
            c.close();
        }
        CLUSTERS.clear();
        SHARDS.clear();
    }

    static String scheme(DbCluster c) {
        return c.engine() == dev.sluice.testsupport.Engine.POSTGRESQL ? "postgresql" : "mariadb";
    }

    static String directUrl(DbCluster c, DbNode n, String db) {
        return "jdbc:" + scheme(c) + "://" + n.host() + ":" + n.port() + "/" + db;
    }

    static Connection direct(Shard s) throws SQLException {
        return DriverManager.getConnection(directUrl(s.cluster(), s.cluster().primary(), s.database()), s.cluster().user(), s.cluster().password());
    }

    static Connection ref() throws SQLException {
        DbCluster c = SHARDS.get(0).cluster();
        return DriverManager.getConnection(refUrl, c.user(), c.password());
    }

    static Connection sluice() throws SQLException {
        return DriverManager.getConnection("jdbc:sluice:file:" + yaml + "?database=app");
    }

    /** Creates a database owned by (or granted to) the app user on a cluster's primary; replication copies it. */
    static void createDatabase(DbCluster c, String name) throws SQLException {
        try (Connection a = c.connectAdmin(c.primary()); Statement st = a.createStatement()) {
            if (c.engine() == dev.sluice.testsupport.Engine.POSTGRESQL) {
                st.execute("CREATE DATABASE " + name + " OWNER " + c.user());
            } else {
                st.execute("CREATE DATABASE " + name + " CHARACTER SET utf8mb4");
                st.execute("GRANT ALL PRIVILEGES ON " + name + ".* TO '" + c.user() + "'@'%'");
            }
        }
    }

    /** Writes the YAML (one cluster per shard), creates the schema through Sluice and loads both data sets. */
    static void setUp() throws Exception {
        StringBuilder y = new StringBuilder("clusters:\n");
        for (int i = 0; i < SHARDS.size(); i++) {
            Shard s = SHARDS.get(i);
            y.append("  c").append(i + 1).append(":\n    engine: ").append(scheme(s.cluster())).append("\n    database: ").append(s.database())
                    .append("\n    user: ").append(s.cluster().user()).append("\n    password: ").append(s.cluster().password())
                    .append("\n    nodes:\n");
            for (DbNode n : s.cluster().nodes()) {
                y.append("      - { name: ").append(n.name()).append(", host: ").append(n.host()).append(", port: ").append(n.port()).append(" }\n");
            }
        }
        y.append("databases:\n  app:\n    shards:\n");
        for (int i = 0; i < SHARDS.size(); i++) {
            y.append("      - { name: s").append(i + 1).append(", cluster: c").append(i + 1).append(" }\n");
        }
        y.append(dev.sluice.testsupport.ShardingDataSet.TABLES_YAML);
        yaml = Files.createTempFile("sluice-sharding", ".yaml");
        Files.writeString(yaml, y);
        try (Connection s = sluice(); Statement st = s.createStatement(); Connection r = ref(); Statement rst = r.createStatement()) {
            for (String ddl : ShardingDataSet.DDL) {
                st.execute(ddl); // DDL goes to every shard
                rst.execute(ddl);
            }
            ShardingDataSet.load(s, r);
        }
        for (DbCluster c : CLUSTERS) {
            c.waitForReplication(Duration.ofSeconds(30));
        }
    }


    // ---- comparison with the reference database ----

    /** Runs {@code sql} through Sluice and on the reference database and asserts equal results. */
    static void assertSameAsUnsharded(String sql, Object... params) throws SQLException {
        try (Connection s = sluice(); Connection r = ref()) {
            List<List<Object>> got = rows(s, sql, params);
            List<List<Object>> want = rows(r, sql, params);
            assertTrue(want.size() > 2 || sql.contains("count(") || sql.contains("sum("),
                    "the reference result of " + sql + " is too small to prove anything: " + want);
            assertEquals(want, got, sql);
        }
    }

    /**
     * Column labels, then each row's values with their Java classes; rows sorted when the query has no ORDER BY
     * (no order is promised then, so results compare as multisets).
     */
    static List<List<Object>> rows(Connection c, String sql, Object... params) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                ps.setObject(i + 1, params[i]);
            }
            List<List<Object>> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                ResultSetMetaData md = rs.getMetaData();
                List<Object> labels = new ArrayList<>();
                for (int i = 1; i <= md.getColumnCount(); i++) {
                    labels.add(md.getColumnLabel(i).toLowerCase(java.util.Locale.ROOT));
                }
                while (rs.next()) {
                    List<Object> row = new ArrayList<>();
                    for (int i = 1; i <= md.getColumnCount(); i++) {
                        Object v = rs.getObject(i);
                        row.add(v == null ? null : v.getClass().getSimpleName() + ":" + (v instanceof byte[] b ? new String(b) : v));
                    }
                    out.add(row);
                }
                if (!sql.contains("ORDER BY")) {
                    out.sort(java.util.Comparator.comparing(Object::toString));
                }
                out.add(0, labels);
            }
            return out;
        }
    }

    /** Statements each shard's router has routed so far (all nodes of the shard). */
    static long[] routedPerShard(Connection sluice) throws SQLException {
        ShardedConnection sc = sluice.unwrap(ShardedConnection.class);
        long[] out = new long[sc.shardCount()];
        for (int i = 0; i < out.length; i++) {
            ClusterRuntime rt = sc.rt.shards.get(i);
            for (dev.sluice.core.config.NodeConfig n : rt.config.nodes()) {
                out[i] += rt.router().routedTo(n.name());
            }
        }
        return out;
    }

    static SQLException assertRefused(Connection c, String sql, String why) {
        SQLException e = assertThrows(SQLException.class, () -> {
            try (Statement st = c.createStatement()) {
                st.execute(sql);
            }
        }, sql);
        assertEquals("0A000", e.getSQLState(), sql + ": " + e.getMessage());
        assertTrue(e.getMessage().contains(why), "'" + e.getMessage() + "' should say '" + why + "'");
        return e;
    }
}
