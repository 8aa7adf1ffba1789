package dev.sluice.jdbc;

import dev.sluice.testsupport.Clusters;
import dev.sluice.testsupport.DbNode;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.BeforeAll;

class MariaDbReadCacheIT extends AbstractReadCacheIT {
    @BeforeAll
    static void start() throws Exception {
        cluster = Clusters.startMariaDb("cache-maria", 2);
        for (DbNode n : cluster.nodes()) { // per-table read counters (information_schema.TABLE_STATISTICS)
            try (Connection c = cluster.connectAdmin(n); Statement st = c.createStatement()) {
                st.execute("SET GLOBAL userstat = 1");
            }
        }
    }

    @Override
    String scheme() {
        return "mariadb";
    }

    @Override
    String nonDeterministicRead(String table) {
        return "SELECT id, RAND() FROM " + table;
    }

    /** Rows read from the (one-row) table on every node, counted by each server at the end of each statement. */
    @Override
    long serverReads(String table) throws Exception {
        return sum(cluster.nodes(), n -> {
            try (Connection c = cluster.connectAdmin(n);
                 PreparedStatement ps = c.prepareStatement("SELECT coalesce(sum(ROWS_READ), 0) FROM information_schema.TABLE_STATISTICS"
                         + " WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?")) {
                ps.setString(1, cluster.database());
                ps.setString(2, table);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? rs.getLong(1) : 0;
                }
            }
        });
    }

    @Override
    String typesColumns() {
        return "id int PRIMARY KEY, i int, b bigint, n decimal(10,2), v varchar(20), t text, ts datetime(6), tz timestamp(3) NULL, "
                + "d date, vb varbinary(10), bl blob, bo boolean";
    }

    @Override
    String typesValues() {
        return "1, 42, 9000000000, 12.50, 'héllo', 'a longer text', '2024-02-29 13:14:15.123456', '2024-02-29 13:14:15.123', "
                + "'2024-02-29', x'00ff10', x'0102', true";
    }
}
