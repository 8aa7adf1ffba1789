package dev.sluice.jdbc;

import dev.sluice.core.sql.Classification;
import dev.sluice.core.sql.StatementKind;
import java.sql.CallableStatement;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.SQLClientInfoException;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.SQLWarning;
import java.sql.Savepoint;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Executor;

/**
 * An application connection to a sharded database: one {@link SluiceConnection} per shard (each with its own
 * routing session, replicas and pools), created up front because they hold no backend connection until used.
 * JDBC settings apply to all of them. Statements route by shard key ({@link ShardedStatement}).
 *
 * <p>Transactions stay on one shard: the first statement of a transaction pins it to the shard it ran on, and a
 * statement that would touch another shard fails with SQLState {@code 0A000} naming both, before it runs —
 * Sluice never commits one transaction on several shards (that would not be atomic). A {@code BEGIN} sent as
 * SQL is held back and sent to the shard of the transaction's first statement.
 */
final class ShardedConnection implements Connection, SluiceSharded {
    static final String NOT_SUPPORTED = "0A000";

    final ShardedRuntime rt;
    private final SluiceConnection[] shards;
    private boolean autoCommit = true;
    private boolean sqlTransaction; // BEGIN/START TRANSACTION ran as SQL with autocommit on
    private String pendingBegin; // that BEGIN's text, until the transaction's shard is known
    private int txShard = -1;
    private List<String> lastShards = List.of();
    private boolean closed;

    ShardedConnection(ShardedRuntime rt) {
        this.rt = rt;
        this.shards = new SluiceConnection[rt.shards.size()];
        for (int i = 0; i < shards.length; i++) {
            shards[i] = new SluiceConnection(rt.shards.get(i));
        }
    }

    SluiceConnection shard(int i) {
        return shards[i];
    }

    int shardCount() {
        return shards.length;
    }

    void checkOpen() throws SQLException {
        if (closed) {
            throw new SQLException("Sluice: connection is closed", "08003");
        }
    }

    boolean inTransaction() {
        return !autoCommit || sqlTransaction;
    }

    /** Where a statement that any shard can answer goes: the transaction's shard, else the first one. */
    int anyShard() {
        return txShard >= 0 ? txShard : 0;
    }

    /**
     * A statement is about to run on {@code mask}: inside a transaction the first one pins the shard (sending a
     * held-back BEGIN there) and any other shard is refused. {@code pins}: false for statements any shard can
     * answer (no table, broadcast reads), which do not choose the transaction's shard.
     */
    void touch(long mask, boolean pins) throws SQLException {
        lastShards = rt.map.names(mask);
        if (!inTransaction()) {
            return;
        }
        if (txShard < 0 && pins && Long.bitCount(mask) == 1) {
            txShard = Long.numberOfTrailingZeros(mask);
        }
        if (txShard < 0 ? Long.bitCount(mask) > 1 : (mask & ~(1L << txShard)) != 0) {
            List<String> others = rt.map.names(txShard < 0 ? mask : mask & ~(1L << txShard));
            throw new SQLException("Sluice: this statement would touch shard(s) " + others + " inside a transaction "
                    + (txShard < 0 ? "(a transaction cannot span shards)" : "pinned to shard " + rt.map.shardName(txShard))
                    + ": a transaction stays on one shard, because a commit on several shards would not be atomic; "
                    + "commit first, or keep the transaction's statements on one shard key", NOT_SUPPORTED);
        }
        if (pendingBegin != null && txShard >= 0) {
            String begin = pendingBegin;
            pendingBegin = null;
            try (Statement s = shards[txShard].createStatement()) {
                s.execute(begin);
            }
        }
    }

    /** BEGIN, COMMIT, ROLLBACK, SAVEPOINT … sent as SQL. */
    void transactionStatement(String sql, Classification c) throws SQLException {
        StatementKind k = c.kind();
        if (k == StatementKind.BEGIN || k == StatementKind.BEGIN_READ_ONLY || k == StatementKind.BEGIN_READ_WRITE) {
            if (txShard >= 0 || pendingBegin != null) {
                throw new SQLException("Sluice: a transaction is already open", "25001");
            }
            sqlTransaction = autoCommit;
            pendingBegin = sql; // sent with the transaction's first statement, to that statement's shard
            lastShards = List.of();
            return;
        }
        if (k == StatementKind.COMMIT || k == StatementKind.ROLLBACK) {
            int s = txShard;
            endTransaction();
            lastShards = s < 0 ? List.of() : List.of(rt.map.shardName(s));
            if (s >= 0) {
                try (Statement st = shards[s].createStatement()) {
                    st.execute(sql);
                }
            }
            return;
        }
        if (txShard >= 0) {
            lastShards = List.of(rt.map.shardName(txShard));
            try (Statement st = shards[txShard].createStatement()) {
                st.execute(sql);
            }
        } else if (!inTransaction()) { // e.g. SET TRANSACTION for the next transaction: every shard's session
            lastShards = rt.map.names(rt.map.allShards());
            for (SluiceConnection shard : shards) {
                try (Statement st = shard.createStatement()) {
                    st.execute(sql);
                }
            }
        } else {
            throw new SQLException("Sluice: '" + sql.strip() + "' before the transaction has chosen its shard: run a statement "
                    + "that touches the shard first", NOT_SUPPORTED);
        }
    }

    private void endTransaction() {
        txShard = -1;
        pendingBegin = null;
        sqlTransaction = false;
    }

    // ---- statements ----

    @Override
    public Statement createStatement() throws SQLException {
        return createStatement(java.sql.ResultSet.TYPE_FORWARD_ONLY, java.sql.ResultSet.CONCUR_READ_ONLY);
    }

    @Override
    public Statement createStatement(int type, int concurrency) throws SQLException {
        checkOpen();
        return new ShardedStatement(this, c -> c.createStatement(type, concurrency));
    }

    @Override
    public Statement createStatement(int type, int concurrency, int hold) throws SQLException {
        checkOpen();
        return new ShardedStatement(this, c -> c.createStatement(type, concurrency, hold));
    }

    @Override
    public PreparedStatement prepareStatement(String sql) throws SQLException {
        checkOpen();
        return new ShardedPreparedStatement(this, sql, (c, s) -> c.prepareStatement(s));
    }

    @Override
    public PreparedStatement prepareStatement(String sql, int type, int concurrency) throws SQLException {
        checkOpen();
        return new ShardedPreparedStatement(this, sql, (c, s) -> c.prepareStatement(s, type, concurrency));
    }

    @Override
    public PreparedStatement prepareStatement(String sql, int type, int concurrency, int hold) throws SQLException {
        checkOpen();
        return new ShardedPreparedStatement(this, sql, (c, s) -> c.prepareStatement(s, type, concurrency, hold));
    }

    @Override
    public PreparedStatement prepareStatement(String sql, int autoGeneratedKeys) throws SQLException {
        checkOpen();
        return new ShardedPreparedStatement(this, sql, (c, s) -> c.prepareStatement(s, autoGeneratedKeys));
    }

    @Override
    public PreparedStatement prepareStatement(String sql, int[] columnIndexes) throws SQLException {
        checkOpen();
        return new ShardedPreparedStatement(this, sql, (c, s) -> c.prepareStatement(s, columnIndexes));
    }

    @Override
    public PreparedStatement prepareStatement(String sql, String[] columnNames) throws SQLException {
        checkOpen();
        return new ShardedPreparedStatement(this, sql, (c, s) -> c.prepareStatement(s, columnNames));
    }

    @Override
    public CallableStatement prepareCall(String sql) throws SQLException {
        throw new SQLFeatureNotSupportedException("Sluice: CALL has no shard key; in a sharded database prepare it on one shard "
                + "with /* sluice:shard=NAME */ through createStatement", NOT_SUPPORTED);
    }

    @Override
    public CallableStatement prepareCall(String sql, int type, int concurrency) throws SQLException {
        return prepareCall(sql);
    }

    @Override
    public CallableStatement prepareCall(String sql, int type, int concurrency, int hold) throws SQLException {
        return prepareCall(sql);
    }

    @Override
    public String nativeSQL(String sql) throws SQLException {
        return shards[anyShard()].nativeSQL(sql);
    }

    // ---- transactions: one shard each ----

    @Override
    public void setAutoCommit(boolean on) throws SQLException {
        checkOpen();
        for (SluiceConnection c : shards) {
            c.setAutoCommit(on); // JDBC: turning autocommit on commits an open transaction
        }
        autoCommit = on;
        endTransaction();
    }

    @Override
    public boolean getAutoCommit() throws SQLException {
        checkOpen();
        return autoCommit;
    }

    @Override
    public void commit() throws SQLException {
        checkOpen();
        int tx = txShard;
        endTransaction();
        if (tx >= 0) {
            shards[tx].commit(); // the only shard this transaction wrote to
        }
        for (int i = 0; i < shards.length; i++) { // reads any shard answers may have opened a (read-only) transaction
            if (i != tx) {
                shards[i].commit();
            }
        }
    }

    @Override
    public void rollback() throws SQLException {
        checkOpen();
        try {
            for (SluiceConnection c : shards) { // statements that any shard answers may have opened reads elsewhere
                c.rollback();
            }
        } finally {
            endTransaction();
        }
    }

    private SluiceConnection txConnection() throws SQLException {
        checkOpen();
        if (txShard < 0) {
            throw new SQLException("Sluice: a savepoint needs the transaction's shard: run a statement that touches it first", NOT_SUPPORTED);
        }
        return shards[txShard];
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

    // ---- settings: every shard's connection ----

    @Override
    public void setReadOnly(boolean readOnly) throws SQLException {
        checkOpen();
        for (SluiceConnection c : shards) {
            c.setReadOnly(readOnly);
        }
    }

    @Override
    public boolean isReadOnly() throws SQLException {
        return shards[0].isReadOnly();
    }

    @Override
    public void setTransactionIsolation(int level) throws SQLException {
        for (SluiceConnection c : shards) {
            c.setTransactionIsolation(level);
        }
    }

    @Override
    public int getTransactionIsolation() throws SQLException {
        return shards[anyShard()].getTransactionIsolation();
    }

    @Override
    public void setCatalog(String catalog) throws SQLException {
        for (SluiceConnection c : shards) {
            c.setCatalog(catalog);
        }
    }

    @Override
    public String getCatalog() throws SQLException {
        return shards[anyShard()].getCatalog();
    }

    @Override
    public void setSchema(String schema) throws SQLException {
        for (SluiceConnection c : shards) {
            c.setSchema(schema);
        }
    }

    @Override
    public String getSchema() throws SQLException {
        return shards[anyShard()].getSchema();
    }

    @Override
    public void setHoldability(int holdability) throws SQLException {
        for (SluiceConnection c : shards) {
            c.setHoldability(holdability);
        }
    }

    @Override
    public int getHoldability() throws SQLException {
        return shards[anyShard()].getHoldability();
    }

    @Override
    public void setNetworkTimeout(Executor executor, int ms) throws SQLException {
        for (SluiceConnection c : shards) {
            c.setNetworkTimeout(executor, ms);
        }
    }

    @Override
    public int getNetworkTimeout() throws SQLException {
        return shards[anyShard()].getNetworkTimeout();
    }

    @Override
    public void setClientInfo(String name, String value) throws SQLClientInfoException {
        for (SluiceConnection c : shards) {
            c.setClientInfo(name, value);
        }
    }

    @Override
    public void setClientInfo(Properties properties) throws SQLClientInfoException {
        for (SluiceConnection c : shards) {
            c.setClientInfo(properties);
        }
    }

    @Override
    public String getClientInfo(String name) throws SQLException {
        return shards[0].getClientInfo(name);
    }

    @Override
    public Properties getClientInfo() throws SQLException {
        return shards[0].getClientInfo();
    }

    @Override
    public Map<String, Class<?>> getTypeMap() throws SQLException {
        return shards[anyShard()].getTypeMap();
    }

    @Override
    public void setTypeMap(Map<String, Class<?>> map) throws SQLException {
        for (SluiceConnection c : shards) {
            c.setTypeMap(map);
        }
    }

    // ---- metadata and factories: the transaction's shard, else the first ----

    @Override
    public DatabaseMetaData getMetaData() throws SQLException {
        return shards[anyShard()].getMetaData();
    }

    @Override
    public java.sql.Clob createClob() throws SQLException {
        return shards[anyShard()].createClob();
    }

    @Override
    public java.sql.Blob createBlob() throws SQLException {
        return shards[anyShard()].createBlob();
    }

    @Override
    public java.sql.NClob createNClob() throws SQLException {
        return shards[anyShard()].createNClob();
    }

    @Override
    public java.sql.SQLXML createSQLXML() throws SQLException {
        return shards[anyShard()].createSQLXML();
    }

    @Override
    public java.sql.Array createArrayOf(String typeName, Object[] elements) throws SQLException {
        return shards[anyShard()].createArrayOf(typeName, elements);
    }

    @Override
    public java.sql.Struct createStruct(String typeName, Object[] attributes) throws SQLException {
        return shards[anyShard()].createStruct(typeName, attributes);
    }

    @Override
    public SQLWarning getWarnings() throws SQLException {
        checkOpen();
        SQLWarning first = null;
        for (SluiceConnection c : shards) {
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
        for (SluiceConnection c : shards) {
            c.clearWarnings();
        }
    }

    // ---- lifecycle ----

    @Override
    public boolean isValid(int timeout) throws SQLException {
        if (closed) {
            return false;
        }
        for (SluiceConnection c : shards) {
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
        for (SluiceConnection c : shards) {
            try {
                c.close();
            } catch (SQLException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
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
        for (SluiceConnection c : shards) {
            c.abort(executor);
        }
    }

    // ---- SluiceSharded ----

    @Override
    public List<String> shards() {
        return rt.map.names(rt.map.allShards());
    }

    @Override
    public SluiceAdmin shard(String name) {
        int i = rt.map.shardIndex(name);
        if (i < 0) {
            throw new IllegalArgumentException("no shard '" + name + "' (shards: " + shards() + ")");
        }
        return rt.shards.get(i);
    }

    @Override
    public String transactionShard() {
        return txShard < 0 ? null : rt.map.shardName(txShard);
    }

    @Override
    public List<String> lastShards() {
        return new ArrayList<>(lastShards);
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        if (iface.isInstance(this)) {
            return iface.cast(this);
        }
        return shards[anyShard()].unwrap(iface);
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) throws SQLException {
        return iface.isInstance(this) || shards[anyShard()].isWrapperFor(iface);
    }
}
