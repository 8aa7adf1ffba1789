package dev.sluice.jdbc;

import dev.sluice.core.shard.MergePlan;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Types;

/**
 * The metadata of a merged result: the first shard's, without the hidden columns, and with AVG columns described
 * as the decimal the merge computes (each shard computed a SUM there).
 */
final class MergedMetaData implements ResultSetMetaData {
    private final ResultSetMetaData shard;
    private final int visible;
    private final boolean[] average;
    private final boolean mysql;

    MergedMetaData(ResultSetMetaData shard, int visible, MergePlan plan, boolean mysql) throws SQLException {
        this.shard = shard;
        this.visible = visible;
        this.mysql = mysql;
        this.average = new boolean[visible + 1];
        for (MergePlan.Aggregate a : plan.aggregates()) {
            if (a.fn() == MergePlan.Fn.AVG) {
                int c = plan.resolve(a.column(), shard.getColumnCount());
                int type = shard.getColumnType(c);
                average[c] = type != Types.DOUBLE && type != Types.FLOAT && type != Types.REAL;
            }
        }
    }

    private int check(int column) throws SQLException {
        if (column < 1 || column > visible) {
            throw new SQLException("Sluice: column " + column + " is out of range (1.." + visible + ")", "07009");
        }
        return column;
    }

    @Override
    public int getColumnCount() {
        return visible;
    }

    @Override
    public boolean isAutoIncrement(int column) throws SQLException {
        return shard.isAutoIncrement(check(column));
    }

    @Override
    public boolean isCaseSensitive(int column) throws SQLException {
        return shard.isCaseSensitive(check(column));
    }

    @Override
    public boolean isSearchable(int column) throws SQLException {
        return shard.isSearchable(check(column));
    }

    @Override
    public boolean isCurrency(int column) throws SQLException {
        return shard.isCurrency(check(column));
    }

    @Override
    public int isNullable(int column) throws SQLException {
        return average[check(column)] ? columnNullable : shard.isNullable(column);
    }

    @Override
    public boolean isSigned(int column) throws SQLException {
        return shard.isSigned(check(column));
    }

    @Override
    public int getColumnDisplaySize(int column) throws SQLException {
        return shard.getColumnDisplaySize(check(column));
    }

    @Override
    public String getColumnLabel(int column) throws SQLException {
        return shard.getColumnLabel(check(column));
    }

    @Override
    public String getColumnName(int column) throws SQLException {
        return shard.getColumnName(check(column));
    }

    @Override
    public String getSchemaName(int column) throws SQLException {
        return shard.getSchemaName(check(column));
    }

    @Override
    public int getPrecision(int column) throws SQLException {
        return shard.getPrecision(check(column));
    }

    @Override
    public int getScale(int column) throws SQLException {
        return average[check(column)] ? shard.getScale(column) + (mysql ? 4 : 0) : shard.getScale(column);
    }

    @Override
    public String getTableName(int column) throws SQLException {
        return shard.getTableName(check(column));
    }

    @Override
    public String getCatalogName(int column) throws SQLException {
        return shard.getCatalogName(check(column));
    }

    @Override
    public int getColumnType(int column) throws SQLException {
        return average[check(column)] ? (mysql ? Types.DECIMAL : Types.NUMERIC) : shard.getColumnType(column);
    }

    @Override
    public String getColumnTypeName(int column) throws SQLException {
        return average[check(column)] ? (mysql ? "DECIMAL" : "numeric") : shard.getColumnTypeName(column);
    }

    @Override
    public boolean isReadOnly(int column) throws SQLException {
        return shard.isReadOnly(check(column));
    }

    @Override
    public boolean isWritable(int column) throws SQLException {
        return shard.isWritable(check(column));
    }

    @Override
    public boolean isDefinitelyWritable(int column) throws SQLException {
        return shard.isDefinitelyWritable(check(column));
    }

    @Override
    public String getColumnClassName(int column) throws SQLException {
        return average[check(column)] ? java.math.BigDecimal.class.getName() : shard.getColumnClassName(column);
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        if (iface.isInstance(this)) {
            return iface.cast(this);
        }
        return shard.unwrap(iface);
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) throws SQLException {
        return iface.isInstance(this) || shard.isWrapperFor(iface);
    }
}
