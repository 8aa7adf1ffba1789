package dev.sluice.testsupport;

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDate;
import java.util.List;
import java.util.Random;

/**
 * The sharding tests' data set, one definition for the driver's and both proxies' integration tests: the same
 * tables and rows go through Sluice (split across the shards) and straight into an unsharded reference database,
 * and every query's result through Sluice must equal the reference's. Seeded, so every run loads the same rows.
 */
public final class ShardingDataSet {
    private ShardingDataSet() {
    }

    public static final String[] STATUS = {"open", "closed", "shipped", null};
    /** Case and accents on purpose: MySQL collations order them unlike code points. */
    public static final String[] TAG = {"alpha", "Alpha", "beta", "Beta", "gamma", "Zeta", "éclair"};
    public static final String[] COUNTRY = {"DE", "FR", "US", "JP"};

    /** Valid on PostgreSQL and MariaDB alike. */
    public static final String[] DDL = {
        "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL, amount numeric(10,2), status varchar(16), "
                + "tag varchar(16), country varchar(2), created date)",
        "CREATE TABLE events (id bigint PRIMARY KEY, kind varchar(16), v int)",
        "CREATE TABLE countries (code varchar(2) PRIMARY KEY, name varchar(40))",
        "CREATE TABLE settings (k varchar(20) PRIMARY KEY, v varchar(40))",
        "CREATE TABLE notes (id bigint PRIMARY KEY, k bigint NOT NULL, body varchar(40))",
    };

    /** The {@code tables:} block of database {@code app} (shards s1..s3), indented to sit under {@code app:}. */
    public static final String TABLES_YAML = """
                tables:
                  orders: { key: customer_id, strategy: hash }
                  notes: { key: k, strategy: hash }
                  events: { key: id, strategy: range, ranges: { s1: "[MIN,1000)", s2: "[1000,5000)", s3: "[5000,MAX)" } }
                  countries: { broadcast: true }
                  settings: { home: s1 }
            """;

    /**
     * Loads the rows through {@code sharded} (batches of bound parameters: each row is routed by its key) and into
     * {@code reference}: 3,000 orders over 300 customers, 7,000 events over the three ranges, broadcast countries
     * and home-shard settings.
     */
    public static void load(Connection sharded, Connection reference) throws SQLException {
        Random rnd = new Random(42);
        String ins = "INSERT INTO orders (id, customer_id, amount, status, tag, country, created) VALUES (?, ?, ?, ?, ?, ?, ?)";
        try (PreparedStatement a = sharded.prepareStatement(ins); PreparedStatement b = reference.prepareStatement(ins)) {
            for (int id = 1; id <= 3000; id++) {
                Object[] row = {(long) id, (long) rnd.nextInt(300), id % 97 == 0 ? null : BigDecimal.valueOf(rnd.nextInt(100_000), 2),
                    STATUS[rnd.nextInt(STATUS.length)], TAG[rnd.nextInt(TAG.length)], COUNTRY[rnd.nextInt(COUNTRY.length)],
                    java.sql.Date.valueOf(LocalDate.of(2024, 1, 1).plusDays(rnd.nextInt(60)))};
                for (PreparedStatement p : List.of(a, b)) {
                    for (int i = 0; i < row.length; i++) {
                        p.setObject(i + 1, row[i]);
                    }
                    p.addBatch();
                }
            }
            int[] counts = a.executeBatch(); // each row to its customer_id's shard
            if (counts.length != 3000) {
                throw new IllegalStateException("loading orders through Sluice: " + counts.length + " batch counts for 3000 rows");
            }
            b.executeBatch();
        }
        String ev = "INSERT INTO events (id, kind, v) VALUES (?, ?, ?)";
        try (PreparedStatement a = sharded.prepareStatement(ev); PreparedStatement b = reference.prepareStatement(ev)) {
            for (int id = 0; id < 7000; id++) {
                String kind = "k" + rnd.nextInt(5);
                int v = rnd.nextInt(1000);
                for (PreparedStatement p : List.of(a, b)) {
                    p.setLong(1, id);
                    p.setString(2, kind);
                    p.setInt(3, v);
                    p.addBatch();
                }
            }
            a.executeBatch();
            b.executeBatch();
        }
        try (Statement st = sharded.createStatement(); Statement rst = reference.createStatement()) {
            for (String sql : new String[] {"INSERT INTO countries (code, name) VALUES ('DE', 'Germany'), ('FR', 'France'), ('US', 'United States')",
                "INSERT INTO settings (k, v) VALUES ('mode', 'fast'), ('level', '3')"}) {
                st.executeUpdate(sql); // broadcast: every shard; home: shard s1
                rst.executeUpdate(sql);
            }
        }
    }
}
