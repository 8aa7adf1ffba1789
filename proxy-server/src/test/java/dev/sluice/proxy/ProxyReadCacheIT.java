package dev.sluice.proxy;

import dev.sluice.core.cache.ReadCache;
import dev.sluice.testsupport.DbCluster;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The read cache in the PostgreSQL proxy, driven by pgjdbc (simple Query, and Bind/Execute of named statements). */
class ProxyReadCacheIT extends AbstractProxyReadCacheIT {
    static ProxyFixture f;

    @BeforeAll
    static void start() throws Exception {
        f = ProxyFixture.start("cache-proxy-pg", 2, CLUSTER_EXTRA, null);
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

    /** Text: preferQueryMode=simple (a Query message per statement); prepared: named statements from the first use. */
    @Override
    Connection connect(boolean prepared) throws SQLException {
        return DriverManager.getConnection(f.jdbcUrl() + (prepared ? "?prepareThreshold=1" : "?preferQueryMode=simple"),
                ProxyFixture.USER, ProxyFixture.PASSWORD);
    }

    @Override
    String nonDeterministicRead(String table) {
        return "SELECT id, random() FROM " + table;
    }

    @Override
    long serverReads(String table) throws Exception {
        return sum(f.cluster.nodes(), n -> {
            try (Connection c = f.cluster.connectAdmin(n);
                 PreparedStatement ps = c.prepareStatement(
                         "SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0) FROM pg_stat_user_tables WHERE relname = ?")) {
                ps.setString(1, table);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? rs.getLong(1) : 0;
                }
            }
        });
    }
}
