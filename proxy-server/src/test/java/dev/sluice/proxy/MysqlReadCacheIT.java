package dev.sluice.proxy;

import dev.sluice.core.cache.ReadCache;
import dev.sluice.testsupport.DbCluster;
import dev.sluice.testsupport.DbNode;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The read cache in the MySQL proxy, driven by MariaDB Connector/J (COM_QUERY, and COM_STMT_EXECUTE). */
class MysqlReadCacheIT extends AbstractProxyReadCacheIT {
    static MyProxyFixture f;

    @BeforeAll
    static void start() throws Exception {
        f = MyProxyFixture.start("cache-proxy-maria", 2, CLUSTER_EXTRA, null);
        for (DbNode n : f.cluster.nodes()) { // per-table read counters (information_schema.TABLE_STATISTICS)
            try (Connection c = f.cluster.connectAdmin(n); Statement st = c.createStatement()) {
                st.execute("SET GLOBAL userstat = 1");
            }
        }
    }

    @AfterAll
    static void stop() {
        if (f != null) {
            f.close();
        }
    }

    @Override
    DbCluster cluster() {
        return f.cluster;
    }

    @Override
    ReadCache cache() {
        return f.server.runtime().router().readCache();
    }

    @Override
    Connection connect(boolean prepared) throws SQLException {
        return DriverManager.getConnection(f.jdbcUrl("mariadb", "useServerPrepStmts=" + prepared + "&connectTimeout=10000"),
                MyProxyFixture.USER, MyProxyFixture.PASSWORD);
    }

    @Override
    String nonDeterministicRead(String table) {
        return "SELECT id, UUID() FROM " + table;
    }

    @Override
    long serverReads(String table) throws Exception {
        return sum(f.cluster.nodes(), n -> {
            try (Connection c = f.cluster.connectAdmin(n);
                 PreparedStatement ps = c.prepareStatement("SELECT coalesce(sum(ROWS_READ), 0) FROM information_schema.TABLE_STATISTICS"
                         + " WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?")) {
                ps.setString(1, f.cluster.database());
                ps.setString(2, table);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? rs.getLong(1) : 0;
                }
            }
        });
    }
}
