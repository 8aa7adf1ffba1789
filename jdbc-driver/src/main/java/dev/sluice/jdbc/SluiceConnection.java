package dev.sluice.jdbc;

import dev.sluice.core.route.NoRouteException;
import dev.sluice.core.route.RouteDecision;
import dev.sluice.core.route.Session;
import dev.sluice.core.sql.Classification;
import dev.sluice.core.sql.StatementKind;
import java.sql.CallableStatement;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLClientInfoException;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Savepoint;
import java.sql.Statement;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Executor;

/**
 * One application connection. Holds at most one backend connection per node it has used (borrowed
 * lazily from that node's pool), the routing {@link Session}, and the session state to replay on backend
 * connections opened later. Settings made through the JDBC API (autocommit, read-only, isolation,
 * catalog, schema, client info, network timeout, holdability) are applied to every backend connection.
 */
final class SluiceConnection extends ConnectionBase {
    private final ClusterRuntime runtime;
    private final Session session;
    private final Backends backends;
    private final DriverCache cache;
    private boolean closed;
    private final ConnectionSettings settings = new ConnectionSettings();

    SluiceConnection(ClusterRuntime runtime) {
        this.runtime = runtime;
        this.session = runtime.router.newSession();
        this.backends = new Backends(runtime);
        this.cache = new DriverCache(runtime, session);
    }

    /** The read cache as this connection uses it (docs/cache.md). */
    DriverCache cache() {
        return cache;
    }

    // ---- routing, used by the statements ----

    RouteDecision route(String sql) throws SQLException {
        return route(runtime.router.classify(sql));
    }

    RouteDecision route(Classification c) throws SQLException {
        checkOpen();
        try {
            return session.route(c);
        } catch (NoRouteException e) {
            throw new SQLException("Sluice: " + e.getMessage(), "08001", e);
        }
    }

    Classification classify(String sql) {
        return runtime.router.classify(sql);
    }

    ClusterRuntime runtime() {
        return runtime;
    }

    /** The backend connection to {@code node}, opened and brought up to the session's state on first use. */
    Connection physical(String node) throws SQLException {
        checkOpen();
        return backends.get(node, session, settings);
    }

    /** After a session-state statement ran on its anchor node (see {@link Backends#sessionStateApplied}). */
    void sessionStateApplied(RouteDecision d, String sql) throws SQLException {
        backends.sessionStateApplied(d, sql);
    }

    /** Marks the backend connections as carrying state that must not go back to the pool. */
    void markDirty() {
        backends.markDirty();
    }

    /**
     * A backend connection failed with a connection-class error: the node's circuit breaker opens (out of
     * routing now, not at the next probe), the broken connection is dropped, and a probe round is asked for.
     */
    void backendBroken(String node, SQLException e) {
        runtime.router.connectionFailed(node, e);
        backends.drop(node);
        runtime.probeSoon();
    }

    /** A statement ran: the session stamps committed writes (read-your-writes), fetching the position if asked. */
    void executed(RouteDecision d) throws SQLException {
        String txBefore = session.transactionNode();
        if (session.executed(d) && session.wantsPositions() && txBefore == null) {
            session.requirePosition(ReadConsistency.commitPosition(runtime.config.engine(), physical(d.node())));
        }
    }

    /** Where statements that need "some" node go: the transaction's node, else the primary, else a replica. */
    @Override
    Connection anchor() throws SQLException {
        return physical(route(Classification.of(StatementKind.EMPTY, "anchor")).node());
    }

    /** Answers for a setting as the real driver does (MariaDB ignores setHoldability/setSchema, pgjdbc setCatalog). */
    private Connection answering() throws SQLException {
        checkOpen();
        Connection c = backends.any();
        return c != null ? c : anchor();
    }

    /** The session's routing state, for tests and diagnostics. */
    Session session() {
        return session;
    }

    private void checkOpen() throws SQLException {
        if (closed) {
            throw new SQLException("Sluice: connection is closed", "08003");
        }
    }

    // ---- statements ----

    @Override
    public Statement createStatement() throws SQLException {
        return createStatement(java.sql.ResultSet.TYPE_FORWARD_ONLY, java.sql.ResultSet.CONCUR_READ_ONLY);
    }

    @Override
    public Statement createStatement(int type, int concurrency) throws SQLException {
        checkOpen();
        return new SluiceStatement(this, c -> c.createStatement(type, concurrency), type, concurrency);
    }

    @Override
    public Statement createStatement(int type, int concurrency, int hold) throws SQLException {
        checkOpen();
        return new SluiceStatement(this, c -> c.createStatement(type, concurrency, hold), type, concurrency);
    }

    @Override
    public PreparedStatement prepareStatement(String sql) throws SQLException {
        checkOpen();
        return new SluicePreparedStatement(this, sql, c -> c.prepareStatement(sql));
    }

    @Override
    public PreparedStatement prepareStatement(String sql, int type, int concurrency) throws SQLException {
        checkOpen();
        return new SluicePreparedStatement(this, sql, c -> c.prepareStatement(sql, type, concurrency), type, concurrency);
    }

    @Override
    public PreparedStatement prepareStatement(String sql, int type, int concurrency, int hold) throws SQLException {
        checkOpen();
        return new SluicePreparedStatement(this, sql, c -> c.prepareStatement(sql, type, concurrency, hold), type, concurrency);
    }

    @Override
    public PreparedStatement prepareStatement(String sql, int autoGeneratedKeys) throws SQLException {
        checkOpen();
        return new SluicePreparedStatement(this, sql, c -> c.prepareStatement(sql, autoGeneratedKeys));
    }

    @Override
    public PreparedStatement prepareStatement(String sql, int[] columnIndexes) throws SQLException {
        checkOpen();
        return new SluicePreparedStatement(this, sql, c -> c.prepareStatement(sql, columnIndexes));
    }

    @Override
    public PreparedStatement prepareStatement(String sql, String[] columnNames) throws SQLException {
        checkOpen();
        return new SluicePreparedStatement(this, sql, c -> c.prepareStatement(sql, columnNames));
    }

    /**
     * CALL runs on the node its statement routes to (the primary, or the open transaction's node). The
     * real driver's CallableStatement is returned as is: its out-parameter API is the real driver's.
     */
    @Override
    public CallableStatement prepareCall(String sql) throws SQLException {
        return physical(route(sql).node()).prepareCall(sql);
    }

    @Override
    public CallableStatement prepareCall(String sql, int type, int concurrency) throws SQLException {
        return physical(route(sql).node()).prepareCall(sql, type, concurrency);
    }

    @Override
    public CallableStatement prepareCall(String sql, int type, int concurrency, int hold) throws SQLException {
        return physical(route(sql).node()).prepareCall(sql, type, concurrency, hold);
    }

    // ---- transactions ----

    @Override
    public void setAutoCommit(boolean autoCommit) throws SQLException {
        checkOpen();
        for (Connection c : backends.all()) {
            c.setAutoCommit(autoCommit);
        }
        if (autoCommit && !session.autoCommit()) {
            cache.ended(true); // switching autocommit on commits
        }
        session.setAutoCommit(autoCommit);
    }

    @Override
    public boolean getAutoCommit() throws SQLException {
        checkOpen();
        return session.autoCommit();
    }

    @Override
    public void commit() throws SQLException {
        checkOpen();
        try {
            backends.commitAll();
        } catch (SQLException e) {
            session.endTransaction(false);
            throw e;
        } finally {
            cache.ended(true); // a failed commit may still have committed: invalidating is the safe side
        }
        String node = session.transactionNode();
        if (session.endTransaction(true) && session.wantsPositions() && node != null) {
            session.requirePosition(ReadConsistency.commitPosition(runtime.config.engine(), physical(node)));
        }
    }

    @Override
    public void rollback() throws SQLException {
        checkOpen();
        try {
            backends.rollbackAll();
        } finally {
            session.endTransaction(false);
            cache.ended(false);
        }
    }

    @Override
    public Savepoint setSavepoint() throws SQLException {
        return txConnection().setSavepoint();
    }

    @Override
    public Savepoint setSavepoint(String name) throws SQLException {
        return txConnection().setSavepoint(name);
    }

    @Override
    public void rollback(Savepoint savepoint) throws SQLException {
        txConnection().rollback(savepoint);
    }

    @Override
    public void releaseSavepoint(Savepoint savepoint) throws SQLException {
        txConnection().releaseSavepoint(savepoint);
    }

    /** The connection of the open transaction, starting one (as a statement would) if none is open. */
    private Connection txConnection() throws SQLException {
        String node = session.transactionNode();
        if (node == null) {
            node = route(Classification.of(StatementKind.OTHER, "savepoint")).node();
        }
        return physical(node);
    }

    @Override
    public void setReadOnly(boolean readOnly) throws SQLException {
        checkOpen();
        for (Connection c : backends.all()) {
            c.setReadOnly(readOnly);
        }
        session.setReadOnly(readOnly);
    }

    @Override
    public boolean isReadOnly() throws SQLException {
        checkOpen();
        return session.readOnly();
    }

    @Override
    public void setTransactionIsolation(int level) throws SQLException {
        checkOpen();
        settings.isolation(backends.all(), level);
        cache.setting("isolation", level);
        // a PostgreSQL hot standby refuses serializable transactions: such a session reads on the primary
        session.setReplicaReadsBlocked(runtime.config.engine() == dev.sluice.core.config.Engine.POSTGRESQL
                && level == Connection.TRANSACTION_SERIALIZABLE ? "serializable-isolation-on-postgresql" : null);
    }

    @Override
    public int getTransactionIsolation() throws SQLException {
        checkOpen();
        return settings.isolation() != null ? settings.isolation() : anchor().getTransactionIsolation();
    }

    // ---- session attributes: kept in ConnectionSettings, applied to every backend connection ----

    @Override
    public void setCatalog(String catalog) throws SQLException {
        checkOpen();
        settings.catalog(backends.all(), catalog);
        cache.setting("catalog", catalog);
    }

    @Override
    public String getCatalog() throws SQLException {
        // past HikariCP's proxy, which echoes the catalog it was given even when the driver ignored it (pgjdbc)
        return answering().unwrap(Connection.class).getCatalog();
    }

    @Override
    public void setSchema(String schema) throws SQLException {
        checkOpen();
        settings.schema(backends.all(), schema);
        cache.setting("schema", schema);
    }

    @Override
    public String getSchema() throws SQLException {
        return answering().getSchema();
    }

    @Override
    public void setHoldability(int holdability) throws SQLException {
        checkOpen();
        settings.holdability(backends.all(), holdability);
    }

    @Override
    public int getHoldability() throws SQLException {
        return answering().getHoldability();
    }

    @Override
    public void setNetworkTimeout(Executor executor, int milliseconds) throws SQLException {
        checkOpen();
        settings.networkTimeout(backends.all(), executor, milliseconds);
    }

    @Override
    public int getNetworkTimeout() throws SQLException {
        checkOpen();
        Integer ms = settings.networkTimeoutMs();
        return ms != null ? ms : answering().getNetworkTimeout();
    }

    @Override
    public void setClientInfo(String name, String value) throws SQLClientInfoException {
        checkOpenForClientInfo();
        if (ReadConsistency.MAX_LAG_CLIENT_INFO.equalsIgnoreCase(name)) {
            session.setMaxLagMillis(ReadConsistency.parseMaxLag(value));
            return; // Sluice's own: the backends don't know it
        }
        settings.clientInfo(backends.all(), name, value);
    }

    @Override
    public void setClientInfo(Properties properties) throws SQLClientInfoException {
        checkOpenForClientInfo();
        settings.clientInfo(backends.all(), properties);
    }

    /** setClientInfo may only throw SQLClientInfoException (JDBC 4.3, 4.4.4), still with 08003 when closed. */
    private void checkOpenForClientInfo() throws SQLClientInfoException {
        if (closed) {
            throw new SQLClientInfoException("Sluice: connection is closed", "08003", 0, Map.of());
        }
    }

    @Override
    public String getClientInfo(String name) throws SQLException {
        checkOpen();
        return settings.clientInfo(name);
    }

    @Override
    public Properties getClientInfo() throws SQLException {
        checkOpen();
        return settings.clientInfo();
    }

    @Override
    public Map<String, Class<?>> getTypeMap() throws SQLException {
        checkOpen();
        return settings.typeMap() != null ? settings.typeMap() : anchor().getTypeMap();
    }

    @Override
    public void setTypeMap(Map<String, Class<?>> map) throws SQLException {
        checkOpen();
        settings.typeMap(backends.all(), map);
        cache.setting("type-map", map);
    }

    @Override
    public SQLWarning getWarnings() throws SQLException {
        checkOpen();
        return backends.warnings();
    }

    @Override
    public void clearWarnings() throws SQLException {
        checkOpen();
        backends.clearWarnings();
    }

    // ---- lifecycle ----

    @Override
    public boolean isValid(int timeout) throws SQLException {
        if (closed) {
            return false;
        }
        for (Connection c : backends.all()) {
            if (!c.isValid(timeout)) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void close() throws SQLException {
        if (closed) {
            return;
        }
        closed = true;
        // a transaction opened by SQL (BEGIN with autocommit on) is invisible to the pool: never hand it back;
        // nor connections carrying JDBC settings the pool would not reset (see ConnectionSettings#outlivesPoolReset)
        backends.release(session.pinnedBy() != null || session.inTransaction() || settings.outlivesPoolReset());
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    @Override
    public void abort(Executor executor) throws SQLException {
        closed = true;
        backends.abort(executor);
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        if (iface.isInstance(this)) {
            return iface.cast(this);
        }
        if (iface == SluiceAdmin.class) {
            return iface.cast(runtime);
        }
        return anchor().unwrap(iface);
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) throws SQLException {
        return iface.isInstance(this) || iface == SluiceAdmin.class || anchor().isWrapperFor(iface);
    }
}
