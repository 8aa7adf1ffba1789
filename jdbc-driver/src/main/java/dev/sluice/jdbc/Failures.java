package dev.sluice.jdbc;

import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLTransientConnectionException;

/** Classifies backend errors. */
final class Failures {
    private Failures() {
    }

    /**
     * A connection-class failure: the node (or the way to it) failed, not the statement. SQLState class 08
     * (connection exception) in both pgjdbc and MariaDB Connector/J, PostgreSQL's server-going-away states, and
     * the JDBC connection exception types
     * (HikariCP's borrow timeout is an SQLTransientConnectionException).
     */
    static boolean isConnectionClass(SQLException e) {
        String state = e.getSQLState();
        // 57P01-57P03: PostgreSQL admin shutdown, crash shutdown, cannot connect now (the server is going away)
        return (state != null && (state.startsWith("08") || state.equals("57P01") || state.equals("57P02") || state.equals("57P03")))
                || e instanceof SQLTransientConnectionException
                || e instanceof SQLNonTransientConnectionException;
    }
}
