package dev.sluice.jdbc;

import dev.sluice.core.config.Engine;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLClientInfoException;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.Map;

/** The driver's side of read consistency: commit positions (read-your-writes) and staleness budgets. */
final class ReadConsistency {
    /** Client-info name of the session staleness budget, e.g. "200ms" (see docs/health.md). */
    static final String MAX_LAG_CLIENT_INFO = "SluiceMaxLag";

    private ReadConsistency() {
    }

    /**
     * The primary's position right after this session's commit, read on the same backend connection: every
     * write of the session is at or before it. One extra round trip per write — the price of position mode.
     * PostgreSQL: {@code pg_current_wal_insert_lsn()}; MariaDB: {@code @@last_gtid} (the session's last GTID); MySQL:
     * {@code @@GLOBAL.gtid_executed} (a superset: exact but may wait for others' writes too).
     */
    static String commitPosition(Engine engine, Connection primary) throws SQLException {
        if (engine == Engine.POSTGRESQL) {
            // the insert position covers our commit record even before it is written out (synchronous_commit=off)
            return single(primary, "SELECT pg_current_wal_insert_lsn()::text");
        }
        try {
            return single(primary, "SELECT @@last_gtid"); // MariaDB: this session's last GTID
        } catch (SQLException e) {
            // MySQL has no per-session last GTID without session tracking: the executed set after our commit covers it
            return single(primary, "SELECT @@GLOBAL.gtid_executed");
        }
    }

    private static String single(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    /** "200ms", "2s" or "200" (ms); empty or null removes the budget (-1). */
    static long parseMaxLag(String value) throws SQLClientInfoException {
        if (value == null || value.isBlank()) {
            return -1;
        }
        String v = value.trim().toLowerCase(Locale.ROOT);
        try {
            if (v.endsWith("ms")) {
                return Long.parseLong(v.substring(0, v.length() - 2).trim());
            }
            if (v.endsWith("s")) {
                return Long.parseLong(v.substring(0, v.length() - 1).trim()) * 1000;
            }
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new SQLClientInfoException("Sluice: " + MAX_LAG_CLIENT_INFO + ": expected e.g. 200ms or 2s, got '" + value + "'",
                    "HY024", 0, Map.of());
        }
    }
}
