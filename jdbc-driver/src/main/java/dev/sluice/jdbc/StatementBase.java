package dev.sluice.jdbc;

import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;

/**
 * The settings half of {@link SluiceStatement}: each setting is kept in {@link StatementSettings} and applied
 * to every real statement opened so far (one per node the statement ran on) and to those opened later.
 */
abstract class StatementBase implements Statement {
    // small: a statement usually runs on one or two nodes; this is allocated for every prepareStatement
    final Map<String, Statement> byNode = new java.util.HashMap<>(4);
    final StatementSettings settings = new StatementSettings();

    abstract void checkOpen() throws SQLException;

    @Override
    public int getMaxFieldSize() throws SQLException {
        checkOpen();
        return settings.maxFieldSize();
    }

    @Override
    public void setMaxFieldSize(int max) throws SQLException {
        checkOpen();
        settings.maxFieldSize(byNode.values(), max);
    }

    @Override
    public int getMaxRows() throws SQLException {
        checkOpen();
        return settings.maxRows();
    }

    @Override
    public void setMaxRows(int max) throws SQLException {
        checkOpen();
        settings.maxRows(byNode.values(), max);
    }

    @Override
    public long getLargeMaxRows() throws SQLException {
        checkOpen();
        return settings.largeMaxRows();
    }

    @Override
    public void setLargeMaxRows(long max) throws SQLException {
        checkOpen();
        settings.largeMaxRows(byNode.values(), max);
    }

    @Override
    public void setEscapeProcessing(boolean enable) throws SQLException {
        checkOpen();
        settings.escapeProcessing(byNode.values(), enable);
    }

    @Override
    public int getQueryTimeout() throws SQLException {
        checkOpen();
        return settings.queryTimeout();
    }

    @Override
    public void setQueryTimeout(int seconds) throws SQLException {
        checkOpen();
        settings.queryTimeout(byNode.values(), seconds);
    }

    @Override
    public void setCursorName(String name) throws SQLException {
        checkOpen();
        settings.cursorName(byNode.values(), name);
    }

    @Override
    public void setFetchDirection(int direction) throws SQLException {
        checkOpen();
        settings.fetchDirection(byNode.values(), direction);
    }

    @Override
    public int getFetchDirection() throws SQLException {
        checkOpen();
        return settings.fetchDirection();
    }

    @Override
    public void setFetchSize(int rows) throws SQLException {
        checkOpen();
        settings.fetchSize(byNode.values(), rows);
    }

    @Override
    public int getFetchSize() throws SQLException {
        checkOpen();
        return settings.fetchSize();
    }

    @Override
    public void setPoolable(boolean p) throws SQLException {
        checkOpen();
        settings.poolable(byNode.values(), p);
    }

    @Override
    public boolean isPoolable() throws SQLException {
        checkOpen();
        return settings.poolable();
    }

    @Override
    public void closeOnCompletion() throws SQLException {
        checkOpen();
        settings.closeOnCompletion(byNode.values());
    }

    @Override
    public boolean isCloseOnCompletion() throws SQLException {
        checkOpen();
        return settings.closeOnCompletion();
    }
}
