package dev.sluice.jdbc;

import dev.sluice.core.route.RouteDecision;
import dev.sluice.core.sql.Classification;
import java.sql.Connection;
import java.sql.ParameterMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * A PreparedStatement that runs on the node its statement routes to, with its parameters. The SQL is
 * classified once, at prepare time (and cached). Parameters are recorded and replayed on the real
 * prepared statement of whichever node an execution goes to, so a read can go to a different replica
 * each time while a write always reaches the primary.
 */
final class SluicePreparedStatement extends SluiceStatement implements PreparedStatement {
    /** Sets one parameter on a real prepared statement. */
    interface Param {
        void apply(PreparedStatement ps) throws SQLException;
    }

    private final String sql;
    private final Classification classification;
    private final List<Param> params = new ArrayList<>();
    private final List<Key> keys = new ArrayList<>(); // ParamKeys of params, same indexes
    private List<List<Param>> batches; // created by the first addBatch

    SluicePreparedStatement(SluiceConnection conn, String sql, PsOpener opener) {
        this(conn, sql, opener, ResultSet.TYPE_FORWARD_ONLY, ResultSet.CONCUR_READ_ONLY);
    }

    SluicePreparedStatement(SluiceConnection conn, String sql, PsOpener opener, int rsType, int rsConcurrency) {
        super(conn, c -> opener.open(c), rsType, rsConcurrency);
        this.sql = sql;
        this.classification = conn.classify(sql);
    }

    /** Opens the real prepared statement on a backend connection. */
    interface PsOpener {
        PreparedStatement open(Connection c) throws SQLException;
    }

    /** A parameter's part of the read cache's key, computed only when a cacheable read executes. */
    interface Key {
        Object key();
    }

    /** Records parameter {@code index}: how to set it on a real statement, and its part of the cache key. */
    private void set(int index, Key key, Param p) throws SQLException {
        checkOpen();
        if (index < 1) {
            throw new SQLException("Sluice: parameter index must be >= 1, got " + index, "07009");
        }
        while (params.size() < index) {
            params.add(null);
            keys.add(null);
        }
        params.set(index - 1, p);
        keys.set(index - 1, key);
    }

    /** The cache key part of the parameters set now, or {@link ParamKeys#UNCACHEABLE}. */
    private Object paramKeys() {
        List<Object> out = new ArrayList<>(keys.size());
        for (Key k : keys) {
            Object v = k == null ? null : k.key();
            if (v == ParamKeys.UNCACHEABLE) {
                return v;
            }
            out.add(v);
        }
        return java.util.Collections.unmodifiableList(out);
    }

    /** Sets the recorded parameters on the real prepared statement an execution runs on. */
    private static void bind(PreparedStatement real, List<Param> ps) throws SQLException {
        real.clearParameters();
        for (Param p : ps) {
            if (p != null) {
                p.apply(real);
            }
        }
    }

    private <T> T exec(Exec<T> e) throws SQLException {
        checkOpen();
        RouteDecision d = conn.route(classification);
        // a parameterless session-state statement can be replayed like plain SQL
        String replay = params.isEmpty() ? sql : null;
        return run(d, replay, sql, s -> {
            bind((PreparedStatement) s, params);
            return e.run(s);
        });
    }

    @Override
    public ResultSet executeQuery() throws SQLException {
        checkOpen();
        if (!conn.cache().enabled()) {
            return exec(s -> ((PreparedStatement) s).executeQuery());
        }
        return conn.cache().query(this, sql, classification, paramKeys(), () -> exec(s -> ((PreparedStatement) s).executeQuery()));
    }

    @Override
    public int executeUpdate() throws SQLException {
        return exec(s -> ((PreparedStatement) s).executeUpdate());
    }

    @Override
    public long executeLargeUpdate() throws SQLException {
        return exec(s -> ((PreparedStatement) s).executeLargeUpdate());
    }

    @Override
    public boolean execute() throws SQLException {
        return exec(s -> ((PreparedStatement) s).execute());
    }

    @Override
    public void addBatch() throws SQLException {
        checkOpen();
        if (batches == null) {
            batches = new ArrayList<>();
        }
        batches.add(new ArrayList<>(params));
    }

    @Override
    public void clearBatch() throws SQLException {
        checkOpen();
        batches = null;
    }

    @Override
    public int[] executeBatch() throws SQLException {
        return runBatch(PreparedStatement::executeBatch);
    }

    @Override
    public long[] executeLargeBatch() throws SQLException {
        return runBatch(PreparedStatement::executeLargeBatch);
    }

    private interface BatchExec<T> {
        T run(PreparedStatement ps) throws SQLException;
    }

    private <T> T runBatch(BatchExec<T> e) throws SQLException {
        checkOpen();
        List<List<Param>> rows = batches == null ? List.of() : batches;
        batches = null;
        RouteDecision d = conn.route(classification);
        return run(d, null, sql, s -> {
            PreparedStatement real = (PreparedStatement) s;
            for (List<Param> row : rows) {
                bind(real, row);
                real.addBatch();
            }
            return e.run(real);
        });
    }

    @Override
    public void clearParameters() throws SQLException {
        checkOpen();
        params.clear();
        keys.clear();
    }

    /** Metadata comes from the real statement on the node this statement would route to now. */
    @Override
    public ResultSetMetaData getMetaData() throws SQLException {
        return ((PreparedStatement) on(metadataNode())).getMetaData();
    }

    @Override
    public ParameterMetaData getParameterMetaData() throws SQLException {
        return ((PreparedStatement) on(metadataNode())).getParameterMetaData();
    }

    private String metadataNode() throws SQLException {
        String tx = conn.session().transactionNode();
        return tx != null ? tx : conn.route(Classification.of(dev.sluice.core.sql.StatementKind.EMPTY, "metadata")).node();
    }

    // the query-string forms are not for prepared statements (JDBC 4.3, 13.2.4)
    private static SQLException notOnPrepared() {
        return new SQLException("Sluice: a query string cannot be passed to a PreparedStatement's execute methods", "HY000");
    }

    @Override
    public ResultSet executeQuery(String s) throws SQLException {
        throw notOnPrepared();
    }

    @Override
    public int executeUpdate(String s) throws SQLException {
        throw notOnPrepared();
    }

    @Override
    public boolean execute(String s) throws SQLException {
        throw notOnPrepared();
    }

    @Override
    public void addBatch(String s) throws SQLException {
        throw notOnPrepared();
    }

    // ---- parameter setters: recorded, replayed on the node an execution routes to ----

    @Override
    public void setNull(int i, int sqlType) throws SQLException {
        set(i, () -> ParamKeys.of(null, sqlType), ps -> ps.setNull(i, sqlType));
    }

    @Override
    public void setNull(int i, int sqlType, String typeName) throws SQLException {
        set(i, () -> ParamKeys.of(null, sqlType, typeName), ps -> ps.setNull(i, sqlType, typeName));
    }

    @Override
    public void setBoolean(int i, boolean x) throws SQLException {
        set(i, () -> ParamKeys.of(x), ps -> ps.setBoolean(i, x));
    }

    @Override
    public void setByte(int i, byte x) throws SQLException {
        set(i, () -> ParamKeys.of(x), ps -> ps.setByte(i, x));
    }

    @Override
    public void setShort(int i, short x) throws SQLException {
        set(i, () -> ParamKeys.of(x), ps -> ps.setShort(i, x));
    }

    @Override
    public void setInt(int i, int x) throws SQLException {
        set(i, () -> ParamKeys.of(x), ps -> ps.setInt(i, x));
    }

    @Override
    public void setLong(int i, long x) throws SQLException {
        set(i, () -> ParamKeys.of(x), ps -> ps.setLong(i, x));
    }

    @Override
    public void setFloat(int i, float x) throws SQLException {
        set(i, () -> ParamKeys.of(x), ps -> ps.setFloat(i, x));
    }

    @Override
    public void setDouble(int i, double x) throws SQLException {
        set(i, () -> ParamKeys.of(x), ps -> ps.setDouble(i, x));
    }

    @Override
    public void setBigDecimal(int i, java.math.BigDecimal x) throws SQLException {
        set(i, () -> ParamKeys.of(x), ps -> ps.setBigDecimal(i, x));
    }

    @Override
    public void setString(int i, String x) throws SQLException {
        set(i, () -> ParamKeys.of(x), ps -> ps.setString(i, x));
    }

    @Override
    public void setBytes(int i, byte[] x) throws SQLException {
        set(i, () -> ParamKeys.of(x), ps -> ps.setBytes(i, x));
    }

    @Override
    public void setDate(int i, java.sql.Date x) throws SQLException {
        set(i, () -> ParamKeys.of(x), ps -> ps.setDate(i, x));
    }

    @Override
    public void setTime(int i, java.sql.Time x) throws SQLException {
        set(i, () -> ParamKeys.of(x), ps -> ps.setTime(i, x));
    }

    @Override
    public void setTimestamp(int i, java.sql.Timestamp x) throws SQLException {
        set(i, () -> ParamKeys.of(x), ps -> ps.setTimestamp(i, x));
    }

    @Override
    public void setDate(int i, java.sql.Date x, java.util.Calendar cal) throws SQLException {
        set(i, () -> ParamKeys.of(x, cal), ps -> ps.setDate(i, x, cal));
    }

    @Override
    public void setTime(int i, java.sql.Time x, java.util.Calendar cal) throws SQLException {
        set(i, () -> ParamKeys.of(x, cal), ps -> ps.setTime(i, x, cal));
    }

    @Override
    public void setTimestamp(int i, java.sql.Timestamp x, java.util.Calendar cal) throws SQLException {
        set(i, () -> ParamKeys.of(x, cal), ps -> ps.setTimestamp(i, x, cal));
    }

    @Override
    public void setAsciiStream(int i, java.io.InputStream x, int length) throws SQLException {
        set(i, () -> ParamKeys.UNCACHEABLE, ps -> ps.setAsciiStream(i, x, length));
    }

    @Override
    public void setAsciiStream(int i, java.io.InputStream x, long length) throws SQLException {
        set(i, () -> ParamKeys.UNCACHEABLE, ps -> ps.setAsciiStream(i, x, length));
    }

    @Override
    public void setAsciiStream(int i, java.io.InputStream x) throws SQLException {
        set(i, () -> ParamKeys.UNCACHEABLE, ps -> ps.setAsciiStream(i, x));
    }

    @Override
    public void setBinaryStream(int i, java.io.InputStream x, int length) throws SQLException {
        set(i, () -> ParamKeys.UNCACHEABLE, ps -> ps.setBinaryStream(i, x, length));
    }

    @Override
    public void setBinaryStream(int i, java.io.InputStream x, long length) throws SQLException {
        set(i, () -> ParamKeys.UNCACHEABLE, ps -> ps.setBinaryStream(i, x, length));
    }

    @Override
    public void setBinaryStream(int i, java.io.InputStream x) throws SQLException {
        set(i, () -> ParamKeys.UNCACHEABLE, ps -> ps.setBinaryStream(i, x));
    }

    @Override
    public void setCharacterStream(int i, java.io.Reader x, int length) throws SQLException {
        set(i, () -> ParamKeys.UNCACHEABLE, ps -> ps.setCharacterStream(i, x, length));
    }

    @Override
    public void setCharacterStream(int i, java.io.Reader x, long length) throws SQLException {
        set(i, () -> ParamKeys.UNCACHEABLE, ps -> ps.setCharacterStream(i, x, length));
    }

    @Override
    public void setCharacterStream(int i, java.io.Reader x) throws SQLException {
        set(i, () -> ParamKeys.UNCACHEABLE, ps -> ps.setCharacterStream(i, x));
    }

    @Override
    public void setNCharacterStream(int i, java.io.Reader x, long length) throws SQLException {
        set(i, () -> ParamKeys.UNCACHEABLE, ps -> ps.setNCharacterStream(i, x, length));
    }

    @Override
    public void setNCharacterStream(int i, java.io.Reader x) throws SQLException {
        set(i, () -> ParamKeys.UNCACHEABLE, ps -> ps.setNCharacterStream(i, x));
    }

    @Override
    public void setObject(int i, Object x, int targetSqlType) throws SQLException {
        set(i, () -> ParamKeys.of(x, targetSqlType), ps -> ps.setObject(i, x, targetSqlType));
    }

    @Override
    public void setObject(int i, Object x) throws SQLException {
        set(i, () -> ParamKeys.of(x), ps -> ps.setObject(i, x));
    }

    @Override
    public void setObject(int i, Object x, int targetSqlType, int scaleOrLength) throws SQLException {
        set(i, () -> ParamKeys.of(x, targetSqlType, scaleOrLength), ps -> ps.setObject(i, x, targetSqlType, scaleOrLength));
    }

    @Override
    public void setObject(int i, Object x, java.sql.SQLType targetSqlType, int scaleOrLength) throws SQLException {
        set(i, () -> ParamKeys.of(x, targetSqlType, scaleOrLength), ps -> ps.setObject(i, x, targetSqlType, scaleOrLength));
    }

    @Override
    public void setObject(int i, Object x, java.sql.SQLType targetSqlType) throws SQLException {
        set(i, () -> ParamKeys.of(x, targetSqlType), ps -> ps.setObject(i, x, targetSqlType));
    }

    @Override
    public void setRef(int i, java.sql.Ref x) throws SQLException {
        set(i, () -> ParamKeys.UNCACHEABLE, ps -> ps.setRef(i, x));
    }

    @Override
    public void setBlob(int i, java.sql.Blob x) throws SQLException {
        set(i, () -> ParamKeys.UNCACHEABLE, ps -> ps.setBlob(i, x));
    }

    @Override
    public void setBlob(int i, java.io.InputStream x, long length) throws SQLException {
        set(i, () -> ParamKeys.UNCACHEABLE, ps -> ps.setBlob(i, x, length));
    }

    @Override
    public void setBlob(int i, java.io.InputStream x) throws SQLException {
        set(i, () -> ParamKeys.UNCACHEABLE, ps -> ps.setBlob(i, x));
    }

    @Override
    public void setClob(int i, java.sql.Clob x) throws SQLException {
        set(i, () -> ParamKeys.UNCACHEABLE, ps -> ps.setClob(i, x));
    }

    @Override
    public void setClob(int i, java.io.Reader x, long length) throws SQLException {
        set(i, () -> ParamKeys.UNCACHEABLE, ps -> ps.setClob(i, x, length));
    }

    @Override
    public void setClob(int i, java.io.Reader x) throws SQLException {
        set(i, () -> ParamKeys.UNCACHEABLE, ps -> ps.setClob(i, x));
    }

    @Override
    public void setArray(int i, java.sql.Array x) throws SQLException {
        set(i, () -> ParamKeys.UNCACHEABLE, ps -> ps.setArray(i, x));
    }

    @Override
    public void setURL(int i, java.net.URL x) throws SQLException {
        set(i, () -> x == null ? ParamKeys.of(null) : java.util.List.of("url", x.toString()), ps -> ps.setURL(i, x));
    }

    @Override
    public void setRowId(int i, java.sql.RowId x) throws SQLException {
        set(i, () -> ParamKeys.UNCACHEABLE, ps -> ps.setRowId(i, x));
    }

    @Override
    public void setNString(int i, String x) throws SQLException {
        set(i, () -> ParamKeys.of(x), ps -> ps.setNString(i, x));
    }

    @Override
    public void setNClob(int i, java.sql.NClob x) throws SQLException {
        set(i, () -> ParamKeys.UNCACHEABLE, ps -> ps.setNClob(i, x));
    }

    @Override
    public void setNClob(int i, java.io.Reader x, long length) throws SQLException {
        set(i, () -> ParamKeys.UNCACHEABLE, ps -> ps.setNClob(i, x, length));
    }

    @Override
    public void setNClob(int i, java.io.Reader x) throws SQLException {
        set(i, () -> ParamKeys.UNCACHEABLE, ps -> ps.setNClob(i, x));
    }

    @Override
    public void setSQLXML(int i, java.sql.SQLXML x) throws SQLException {
        set(i, () -> ParamKeys.UNCACHEABLE, ps -> ps.setSQLXML(i, x));
    }

    @Override
    @Deprecated
    @SuppressWarnings("deprecation")
    public void setUnicodeStream(int i, java.io.InputStream x, int length) throws SQLException {
        set(i, () -> ParamKeys.UNCACHEABLE, ps -> ps.setUnicodeStream(i, x, length));
    }
}
