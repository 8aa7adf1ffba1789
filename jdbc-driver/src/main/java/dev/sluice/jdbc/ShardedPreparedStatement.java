package dev.sluice.jdbc;

import dev.sluice.core.shard.ShardPlan;
import dev.sluice.core.shard.ValueRef;
import java.sql.ParameterMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;

/**
 * A PreparedStatement on a sharded database. Parameters are recorded twice: the value, which routes the
 * execution (the shard key of {@code WHERE key = ?} or of an INSERT's VALUES), and a binder, which sets it on the
 * real prepared statement of whichever shard runs it. A scatter read whose SQL was rewritten (OFFSET folded into
 * LIMIT, AVG split, hidden sort columns) runs a second prepared statement whose parameters are mapped back to
 * the application's. A batch is split per shard, each row going where its key says.
 */
final class ShardedPreparedStatement extends ShardedStatement implements PreparedStatement {
    /** Sets one recorded parameter on a real prepared statement, at the given index. */
    interface Binder {
        void bind(PreparedStatement ps, int index) throws SQLException;
    }

    /** Prepares SQL on one shard's connection. */
    interface PsOpener {
        PreparedStatement open(SluiceConnection c, String sql) throws SQLException;
    }

    private final String sql;
    private final PsOpener psOpener;
    private final PreparedStatement[] scatterSubs;
    private final List<Object> values = new ArrayList<>();
    private final List<Binder> binders = new ArrayList<>();
    private List<Object[]> batchValues; // created by the first addBatch
    private List<Binder[]> batchBinders;

    ShardedPreparedStatement(ShardedConnection conn, String sql, PsOpener opener) {
        super(conn, c -> opener.open(c, sql));
        this.sql = sql;
        this.psOpener = opener;
        this.scatterSubs = new PreparedStatement[conn.shardCount()];
    }

    private void set(int index, Object value, Binder b) throws SQLException {
        checkOpen();
        if (index < 1) {
            throw new SQLException("Sluice: parameter index must be >= 1, got " + index, "07009");
        }
        while (values.size() < index) {
            values.add(null);
            binders.add(null);
        }
        values.set(index - 1, value);
        binders.set(index - 1, b);
    }

    /** Binds the application's parameters as they are (the original SQL). */
    private static void bind(PreparedStatement ps, List<Binder> bs) throws SQLException {
        ps.clearParameters();
        for (int i = 0; i < bs.size(); i++) {
            if (bs.get(i) != null) {
                bs.get(i).bind(ps, i + 1);
            }
        }
    }

    @Override
    Statement single(int shard) throws SQLException {
        PreparedStatement ps = (PreparedStatement) sub(shard);
        bind(ps, binders);
        return ps;
    }

    @Override
    Collection<Statement> open() {
        Collection<Statement> out = super.open();
        for (PreparedStatement p : scatterSubs) {
            if (p != null) {
                out.add(p);
            }
        }
        return out;
    }

    @Override
    ShardFanOut.Task scatterTask(ShardPlan plan, String text, List<?> vals) {
        List<Binder> bs = List.copyOf(Arrays.asList(binders.toArray(new Binder[0])));
        long rowLimit = computedLimit(plan, vals);
        return (shard, read) -> {
            PreparedStatement ps;
            if (plan.scatterSql() == null) {
                ps = (PreparedStatement) sub(shard);
                bind(ps, bs);
            } else {
                if (scatterSubs[shard] == null) {
                    PreparedStatement p = psOpener.open(conn.shard(shard), plan.scatterSql());
                    settings.apply(p);
                    scatterSubs[shard] = p;
                }
                ps = scatterSubs[shard];
                ps.clearParameters();
                int[] map = plan.paramMap();
                for (int k = 0; k < map.length; k++) {
                    if (map[k] == 0) {
                        ps.setLong(k + 1, rowLimit);
                    } else if (map[k] <= bs.size() && bs.get(map[k] - 1) != null) {
                        bs.get(map[k] - 1).bind(ps, k + 1);
                    }
                }
            }
            return read ? ps.executeQuery() : ps.executeLargeUpdate();
        };
    }

    /** OFFSET + LIMIT, what each shard returns when the offset is applied after the merge. */
    private static long computedLimit(ShardPlan plan, List<?> vals) {
        if (plan.merge() == null || plan.merge().limit() == null) {
            return 0;
        }
        Object l = plan.merge().limit().resolve(vals);
        Object o = plan.merge().offset() == null ? 0 : plan.merge().offset().resolve(vals);
        return (l instanceof Number n ? n.longValue() : 0) + (o instanceof Number n ? n.longValue() : 0);
    }

    // ---- execution ----

    @Override
    public ResultSet executeQuery() throws SQLException {
        return run(sql, values, Mode.QUERY, s -> ((PreparedStatement) s).executeQuery());
    }

    @Override
    public int executeUpdate() throws SQLException {
        return (int) (long) run(sql, values, Mode.UPDATE, s -> (long) ((PreparedStatement) s).executeUpdate());
    }

    @Override
    public long executeLargeUpdate() throws SQLException {
        return run(sql, values, Mode.UPDATE, s -> ((PreparedStatement) s).executeLargeUpdate());
    }

    @Override
    public boolean execute() throws SQLException {
        return run(sql, values, Mode.EXECUTE, s -> ((PreparedStatement) s).execute());
    }

    @Override
    public void addBatch() throws SQLException {
        checkOpen();
        if (batchValues == null) {
            batchValues = new ArrayList<>();
            batchBinders = new ArrayList<>();
        }
        batchValues.add(values.toArray());
        batchBinders.add(binders.toArray(new Binder[0]));
    }

    @Override
    public void clearBatch() throws SQLException {
        checkOpen();
        batchValues = null;
        batchBinders = null;
    }

    @Override
    public int[] executeBatch() throws SQLException {
        return java.util.Arrays.stream(executeLargeBatch()).mapToInt(c -> (int) c).toArray();
    }

    @Override
    public long[] executeLargeBatch() throws SQLException {
        checkOpen();
        List<Object[]> vs = batchValues == null ? List.of() : batchValues;
        List<Binder[]> bs = batchBinders == null ? List.of() : batchBinders;
        batchValues = null;
        batchBinders = null;
        ShardPlan plan = plan(sql);
        int[] shardOf = new int[vs.size()];
        for (int i = 0; i < vs.size(); i++) {
            shardOf[i] = fanOut.singleShard(plan, Arrays.asList(vs.get(i)), "batch row " + (i + 1));
        }
        return fanOut.batch(shardOf, (shard, rows) -> {
            PreparedStatement ps = (PreparedStatement) sub(shard);
            for (int r : rows) {
                bind(ps, Arrays.asList(bs.get(r)));
                ps.addBatch();
            }
            return ps.executeLargeBatch();
        }, shards -> lastShards = shards);
    }

    @Override
    public void clearParameters() throws SQLException {
        checkOpen();
        values.clear();
        binders.clear();
    }

    /** Prepared-statement metadata comes from the transaction's shard, else the first: the table is the same on all. */
    @Override
    public ResultSetMetaData getMetaData() throws SQLException {
        return ((PreparedStatement) sub(conn.anyShard())).getMetaData();
    }

    @Override
    public ParameterMetaData getParameterMetaData() throws SQLException {
        return ((PreparedStatement) sub(conn.anyShard())).getParameterMetaData();
    }

    private static SQLException notOnPrepared() {
        return new SQLException("Sluice: this method takes no SQL on a PreparedStatement", "HY000");
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

    // ---- parameters: value (for routing) and binder (for the shard's real statement) ----

    @Override
    public void setNull(int i, int sqlType) throws SQLException {
        set(i, null, (ps, k) -> ps.setNull(k, sqlType));
    }

    @Override
    public void setNull(int i, int sqlType, String typeName) throws SQLException {
        set(i, null, (ps, k) -> ps.setNull(k, sqlType, typeName));
    }

    @Override
    public void setBoolean(int i, boolean x) throws SQLException {
        set(i, x, (ps, k) -> ps.setBoolean(k, x));
    }

    @Override
    public void setByte(int i, byte x) throws SQLException {
        set(i, x, (ps, k) -> ps.setByte(k, x));
    }

    @Override
    public void setShort(int i, short x) throws SQLException {
        set(i, x, (ps, k) -> ps.setShort(k, x));
    }

    @Override
    public void setInt(int i, int x) throws SQLException {
        set(i, x, (ps, k) -> ps.setInt(k, x));
    }

    @Override
    public void setLong(int i, long x) throws SQLException {
        set(i, x, (ps, k) -> ps.setLong(k, x));
    }

    @Override
    public void setFloat(int i, float x) throws SQLException {
        set(i, x, (ps, k) -> ps.setFloat(k, x));
    }

    @Override
    public void setDouble(int i, double x) throws SQLException {
        set(i, x, (ps, k) -> ps.setDouble(k, x));
    }

    @Override
    public void setBigDecimal(int i, java.math.BigDecimal x) throws SQLException {
        set(i, x, (ps, k) -> ps.setBigDecimal(k, x));
    }

    @Override
    public void setString(int i, String x) throws SQLException {
        set(i, x, (ps, k) -> ps.setString(k, x));
    }

    @Override
    public void setBytes(int i, byte[] x) throws SQLException {
        set(i, x, (ps, k) -> ps.setBytes(k, x));
    }

    @Override
    public void setDate(int i, java.sql.Date x) throws SQLException {
        set(i, x, (ps, k) -> ps.setDate(k, x));
    }

    @Override
    public void setTime(int i, java.sql.Time x) throws SQLException {
        set(i, x, (ps, k) -> ps.setTime(k, x));
    }

    @Override
    public void setTimestamp(int i, java.sql.Timestamp x) throws SQLException {
        set(i, x, (ps, k) -> ps.setTimestamp(k, x));
    }

    @Override
    public void setDate(int i, java.sql.Date x, java.util.Calendar cal) throws SQLException {
        set(i, x, (ps, k) -> ps.setDate(k, x, cal));
    }

    @Override
    public void setTime(int i, java.sql.Time x, java.util.Calendar cal) throws SQLException {
        set(i, x, (ps, k) -> ps.setTime(k, x, cal));
    }

    @Override
    public void setTimestamp(int i, java.sql.Timestamp x, java.util.Calendar cal) throws SQLException {
        set(i, x, (ps, k) -> ps.setTimestamp(k, x, cal));
    }

    @Override
    public void setAsciiStream(int i, java.io.InputStream x, int length) throws SQLException {
        set(i, ValueRef.OPAQUE, (ps, k) -> ps.setAsciiStream(k, x, length));
    }

    @Override
    public void setAsciiStream(int i, java.io.InputStream x, long length) throws SQLException {
        set(i, ValueRef.OPAQUE, (ps, k) -> ps.setAsciiStream(k, x, length));
    }

    @Override
    public void setAsciiStream(int i, java.io.InputStream x) throws SQLException {
        set(i, ValueRef.OPAQUE, (ps, k) -> ps.setAsciiStream(k, x));
    }

    @Override
    public void setBinaryStream(int i, java.io.InputStream x, int length) throws SQLException {
        set(i, ValueRef.OPAQUE, (ps, k) -> ps.setBinaryStream(k, x, length));
    }

    @Override
    public void setBinaryStream(int i, java.io.InputStream x, long length) throws SQLException {
        set(i, ValueRef.OPAQUE, (ps, k) -> ps.setBinaryStream(k, x, length));
    }

    @Override
    public void setBinaryStream(int i, java.io.InputStream x) throws SQLException {
        set(i, ValueRef.OPAQUE, (ps, k) -> ps.setBinaryStream(k, x));
    }

    @Override
    public void setCharacterStream(int i, java.io.Reader x, int length) throws SQLException {
        set(i, ValueRef.OPAQUE, (ps, k) -> ps.setCharacterStream(k, x, length));
    }

    @Override
    public void setCharacterStream(int i, java.io.Reader x, long length) throws SQLException {
        set(i, ValueRef.OPAQUE, (ps, k) -> ps.setCharacterStream(k, x, length));
    }

    @Override
    public void setCharacterStream(int i, java.io.Reader x) throws SQLException {
        set(i, ValueRef.OPAQUE, (ps, k) -> ps.setCharacterStream(k, x));
    }

    @Override
    public void setNCharacterStream(int i, java.io.Reader x, long length) throws SQLException {
        set(i, ValueRef.OPAQUE, (ps, k) -> ps.setNCharacterStream(k, x, length));
    }

    @Override
    public void setNCharacterStream(int i, java.io.Reader x) throws SQLException {
        set(i, ValueRef.OPAQUE, (ps, k) -> ps.setNCharacterStream(k, x));
    }

    @Override
    public void setObject(int i, Object x, int targetSqlType) throws SQLException {
        set(i, x, (ps, k) -> ps.setObject(k, x, targetSqlType));
    }

    @Override
    public void setObject(int i, Object x) throws SQLException {
        set(i, x, (ps, k) -> ps.setObject(k, x));
    }

    @Override
    public void setObject(int i, Object x, int targetSqlType, int scaleOrLength) throws SQLException {
        set(i, x, (ps, k) -> ps.setObject(k, x, targetSqlType, scaleOrLength));
    }

    @Override
    public void setObject(int i, Object x, java.sql.SQLType targetSqlType, int scaleOrLength) throws SQLException {
        set(i, x, (ps, k) -> ps.setObject(k, x, targetSqlType, scaleOrLength));
    }

    @Override
    public void setObject(int i, Object x, java.sql.SQLType targetSqlType) throws SQLException {
        set(i, x, (ps, k) -> ps.setObject(k, x, targetSqlType));
    }

    @Override
    public void setRef(int i, java.sql.Ref x) throws SQLException {
        set(i, ValueRef.OPAQUE, (ps, k) -> ps.setRef(k, x));
    }

    @Override
    public void setBlob(int i, java.sql.Blob x) throws SQLException {
        set(i, ValueRef.OPAQUE, (ps, k) -> ps.setBlob(k, x));
    }

    @Override
    public void setBlob(int i, java.io.InputStream x, long length) throws SQLException {
        set(i, ValueRef.OPAQUE, (ps, k) -> ps.setBlob(k, x, length));
    }

    @Override
    public void setBlob(int i, java.io.InputStream x) throws SQLException {
        set(i, ValueRef.OPAQUE, (ps, k) -> ps.setBlob(k, x));
    }

    @Override
    public void setClob(int i, java.sql.Clob x) throws SQLException {
        set(i, ValueRef.OPAQUE, (ps, k) -> ps.setClob(k, x));
    }

    @Override
    public void setClob(int i, java.io.Reader x, long length) throws SQLException {
        set(i, ValueRef.OPAQUE, (ps, k) -> ps.setClob(k, x, length));
    }

    @Override
    public void setClob(int i, java.io.Reader x) throws SQLException {
        set(i, ValueRef.OPAQUE, (ps, k) -> ps.setClob(k, x));
    }

    @Override
    public void setArray(int i, java.sql.Array x) throws SQLException {
        set(i, ValueRef.OPAQUE, (ps, k) -> ps.setArray(k, x));
    }

    @Override
    public void setURL(int i, java.net.URL x) throws SQLException {
        set(i, ValueRef.OPAQUE, (ps, k) -> ps.setURL(k, x));
    }

    @Override
    public void setRowId(int i, java.sql.RowId x) throws SQLException {
        set(i, ValueRef.OPAQUE, (ps, k) -> ps.setRowId(k, x));
    }

    @Override
    public void setNString(int i, String x) throws SQLException {
        set(i, x, (ps, k) -> ps.setNString(k, x));
    }

    @Override
    public void setNClob(int i, java.sql.NClob x) throws SQLException {
        set(i, ValueRef.OPAQUE, (ps, k) -> ps.setNClob(k, x));
    }

    @Override
    public void setNClob(int i, java.io.Reader x, long length) throws SQLException {
        set(i, ValueRef.OPAQUE, (ps, k) -> ps.setNClob(k, x, length));
    }

    @Override
    public void setNClob(int i, java.io.Reader x) throws SQLException {
        set(i, ValueRef.OPAQUE, (ps, k) -> ps.setNClob(k, x));
    }

    @Override
    public void setSQLXML(int i, java.sql.SQLXML x) throws SQLException {
        set(i, ValueRef.OPAQUE, (ps, k) -> ps.setSQLXML(k, x));
    }

    @Override
    @Deprecated
    @SuppressWarnings("deprecation")
    public void setUnicodeStream(int i, java.io.InputStream x, int length) throws SQLException {
        set(i, ValueRef.OPAQUE, (ps, k) -> ps.setUnicodeStream(k, x, length));
    }
}
