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
     * (connection exception) in both pgjdbc and MariaDB Connector/J, and the JDBC connection exception types
     * (HikariCP's borrow timeout is an SQLTransientConnectionException).
     */
    static boolean isConnectionClass(SQLException e) {
        String state = e.getSQLState();
        return (state != null && state.startsWith("08"))
                || e instanceof SQLTransientConnectionException
                || e instanceof SQLNonTransientConnectionException;
    }
}
