package dev.sluice.jdbc;

import dev.sluice.core.shard.ValueRef;
import java.sql.PreparedStatement;
import java.sql.SQLException;

/**
 * The ~50 parameter setters of {@link PreparedStatement}, written once for Sluice's prepared statements. A
 * Sluice prepared statement runs on a real one it chooses at execution time (a node, a shard), so each setter
 * only records the parameter through {@link #record}: what a routed statement's read cache and a sharded
 * statement's shard choice see of it, and how to replay the call on the real statement.
 */
interface ParameterSetters extends PreparedStatement {
    /** Sets one recorded parameter on a real prepared statement, at the given index. */
    interface Binder {
        void bind(PreparedStatement ps, int index) throws SQLException;
    }

    /** A parameter's part of the read cache's key ({@link ParamKeys}), computed only when a cacheable read executes. */
    interface CacheKey {
        Object key();
    }

    /**
     * Records parameter {@code index} (from 1; a bad index or a closed statement throws here).
     *
     * @param shardValue the value as the application passed it, which can choose a shard; {@code null} for
     *     setNull; {@link ValueRef#OPAQUE} when it chooses no shard (streams, LOBs, driver objects, a
     *     URL: their content is not known without consuming them)
     * @param cacheKey the parameter's part of the read cache's key; unlike the shard value it includes what else
     *     changes what is sent (a setNull's type, a Calendar's time zone, setObject's target type)
     * @param binder replays the setter on a real prepared statement
     */
    void record(int index, Object shardValue, CacheKey cacheKey, Binder binder) throws SQLException;

    /**
     * Records a parameter whose content is not known without consuming it (streams, readers, LOBs, driver objects):
     * it chooses no shard and makes the execution uncacheable.
     */
    private void opaque(int index, Binder binder) throws SQLException {
        record(index, ValueRef.OPAQUE, () -> ParamKeys.UNCACHEABLE, binder);
    }

    @Override
    default void setNull(int i, int sqlType) throws SQLException {
        record(i, null, () -> ParamKeys.of(null, sqlType), (ps, k) -> ps.setNull(k, sqlType));
    }

    @Override
    default void setNull(int i, int sqlType, String typeName) throws SQLException {
        record(i, null, () -> ParamKeys.of(null, sqlType, typeName), (ps, k) -> ps.setNull(k, sqlType, typeName));
    }

    @Override
    default void setBoolean(int i, boolean x) throws SQLException {
        record(i, x, () -> ParamKeys.of(x), (ps, k) -> ps.setBoolean(k, x));
    }

    @Override
    default void setByte(int i, byte x) throws SQLException {
        record(i, x, () -> ParamKeys.of(x), (ps, k) -> ps.setByte(k, x));
    }

    @Override
    default void setShort(int i, short x) throws SQLException {
        record(i, x, () -> ParamKeys.of(x), (ps, k) -> ps.setShort(k, x));
    }

    @Override
    default void setInt(int i, int x) throws SQLException {
        record(i, x, () -> ParamKeys.of(x), (ps, k) -> ps.setInt(k, x));
    }

    @Override
    default void setLong(int i, long x) throws SQLException {
        record(i, x, () -> ParamKeys.of(x), (ps, k) -> ps.setLong(k, x));
    }

    @Override
    default void setFloat(int i, float x) throws SQLException {
        record(i, x, () -> ParamKeys.of(x), (ps, k) -> ps.setFloat(k, x));
    }

    @Override
    default void setDouble(int i, double x) throws SQLException {
        record(i, x, () -> ParamKeys.of(x), (ps, k) -> ps.setDouble(k, x));
    }

    @Override
    default void setBigDecimal(int i, java.math.BigDecimal x) throws SQLException {
        record(i, x, () -> ParamKeys.of(x), (ps, k) -> ps.setBigDecimal(k, x));
    }

    @Override
    default void setString(int i, String x) throws SQLException {
        record(i, x, () -> ParamKeys.of(x), (ps, k) -> ps.setString(k, x));
    }

    @Override
    default void setBytes(int i, byte[] x) throws SQLException {
        record(i, x, () -> ParamKeys.of(x), (ps, k) -> ps.setBytes(k, x));
    }

    @Override
    default void setDate(int i, java.sql.Date x) throws SQLException {
        record(i, x, () -> ParamKeys.of(x), (ps, k) -> ps.setDate(k, x));
    }

    @Override
    default void setTime(int i, java.sql.Time x) throws SQLException {
        record(i, x, () -> ParamKeys.of(x), (ps, k) -> ps.setTime(k, x));
    }

    @Override
    default void setTimestamp(int i, java.sql.Timestamp x) throws SQLException {
        record(i, x, () -> ParamKeys.of(x), (ps, k) -> ps.setTimestamp(k, x));
    }

    @Override
    default void setDate(int i, java.sql.Date x, java.util.Calendar cal) throws SQLException {
        record(i, x, () -> ParamKeys.of(x, cal), (ps, k) -> ps.setDate(k, x, cal));
    }

    @Override
    default void setTime(int i, java.sql.Time x, java.util.Calendar cal) throws SQLException {
        record(i, x, () -> ParamKeys.of(x, cal), (ps, k) -> ps.setTime(k, x, cal));
    }

    @Override
    default void setTimestamp(int i, java.sql.Timestamp x, java.util.Calendar cal) throws SQLException {
        record(i, x, () -> ParamKeys.of(x, cal), (ps, k) -> ps.setTimestamp(k, x, cal));
    }

    @Override
    default void setAsciiStream(int i, java.io.InputStream x, int length) throws SQLException {
        opaque(i, (ps, k) -> ps.setAsciiStream(k, x, length));
    }

    @Override
    default void setAsciiStream(int i, java.io.InputStream x, long length) throws SQLException {
        opaque(i, (ps, k) -> ps.setAsciiStream(k, x, length));
    }

    @Override
    default void setAsciiStream(int i, java.io.InputStream x) throws SQLException {
        opaque(i, (ps, k) -> ps.setAsciiStream(k, x));
    }

    @Override
    default void setBinaryStream(int i, java.io.InputStream x, int length) throws SQLException {
        opaque(i, (ps, k) -> ps.setBinaryStream(k, x, length));
    }

    @Override
    default void setBinaryStream(int i, java.io.InputStream x, long length) throws SQLException {
        opaque(i, (ps, k) -> ps.setBinaryStream(k, x, length));
    }

    @Override
    default void setBinaryStream(int i, java.io.InputStream x) throws SQLException {
        opaque(i, (ps, k) -> ps.setBinaryStream(k, x));
    }

    @Override
    default void setCharacterStream(int i, java.io.Reader x, int length) throws SQLException {
        opaque(i, (ps, k) -> ps.setCharacterStream(k, x, length));
    }

    @Override
    default void setCharacterStream(int i, java.io.Reader x, long length) throws SQLException {
        opaque(i, (ps, k) -> ps.setCharacterStream(k, x, length));
    }

    @Override
    default void setCharacterStream(int i, java.io.Reader x) throws SQLException {
        opaque(i, (ps, k) -> ps.setCharacterStream(k, x));
    }

    @Override
    default void setNCharacterStream(int i, java.io.Reader x, long length) throws SQLException {
        opaque(i, (ps, k) -> ps.setNCharacterStream(k, x, length));
    }

    @Override
    default void setNCharacterStream(int i, java.io.Reader x) throws SQLException {
        opaque(i, (ps, k) -> ps.setNCharacterStream(k, x));
    }

    @Override
    default void setObject(int i, Object x, int targetSqlType) throws SQLException {
        record(i, x, () -> ParamKeys.of(x, targetSqlType), (ps, k) -> ps.setObject(k, x, targetSqlType));
    }

    @Override
    default void setObject(int i, Object x) throws SQLException {
        record(i, x, () -> ParamKeys.of(x), (ps, k) -> ps.setObject(k, x));
    }

    @Override
    default void setObject(int i, Object x, int targetSqlType, int scaleOrLength) throws SQLException {
        record(i, x, () -> ParamKeys.of(x, targetSqlType, scaleOrLength),
                (ps, k) -> ps.setObject(k, x, targetSqlType, scaleOrLength));
    }

    @Override
    default void setObject(int i, Object x, java.sql.SQLType targetSqlType, int scaleOrLength) throws SQLException {
        record(i, x, () -> ParamKeys.of(x, targetSqlType, scaleOrLength),
                (ps, k) -> ps.setObject(k, x, targetSqlType, scaleOrLength));
    }

    @Override
    default void setObject(int i, Object x, java.sql.SQLType targetSqlType) throws SQLException {
        record(i, x, () -> ParamKeys.of(x, targetSqlType), (ps, k) -> ps.setObject(k, x, targetSqlType));
    }

    @Override
    default void setRef(int i, java.sql.Ref x) throws SQLException {
        opaque(i, (ps, k) -> ps.setRef(k, x));
    }

    @Override
    default void setBlob(int i, java.sql.Blob x) throws SQLException {
        opaque(i, (ps, k) -> ps.setBlob(k, x));
    }

    @Override
    default void setBlob(int i, java.io.InputStream x, long length) throws SQLException {
        opaque(i, (ps, k) -> ps.setBlob(k, x, length));
    }

    @Override
    default void setBlob(int i, java.io.InputStream x) throws SQLException {
        opaque(i, (ps, k) -> ps.setBlob(k, x));
    }

    @Override
    default void setClob(int i, java.sql.Clob x) throws SQLException {
        opaque(i, (ps, k) -> ps.setClob(k, x));
    }

    @Override
    default void setClob(int i, java.io.Reader x, long length) throws SQLException {
        opaque(i, (ps, k) -> ps.setClob(k, x, length));
    }

    @Override
    default void setClob(int i, java.io.Reader x) throws SQLException {
        opaque(i, (ps, k) -> ps.setClob(k, x));
    }

    @Override
    default void setArray(int i, java.sql.Array x) throws SQLException {
        opaque(i, (ps, k) -> ps.setArray(k, x));
    }

    @Override
    default void setURL(int i, java.net.URL x) throws SQLException {
        record(i, ValueRef.OPAQUE, () -> x == null ? ParamKeys.of(null) : java.util.List.of("url", x.toString()),
                (ps, k) -> ps.setURL(k, x));
    }

    @Override
    default void setRowId(int i, java.sql.RowId x) throws SQLException {
        opaque(i, (ps, k) -> ps.setRowId(k, x));
    }

    @Override
    default void setNString(int i, String x) throws SQLException {
        record(i, x, () -> ParamKeys.of(x), (ps, k) -> ps.setNString(k, x));
    }

    @Override
    default void setNClob(int i, java.sql.NClob x) throws SQLException {
        opaque(i, (ps, k) -> ps.setNClob(k, x));
    }

    @Override
    default void setNClob(int i, java.io.Reader x, long length) throws SQLException {
        opaque(i, (ps, k) -> ps.setNClob(k, x, length));
    }

    @Override
    default void setNClob(int i, java.io.Reader x) throws SQLException {
        opaque(i, (ps, k) -> ps.setNClob(k, x));
    }

    @Override
    default void setSQLXML(int i, java.sql.SQLXML x) throws SQLException {
        opaque(i, (ps, k) -> ps.setSQLXML(k, x));
    }

    @Override
    @Deprecated
    @SuppressWarnings("deprecation")
    default void setUnicodeStream(int i, java.io.InputStream x, int length) throws SQLException {
        opaque(i, (ps, k) -> ps.setUnicodeStream(k, x, length));
    }
}
