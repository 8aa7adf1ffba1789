package dev.sluice.jdbc;

import dev.sluice.testsupport.Clusters;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import org.junit.jupiter.api.BeforeAll;

class PostgresReadCacheIT extends AbstractReadCacheIT {
    @BeforeAll
    static void start() {
        cluster = Clusters.startPostgres("cache-pg", 2);
    }

    @Override
    String scheme() {
        return "postgresql";
    }

    @Override
    String nonDeterministicRead(String table) {
        return "SELECT id, clock_timestamp() FROM " + table;
    }

    /** Sequential plus index scans of the table on every node (each server counts its own; published within ~1 s). */
    @Override
    long serverReads(String table) throws Exception {
        return sum(cluster.nodes(), n -> {
            try (Connection c = cluster.connectAdmin(n);
                 PreparedStatement ps = c.prepareStatement(
                         "SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0) FROM pg_stat_user_tables WHERE relname = ?")) {
                ps.setString(1, table);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? rs.getLong(1) : 0;
                }
            }
        });
    }

    @Override
    String typesColumns() {
        return "id int PRIMARY KEY, i int, b bigint, n numeric(10,2), v varchar(20), t text, ts timestamp, tz timestamptz, "
                + "d date, by bytea, bo boolean, u uuid, j jsonb";
    }

    @Override
    String typesValues() {
        return "1, 42, 9000000000, 12.50, 'héllo', 'a longer text', '2024-02-29 13:14:15.123456', '2024-02-29 13:14:15+02', "
                + "'2024-02-29', '\\x00ff10', true, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{\"a\": [1, 2]}'";
    }
}
