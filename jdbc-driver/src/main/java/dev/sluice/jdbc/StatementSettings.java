package dev.sluice.jdbc;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Collection;

/**
 * The settings made on one application statement (fetch size, max rows, timeouts …). Each setter applies to
 * every real statement already opened; {@link #apply} configures one opened later, on another node.
 * Null means "never set: the real driver's default".
 */
final class StatementSettings {
    private Integer fetchSize;
    private Integer fetchDirection;
    private Integer maxRows;
    private Long largeMaxRows;
    private Integer maxFieldSize;
    private Integer queryTimeout;
    private Boolean escapeProcessing;
    private Boolean poolable;
    private String cursorName;
    private boolean closeOnCompletion;

    void apply(Statement s) throws SQLException {
        if (fetchSize != null) {
            s.setFetchSize(fetchSize);
        }
        if (fetchDirection != null) {
            s.setFetchDirection(fetchDirection);
        }
        if (maxRows != null) {
            s.setMaxRows(maxRows);
        }
        if (largeMaxRows != null) {
            s.setLargeMaxRows(largeMaxRows);
        }
        if (maxFieldSize != null) {
            s.setMaxFieldSize(maxFieldSize);
        }
        if (queryTimeout != null) {
            s.setQueryTimeout(queryTimeout);
        }
        if (escapeProcessing != null) {
            s.setEscapeProcessing(escapeProcessing);
        }
        if (poolable != null) {
            s.setPoolable(poolable);
        }
        if (cursorName != null) {
            s.setCursorName(cursorName);
        }
        if (closeOnCompletion) {
            s.closeOnCompletion();
        }
    }

    int maxFieldSize() {
        return maxFieldSize == null ? 0 : maxFieldSize;
    }

    void maxFieldSize(Collection<Statement> open, int v) throws SQLException {
        maxFieldSize = v;
        for (Statement s : open) {
            s.setMaxFieldSize(v);
        }
    }

    int maxRows() {
        return maxRows == null ? 0 : maxRows;
    }

    void maxRows(Collection<Statement> open, int v) throws SQLException {
        maxRows = v;
        for (Statement s : open) {
            s.setMaxRows(v);
        }
    }

    long largeMaxRows() {
        return largeMaxRows != null ? largeMaxRows : maxRows();
    }

    void largeMaxRows(Collection<Statement> open, long v) throws SQLException {
        largeMaxRows = v;
        for (Statement s : open) {
            s.setLargeMaxRows(v);
        }
    }

    void escapeProcessing(Collection<Statement> open, boolean v) throws SQLException {
        escapeProcessing = v;
        for (Statement s : open) {
            s.setEscapeProcessing(v);
        }
    }

    int queryTimeout() {
        return queryTimeout == null ? 0 : queryTimeout;
    }

    void queryTimeout(Collection<Statement> open, int seconds) throws SQLException {
        if (seconds < 0) {
            throw new SQLException("Sluice: query timeout must be >= 0, got " + seconds, "HY024");
        }
        queryTimeout = seconds;
        for (Statement s : open) {
            s.setQueryTimeout(seconds);
        }
    }

    void cursorName(Collection<Statement> open, String v) throws SQLException {
        cursorName = v;
        for (Statement s : open) {
            s.setCursorName(v);
        }
    }

    int fetchDirection() {
        return fetchDirection == null ? ResultSet.FETCH_FORWARD : fetchDirection;
    }

    void fetchDirection(Collection<Statement> open, int v) throws SQLException {
        fetchDirection = v;
        for (Statement s : open) {
            s.setFetchDirection(v);
        }
    }

    int fetchSize() {
        return fetchSize == null ? 0 : fetchSize;
    }

    void fetchSize(Collection<Statement> open, int v) throws SQLException {
        fetchSize = v;
        for (Statement s : open) {
            s.setFetchSize(v);
        }
    }

    boolean poolable() {
        return poolable != null && poolable;
    }

    void poolable(Collection<Statement> open, boolean v) throws SQLException {
        poolable = v;
        for (Statement s : open) {
            s.setPoolable(v);
        }
    }

    boolean closeOnCompletion() {
        return closeOnCompletion;
    }

    void closeOnCompletion(Collection<Statement> open) throws SQLException {
        closeOnCompletion = true;
        for (Statement s : open) {
            s.closeOnCompletion();
        }
    }

    /**
     * The settings that change what a query returns, for the read cache's key; null when the result must not
     * be cached: with a fetch size the application asked for rows in chunks (MariaDB streams them), and
     * materialising them for the cache would defeat that.
     */
    String cacheShape() {
        if (fetchSize() > 0) {
            return null;
        }
        long rows = largeMaxRows();
        int field = maxFieldSize();
        boolean escapes = escapeProcessing == null || escapeProcessing;
        if (shape == null || rows != shapeRows || field != shapeField || escapes != shapeEscapes) {
            // the same text each execution: its hash is computed once, not for every key
            shape = "rows=" + rows + ",field=" + field + ",escapes=" + escapes;
            shapeRows = rows;
            shapeField = field;
            shapeEscapes = escapes;
        }
        return shape;
    }

    private String shape;
    private long shapeRows;
    private int shapeField;
    private boolean shapeEscapes;
}
