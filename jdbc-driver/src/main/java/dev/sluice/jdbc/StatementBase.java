package dev.sluice.jdbc;

import java.sql.SQLException;
import java.sql.Statement;
import java.util.Collection;

/**
 * The settings half of {@link SluiceStatement} and {@link ShardedStatement}: each setting is kept in
 * {@link StatementSettings} and applied to every real statement opened so far (one per node or shard the statement
 * ran on) and to those opened later.
 */
abstract class StatementBase implements Statement {
    final StatementSettings settings = new StatementSettings();

    abstract void checkOpen() throws SQLException;

    /** The real statements opened so far, which a changed setting applies to. */
    abstract Collection<Statement> openStatements();

    @Override
    public int getMaxFieldSize() throws SQLException {
        checkOpen();
        return settings.maxFieldSize();
    }

    @Override
    public void setMaxFieldSize(int max) throws SQLException {
        checkOpen();
        settings.maxFieldSize(openStatements(), max);
    }

    @Override
    public int getMaxRows() throws SQLException {
        checkOpen();
        return settings.maxRows();
    }

    @Override
    public void setMaxRows(int max) throws SQLException {
        checkOpen();
        settings.maxRows(openStatements(), max);
    }

    @Override
    public long getLargeMaxRows() throws SQLException {
        checkOpen();
        return settings.largeMaxRows();
    }

    @Override
    public void setLargeMaxRows(long max) throws SQLException {
        checkOpen();
        settings.largeMaxRows(openStatements(), max);
    }

    @Override
    public void setEscapeProcessing(boolean enable) throws SQLException {
        checkOpen();
        settings.escapeProcessing(openStatements(), enable);
    }

    @Override
    public int getQueryTimeout() throws SQLException {
        checkOpen();
        return settings.queryTimeout();
    }

    @Override
    public void setQueryTimeout(int seconds) throws SQLException {
        checkOpen();
        settings.queryTimeout(openStatements(), seconds);
    }

    @Override
    public void setCursorName(String name) throws SQLException {
        checkOpen();
        settings.cursorName(openStatements(), name);
    }

    @Override
    public void setFetchDirection(int direction) throws SQLException {
        checkOpen();
        settings.fetchDirection(openStatements(), direction);
    }

    @Override
    public int getFetchDirection() throws SQLException {
        checkOpen();
        return settings.fetchDirection();
    }

    @Override
    public void setFetchSize(int rows) throws SQLException {
        checkOpen();
        settings.fetchSize(openStatements(), rows);
    }

    @Override
    public int getFetchSize() throws SQLException {
        checkOpen();
        return settings.fetchSize();
    }

    @Override
    public void setPoolable(boolean p) throws SQLException {
        checkOpen();
        settings.poolable(openStatements(), p);
    }

    @Override
    public boolean isPoolable() throws SQLException {
        checkOpen();
        return settings.poolable();
    }

    @Override
    public void closeOnCompletion() throws SQLException {
        checkOpen();
        settings.closeOnCompletion(openStatements());
    }

    @Override
    public boolean isCloseOnCompletion() throws SQLException {
        checkOpen();
        return settings.closeOnCompletion();
    }
}
