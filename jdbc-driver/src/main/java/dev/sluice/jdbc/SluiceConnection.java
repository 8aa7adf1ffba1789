package dev.sluice.jdbc;

import dev.sluice.core.route.NoRouteException;
import dev.sluice.core.route.RouteDecision;
import dev.sluice.core.route.Session;
import dev.sluice.core.sql.Classification;
import dev.sluice.core.sql.StatementKind;
import java.sql.Array;
import java.sql.Blob;
import java.sql.CallableStatement;
import java.sql.Clob;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.NClob;
import java.sql.PreparedStatement;
import java.sql.SQLClientInfoException;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.SQLXML;
import java.sql.Savepoint;
import java.sql.Statement;
import java.sql.Struct;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Executor;

/**
 * One application connection. Holds at most one backend connection per node it has used (borrowed
 * lazily from that node's pool), the routing {@link Session}, and the session state to replay on backend
 * connections opened later. Settings made through the JDBC API (autocommit, read-only, isolation,
 * catalog, schema, client info, network timeout, holdability) are applied to every backend connection.
 */
final class SluiceConnection implements Connection {
    private final ClusterRuntime runtime;
    private final Session session;
    private final Map<String, Connection> held = new LinkedHashMap<>();
    private final List<String> sessionSql = new ArrayList<>();
    private boolean dirty; // backend connections carry session state: evict instead of returning them
    private boolean closed;
    private Integer isolation;
    private String catalog;
    private String schema;
    private Integer holdability;
    private Executor networkTimeoutExecutor;
    private int networkTimeoutMs;
    private final Properties clientInfo = new Properties();
    private Map<String, Class<?>> typeMap;

    SluiceConnection(ClusterRuntime runtime) {
        this.runtime = runtime;
        this.session = runtime.router.newSession();
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
        Connection c = held.get(node);
        if (c != null) {
            return c;
        }
        c = runtime.borrow(node);
        try {
            c.setAutoCommit(session.autoCommit());
            if (session.readOnly()) {
                c.setReadOnly(true);
            }
            if (isolation != null) {
                c.setTransactionIsolation(isolation);
            }
            if (catalog != null) {
                c.setCatalog(catalog);
            }
            if (schema != null) {
                c.setSchema(schema);
            }
            if (holdability != null) {
                c.setHoldability(holdability);
            }
            if (networkTimeoutExecutor != null) {
                c.setNetworkTimeout(networkTimeoutExecutor, networkTimeoutMs);
            }
            if (!clientInfo.isEmpty()) {
                c.setClientInfo(clientInfo);
            }
            if (typeMap != null) {
                c.setTypeMap(typeMap);
            }
            if (!sessionSql.isEmpty()) {
                try (Statement st = c.createStatement()) {
                    for (String sql : sessionSql) {
                        st.execute(sql);
                    }
                }
            }
        } catch (SQLException e) {
            runtime.evict(node, c);
            throw e;
        }
        held.put(node, c);
        return c;
    }

    /**
     * After a session-state statement ran on its anchor node: run it on every other held connection and
     * remember it for connections opened later.
     */
    void sessionStateApplied(RouteDecision d, String sql) throws SQLException {
        dirty = true;
        for (Map.Entry<String, Connection> e : new ArrayList<>(held.entrySet())) {
            if (!e.getKey().equals(d.node())) {
                try (Statement st = e.getValue().createStatement()) {
                    st.execute(sql);
                }
            }
        }
        if (d.classification().kind() == StatementKind.SESSION_STATE) {
            sessionSql.add(sql);
        }
    }

    /** Marks the backend connections as carrying state that must not go back to the pool. */
    void markDirty() {
        dirty = true;
    }

    /** A backend failed: connection-class errors make the runtime re-probe roles at once. */
    void backendFailed(SQLException e) {
        String state = e.getSQLState();
        if (state == null || state.startsWith("08")) {
            runtime.probeSoon();
        }
    }

    /** Where statements that need "some" node go: the transaction's node, else the primary, else a replica. */
    private Connection anchor() throws SQLException {
        return physical(route(Classification.of(StatementKind.EMPTY, "anchor")).node());
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
        return new SluiceStatement(this, c -> c.createStatement(type, concurrency));
    }

    @Override
    public Statement createStatement(int type, int concurrency, int hold) throws SQLException {
        checkOpen();
        return new SluiceStatement(this, c -> c.createStatement(type, concurrency, hold));
    }

    @Override
    public PreparedStatement prepareStatement(String sql) throws SQLException {
        checkOpen();
        return new SluicePreparedStatement(this, sql, c -> c.prepareStatement(sql));
    }

    @Override
    public PreparedStatement prepareStatement(String sql, int type, int concurrency) throws SQLException {
        checkOpen();
        return new SluicePreparedStatement(this, sql, c -> c.prepareStatement(sql, type, concurrency));
    }

    @Override
    public PreparedStatement prepareStatement(String sql, int type, int concurrency, int hold) throws SQLException {
        checkOpen();
        return new SluicePreparedStatement(this, sql, c -> c.prepareStatement(sql, type, concurrency, hold));
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

    @Override
    public String nativeSQL(String sql) throws SQLException {
        return anchor().nativeSQL(sql);
    }

    // ---- transactions ----

    @Override
    public void setAutoCommit(boolean autoCommit) throws SQLException {
        checkOpen();
        for (Connection c : held.values()) {
            c.setAutoCommit(autoCommit);
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
            for (Connection c : held.values()) {
                if (!c.getAutoCommit()) {
                    c.commit();
                }
            }
        } finally {
            session.endTransaction();
        }
    }

    @Override
    public void rollback() throws SQLException {
        checkOpen();
        try {
            for (Connection c : held.values()) {
                if (!c.getAutoCommit()) {
                    c.rollback();
                }
            }
        } finally {
            session.endTransaction();
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
        for (Connection c : held.values()) {
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
        for (Connection c : held.values()) {
            c.setTransactionIsolation(level);
        }
        isolation = level;
    }

    @Override
    public int getTransactionIsolation() throws SQLException {
        return isolation != null ? isolation : anchor().getTransactionIsolation();
    }

    // ---- session attributes ----

    @Override
    public void setCatalog(String catalog) throws SQLException {
        checkOpen();
        for (Connection c : held.values()) {
            c.setCatalog(catalog);
        }
        this.catalog = catalog;
    }

    @Override
    public String getCatalog() throws SQLException {
        return catalog != null ? catalog : anchor().getCatalog();
    }

    @Override
    public void setSchema(String schema) throws SQLException {
        checkOpen();
        for (Connection c : held.values()) {
            c.setSchema(schema);
        }
        this.schema = schema;
    }

    @Override
    public String getSchema() throws SQLException {
        return schema != null ? schema : anchor().getSchema();
    }

    @Override
    public void setHoldability(int holdability) throws SQLException {
        checkOpen();
        for (Connection c : held.values()) {
            c.setHoldability(holdability);
        }
        this.holdability = holdability;
    }

    @Override
    public int getHoldability() throws SQLException {
        return holdability != null ? holdability : anchor().getHoldability();
    }

    @Override
    public void setNetworkTimeout(Executor executor, int milliseconds) throws SQLException {
        checkOpen();
        for (Connection c : held.values()) {
            c.setNetworkTimeout(executor, milliseconds);
        }
        this.networkTimeoutExecutor = executor;
        this.networkTimeoutMs = milliseconds;
    }

    @Override
    public int getNetworkTimeout() throws SQLException {
        checkOpen();
        return networkTimeoutMs;
    }

    @Override
    public void setClientInfo(String name, String value) throws SQLClientInfoException {
        if (value == null) {
            clientInfo.remove(name);
        } else {
            clientInfo.setProperty(name, value);
        }
        for (Connection c : held.values()) {
            c.setClientInfo(name, value);
        }
    }

    @Override
    public void setClientInfo(Properties properties) throws SQLClientInfoException {
        clientInfo.clear();
        clientInfo.putAll(properties);
        for (Connection c : held.values()) {
            c.setClientInfo(properties);
        }
    }

    @Override
    public String getClientInfo(String name) throws SQLException {
        checkOpen();
        return clientInfo.getProperty(name);
    }

    @Override
    public Properties getClientInfo() throws SQLException {
        checkOpen();
        Properties p = new Properties();
        p.putAll(clientInfo);
        return p;
    }

    @Override
    public Map<String, Class<?>> getTypeMap() throws SQLException {
        return typeMap != null ? typeMap : anchor().getTypeMap();
    }

    @Override
    public void setTypeMap(Map<String, Class<?>> map) throws SQLException {
        checkOpen();
        for (Connection c : held.values()) {
            c.setTypeMap(map);
        }
        this.typeMap = map;
    }

    // ---- metadata and factories: served by a real backend connection ----

    @Override
    public DatabaseMetaData getMetaData() throws SQLException {
        return anchor().getMetaData();
    }

    @Override
    public Clob createClob() throws SQLException {
        return anchor().createClob();
    }

    @Override
    public Blob createBlob() throws SQLException {
        return anchor().createBlob();
    }

    @Override
    public NClob createNClob() throws SQLException {
        return anchor().createNClob();
    }

    @Override
    public SQLXML createSQLXML() throws SQLException {
        return anchor().createSQLXML();
    }

    @Override
    public Array createArrayOf(String typeName, Object[] elements) throws SQLException {
        return anchor().createArrayOf(typeName, elements);
    }

    @Override
    public Struct createStruct(String typeName, Object[] attributes) throws SQLException {
        return anchor().createStruct(typeName, attributes);
    }

    @Override
    public SQLWarning getWarnings() throws SQLException {
        checkOpen();
        SQLWarning first = null;
        for (Connection c : held.values()) {
            SQLWarning w = c.getWarnings();
            if (w != null) {
                if (first == null) {
                    first = w;
                } else {
                    first.setNextWarning(w);
                }
            }
        }
        return first;
    }

    @Override
    public void clearWarnings() throws SQLException {
        checkOpen();
        for (Connection c : held.values()) {
            c.clearWarnings();
        }
    }

    // ---- lifecycle ----

    @Override
    public boolean isValid(int timeout) throws SQLException {
        if (closed) {
            return false;
        }
        for (Connection c : held.values()) {
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
        SQLException first = null;
        // a transaction opened by SQL (BEGIN with autocommit on) is invisible to the pool: never hand it back
        boolean evict = dirty || session.pinnedBy() != null || session.inTransaction();
        for (Map.Entry<String, Connection> e : held.entrySet()) {
            Connection c = e.getValue();
            try {
                if (!c.getAutoCommit()) {
                    c.rollback(); // JDBC leaves an open transaction's fate to the driver: we choose not to commit
                }
            } catch (SQLException ex) {
                evict = true;
            }
            try {
                if (evict) {
                    runtime.evict(e.getKey(), c);
                } else {
                    c.close();
                }
            } catch (SQLException ex) {
                if (first == null) {
                    first = ex;
                }
            }
        }
        held.clear();
        if (first != null) {
            throw first;
        }
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    @Override
    public void abort(Executor executor) throws SQLException {
        closed = true;
        for (Connection c : held.values()) {
            c.abort(executor);
        }
        held.clear();
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        if (iface.isInstance(this)) {
            return iface.cast(this);
        }
        return anchor().unwrap(iface);
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) throws SQLException {
        return iface.isInstance(this) || anchor().isWrapperFor(iface);
    }
}
