package dev.sluice.jdbc;

import dev.sluice.core.route.RouteDecision;
import dev.sluice.core.sql.Classification;
import dev.sluice.core.sql.StatementKind;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * A Statement that routes each execution. It keeps one real statement per node it has run on (so the
 * real driver's result sets, generated keys and warnings are what the application sees), and applies
 * the settings made on it (fetch size, max rows, timeouts …) to each of them.
 */
class SluiceStatement extends StatementBase implements SluiceRouted {
    // small: a statement usually runs on one or two nodes; this is allocated for every prepareStatement
    final java.util.Map<String, Statement> byNode = new java.util.HashMap<>(4);

    @Override
    java.util.Collection<Statement> openStatements() {
        return byNode.values();
    }

    /** Opens the real statement on a backend connection. */
    interface Opener {
        Statement open(Connection c) throws SQLException;
    }

    /** One execution on a real statement. */
    interface Exec<T> {
        T run(Statement s) throws SQLException;
    }

    final SluiceConnection conn;
    private final Opener opener;
    private List<String> batch; // created by the first addBatch
    Statement current;
    private RouteDecision lastRoute;
    private boolean closed;
    private ResultSet served; // the result of the last executeQuery when it came through the read cache
    final int rsType;
    final int rsConcurrency;
    CachedMetaData lastMeta; // of the last result captured for the read cache: the next one usually has the same columns

    SluiceStatement(SluiceConnection conn, Opener opener) {
        this(conn, opener, ResultSet.TYPE_FORWARD_ONLY, ResultSet.CONCUR_READ_ONLY);
    }

    SluiceStatement(SluiceConnection conn, Opener opener, int rsType, int rsConcurrency) {
        this.conn = conn;
        this.opener = opener;
        this.rsType = rsType;
        this.rsConcurrency = rsConcurrency;
    }

    /** The last routing decision of this statement (node and reason), for logs and tests. */
    @Override
    public RouteDecision lastRoute() {
        return lastRoute;
    }

    /** The real statement on {@code node}, opened and configured on first use. */
    Statement on(String node) throws SQLException {
        Statement s = byNode.get(node);
        if (s != null) {
            return s;
        }
        s = opener.open(conn.physical(node));
        settings.apply(s);
        byNode.put(node, s);
        return s;
    }

    /**
     * Runs on the chosen node, then applies session state to the session's other connections and tells
     * the session what ran (read-your-writes). An autocommit read whose node fails with a connection-class
     * error is retried once on another node; never inside a transaction, never a write.
     */
    <T> T run(RouteDecision d, String sqlForSessionState, String text, Exec<T> exec) throws SQLException {
        checkOpen();
        dropServed();
        try {
            return runOnce(d, sqlForSessionState, text, exec);
        } catch (SQLException e) {
            if (!Failures.isConnectionClass(e)) {
                throw e;
            }
            nodeFailed(d.node(), e);
            if (!retryable(d)) {
                throw e;
            }
            RouteDecision retry;
            try {
                retry = conn.route(d.classification());
            } catch (SQLException noRoute) {
                e.addSuppressed(noRoute);
                throw e;
            }
            if (retry.node().equals(d.node())) {
                throw e; // nowhere else to go
            }
            try {
                return runOnce(new RouteDecision(retry.node(), false, "retry-after-" + d.node() + "-failed:" + retry.reason(),
                        retry.classification()), sqlForSessionState, text, exec);
            } catch (SQLException again) {
                if (Failures.isConnectionClass(again)) {
                    nodeFailed(retry.node(), again);
                }
                again.addSuppressed(e);
                throw again;
            }
        }
    }

    private boolean retryable(RouteDecision d) {
        return d.classification().kind() == StatementKind.READ && !d.allConnections()
                && conn.session().transactionNode() == null && conn.session().autoCommit();
    }

    /** The node's connection broke: out of routing at once, its backend connection and statement dropped. */
    private void nodeFailed(String node, SQLException e) {
        conn.backendBroken(node, e);
        Statement dead = byNode.remove(node);
        if (dead != null && dead == current) {
            current = null;
        }
    }

    private <T> T runOnce(RouteDecision d, String sqlForSessionState, String text, Exec<T> exec) throws SQLException {
        lastRoute = d;
        conn.runtime().router.started(d.node());
        T result;
        try {
            Statement s = on(d.node());
            current = s;
            result = exec.run(s);
        } finally {
            conn.runtime().router.finished(d.node());
            conn.cache().ran(d, sqlForSessionState, text, conn.session().inTransaction()); // failed writes may have changed rows too
        }
        if (d.allConnections() && sqlForSessionState != null) {
            conn.sessionStateApplied(d, sqlForSessionState);
        } else if (d.classification().effect() != dev.sluice.core.sql.SessionEffect.NONE) {
            conn.markDirty();
        }
        conn.executed(d);
        return result;
    }

    private <T> T runSql(String sql, Exec<T> exec) throws SQLException {
        checkOpen();
        return run(conn.route(sql), sql, sql, exec);
    }

    /** The settings that shape a query's result (read-cache key), or null when it must not be cached. */
    String cacheShape() {
        return rsConcurrency == ResultSet.CONCUR_READ_ONLY && rsType != ResultSet.TYPE_SCROLL_SENSITIVE ? settings.cacheShape() : null;
    }

    /** executeQuery was answered through the read cache: {@code rs} is its result ({@code hit}: no node ran it). */
    ResultSet served(ResultSet rs, RouteDecision hit) throws SQLException {
        dropServed();
        served = rs;
        if (hit != null) {
            lastRoute = hit;
        }
        return rs;
    }

    /** Executing again closes the previous result set (JDBC), without closeOnCompletion closing this statement. */
    private void dropServed() throws SQLException {
        ResultSet old = served;
        served = null;
        if (old != null) {
            old.close();
        }
    }

    /** A cached result set of this statement was closed (closeOnCompletion closes the statement then). */
    void resultClosed(Object rs) throws SQLException {
        if (rs == served && settings.closeOnCompletion()) {
            close();
        }
    }

    void checkOpen() throws SQLException {
        if (closed) {
            throw new SQLException("Sluice: statement is closed", "HY010");
        }
    }

    private Statement currentOrThrow() throws SQLException {
        checkOpen();
        if (current == null) {
            throw new SQLException("Sluice: no statement has been executed yet", "HY010");
        }
        return current;
    }

    // ---- execution ----

    @Override
    public ResultSet executeQuery(String sql) throws SQLException {
        checkOpen();
        if (!conn.cache().enabled()) {
            return runSql(sql, s -> s.executeQuery(sql));
        }
        return conn.cache().query(this, sql, conn.classify(sql), null, () -> runSql(sql, s -> s.executeQuery(sql)));
    }

    @Override
    public int executeUpdate(String sql) throws SQLException {
        return runSql(sql, s -> s.executeUpdate(sql));
    }

    @Override
    public boolean execute(String sql) throws SQLException {
        return runSql(sql, s -> s.execute(sql));
    }

    @Override
    public int executeUpdate(String sql, int autoGeneratedKeys) throws SQLException {
        return runSql(sql, s -> s.executeUpdate(sql, autoGeneratedKeys));
    }

    @Override
    public int executeUpdate(String sql, int[] columnIndexes) throws SQLException {
        return runSql(sql, s -> s.executeUpdate(sql, columnIndexes));
    }

    @Override
    public int executeUpdate(String sql, String[] columnNames) throws SQLException {
        return runSql(sql, s -> s.executeUpdate(sql, columnNames));
    }

    @Override
    public boolean execute(String sql, int autoGeneratedKeys) throws SQLException {
        return runSql(sql, s -> s.execute(sql, autoGeneratedKeys));
    }

    @Override
    public boolean execute(String sql, int[] columnIndexes) throws SQLException {
        return runSql(sql, s -> s.execute(sql, columnIndexes));
    }

    @Override
    public boolean execute(String sql, String[] columnNames) throws SQLException {
        return runSql(sql, s -> s.execute(sql, columnNames));
    }

    @Override
    public long executeLargeUpdate(String sql) throws SQLException {
        return runSql(sql, s -> s.executeLargeUpdate(sql));
    }

    @Override
    public long executeLargeUpdate(String sql, int autoGeneratedKeys) throws SQLException {
        return runSql(sql, s -> s.executeLargeUpdate(sql, autoGeneratedKeys));
    }

    @Override
    public long executeLargeUpdate(String sql, int[] columnIndexes) throws SQLException {
        return runSql(sql, s -> s.executeLargeUpdate(sql, columnIndexes));
    }

    @Override
    public long executeLargeUpdate(String sql, String[] columnNames) throws SQLException {
        return runSql(sql, s -> s.executeLargeUpdate(sql, columnNames));
    }

    // ---- batches: all statements of a batch run on one node ----

    @Override
    public void addBatch(String sql) throws SQLException {
        checkOpen();
        if (batch == null) {
            batch = new ArrayList<>();
        }
        batch.add(sql);
    }

    @Override
    public void clearBatch() throws SQLException {
        checkOpen();
        batch = null;
    }

    @Override
    public int[] executeBatch() throws SQLException {
        return runBatch(Statement::executeBatch);
    }

    @Override
    public long[] executeLargeBatch() throws SQLException {
        return runBatch(Statement::executeLargeBatch);
    }

    private <T> T runBatch(Exec<T> exec) throws SQLException {
        checkOpen();
        List<String> sqls = batch == null ? List.of() : batch;
        batch = null;
        boolean allReads = !sqls.isEmpty();
        for (String sql : sqls) {
            allReads &= conn.classify(sql).kind() == StatementKind.READ;
        }
        // a batch is one round trip to one node: unless every statement is a read, that is the primary
        RouteDecision d = conn.route(allReads ? Classification.of(StatementKind.READ, "batch")
                : Classification.of(StatementKind.WRITE, "batch"));
        return run(d, null, String.join(";\n", sqls), s -> {
            for (String sql : sqls) {
                s.addBatch(sql);
            }
            return exec.run(s);
        });
    }

    // ---- results: from the real statement that ran last ----

    @Override
    public ResultSet getResultSet() throws SQLException {
        checkOpen();
        return served != null ? served : currentOrThrow().getResultSet();
    }

    @Override
    public int getUpdateCount() throws SQLException {
        checkOpen();
        return served != null ? -1 : currentOrThrow().getUpdateCount();
    }

    @Override
    public long getLargeUpdateCount() throws SQLException {
        checkOpen();
        return served != null ? -1 : currentOrThrow().getLargeUpdateCount();
    }

    @Override
    public boolean getMoreResults() throws SQLException {
        checkOpen();
        return served != null ? getMoreResults(CLOSE_CURRENT_RESULT) : currentOrThrow().getMoreResults();
    }

    @Override
    public boolean getMoreResults(int current) throws SQLException {
        checkOpen();
        if (served != null) { // a cached result is one result set, nothing follows it
            if (current != KEEP_CURRENT_RESULT) {
                served.close();
            }
            served = null;
            return false;
        }
        return currentOrThrow().getMoreResults(current);
    }

    @Override
    public ResultSet getGeneratedKeys() throws SQLException {
        return currentOrThrow().getGeneratedKeys();
    }

    @Override
    public SQLWarning getWarnings() throws SQLException {
        checkOpen();
        return current == null || (served != null && DriverCache.HIT_NODE.equals(lastRoute.node())) ? null : current.getWarnings();
    }

    @Override
    public void clearWarnings() throws SQLException {
        checkOpen();
        for (Statement s : byNode.values()) {
            s.clearWarnings();
        }
    }

    @Override
    public void cancel() throws SQLException {
        Statement s = current;
        if (s != null) {
            s.cancel();
        }
    }

    @Override
    public int getResultSetConcurrency() throws SQLException {
        return current != null ? current.getResultSetConcurrency() : ResultSet.CONCUR_READ_ONLY;
    }

    @Override
    public int getResultSetType() throws SQLException {
        return current != null ? current.getResultSetType() : ResultSet.TYPE_FORWARD_ONLY;
    }

    @Override
    public int getResultSetHoldability() throws SQLException {
        return current != null ? current.getResultSetHoldability() : conn.getHoldability();
    }

    @Override
    public Connection getConnection() throws SQLException {
        checkOpen();
        return conn;
    }

    @Override
    public void close() throws SQLException {
        if (closed) {
            return;
        }
        closed = true;
        if (served != null) {
            served.close(); // JDBC: closing a statement closes its current result set
        }
        SQLException first = null;
        for (Statement s : byNode.values()) {
            try {
                s.close();
            } catch (SQLException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        byNode.clear();
        if (first != null) {
            throw first;
        }
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        if (iface.isInstance(this)) {
            return iface.cast(this);
        }
        if (current != null) {
            return current.unwrap(iface);
        }
        throw new SQLException("Sluice: not a wrapper for " + iface.getName() + " before the first execution", "HY000");
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) throws SQLException {
        return iface.isInstance(this) || (current != null && current.isWrapperFor(iface));
    }
}
