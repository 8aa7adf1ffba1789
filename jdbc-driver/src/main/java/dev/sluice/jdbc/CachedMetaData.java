package dev.sluice.jdbc;

import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.List;

/**
 * The real driver's ResultSetMetaData, copied column by column when a result is cached: what a cached result
 * answers is what the real one answered. Immutable, so one copy serves every hit.
 */
final class CachedMetaData implements ResultSetMetaData {
    /** One column as the real driver described it. */
    record Column(String catalog, String schema, String table, String name, String label, int type, String typeName,
                  String className, int precision, int scale, int displaySize, int nullable, boolean autoIncrement,
                  boolean caseSensitive, boolean searchable, boolean currency, boolean signed, boolean readOnly,
                  boolean writable, boolean definitelyWritable) {
    }

    private final List<Column> columns;

    private CachedMetaData(List<Column> columns) {
        this.columns = List.copyOf(columns);
    }

    static CachedMetaData copyOf(ResultSetMetaData md) throws SQLException {
        int n = md.getColumnCount();
        Column[] cols = new Column[n];
        for (int i = 1; i <= n; i++) {
            int c = i;
            cols[i - 1] = new Column(text(() -> md.getCatalogName(c)), text(() -> md.getSchemaName(c)),
                    text(() -> md.getTableName(c)), md.getColumnName(c), md.getColumnLabel(c), md.getColumnType(c),
                    md.getColumnTypeName(c), text(() -> md.getColumnClassName(c)), num(() -> md.getPrecision(c)),
                    num(() -> md.getScale(c)), num(() -> md.getColumnDisplaySize(c)), num(() -> md.isNullable(c)),
                    flag(() -> md.isAutoIncrement(c)), flag(() -> md.isCaseSensitive(c)), flag(() -> md.isSearchable(c)),
                    flag(() -> md.isCurrency(c)), flag(() -> md.isSigned(c)), flag(() -> md.isReadOnly(c)),
                    flag(() -> md.isWritable(c)), flag(() -> md.isDefinitelyWritable(c)));
        }
        return new CachedMetaData(List.of(cols));
    }

    private interface Get<T> {
        T get() throws SQLException;
    }

    // a driver may refuse a detail it does not know (it then fails for the real result too, but only when asked):
    // keep the neutral JDBC answer instead of refusing to cache the whole result
    private static String text(Get<String> g) {
        try {
            return g.get();
        } catch (SQLException | RuntimeException e) {
            return "";
        }
    }

    private static int num(Get<Integer> g) {
        try {
            return g.get();
        } catch (SQLException | RuntimeException e) {
            return 0;
        }
    }

    private static boolean flag(Get<Boolean> g) {
        try {
            return g.get();
        } catch (SQLException | RuntimeException e) {
            return false;
        }
    }

    /** True when {@code md} describes the same columns (count, labels, types): then this copy answers for it. */
    boolean sameColumns(ResultSetMetaData md) throws SQLException {
        if (md.getColumnCount() != columns.size()) {
            return false;
        }
        for (int i = 1; i <= columns.size(); i++) {
            Column c = columns.get(i - 1);
            if (c.type() != md.getColumnType(i) || !c.label().equals(md.getColumnLabel(i))
                    || !c.typeName().equals(md.getColumnTypeName(i))) {
                return false;
            }
        }
        return true;
    }

    Column column(int i) throws SQLException {
        if (i < 1 || i > columns.size()) {
            throw new SQLException("Sluice: column index " + i + " out of range 1.." + columns.size(), "07009");
        }
        return columns.get(i - 1);
    }

    @Override
    public int getColumnCount() {
        return columns.size();
    }

    @Override
    public boolean isAutoIncrement(int i) throws SQLException {
        return column(i).autoIncrement();
    }

    @Override
    public boolean isCaseSensitive(int i) throws SQLException {
        return column(i).caseSensitive();
    }

    @Override
    public boolean isSearchable(int i) throws SQLException {
        return column(i).searchable();
    }

    @Override
    public boolean isCurrency(int i) throws SQLException {
        return column(i).currency();
    }

    @Override
    public int isNullable(int i) throws SQLException {
        return column(i).nullable();
    }

    @Override
    public boolean isSigned(int i) throws SQLException {
        return column(i).signed();
    }

    @Override
    public int getColumnDisplaySize(int i) throws SQLException {
        return column(i).displaySize();
    }

    @Override
    public String getColumnLabel(int i) throws SQLException {
        return column(i).label();
    }

    @Override
    public String getColumnName(int i) throws SQLException {
        return column(i).name();
    }

    @Override
    public String getSchemaName(int i) throws SQLException {
        return column(i).schema();
    }

    @Override
    public int getPrecision(int i) throws SQLException {
        return column(i).precision();
    }

    @Override
    public int getScale(int i) throws SQLException {
        return column(i).scale();
    }

    @Override
    public String getTableName(int i) throws SQLException {
        return column(i).table();
    }

    @Override
    public String getCatalogName(int i) throws SQLException {
        return column(i).catalog();
    }

    @Override
    public int getColumnType(int i) throws SQLException {
        return column(i).type();
    }

    @Override
    public String getColumnTypeName(int i) throws SQLException {
        return column(i).typeName();
    }

    @Override
    public boolean isReadOnly(int i) throws SQLException {
        return column(i).readOnly();
    }

    @Override
    public boolean isWritable(int i) throws SQLException {
        return column(i).writable();
    }

    @Override
    public boolean isDefinitelyWritable(int i) throws SQLException {
        return column(i).definitelyWritable();
    }

    @Override
    public String getColumnClassName(int i) throws SQLException {
        return column(i).className();
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        if (iface.isInstance(this)) {
            return iface.cast(this);
        }
        throw new SQLException("Sluice: a cached result's metadata is not a wrapper for " + iface.getName(), "HY000");
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) {
        return iface.isInstance(this);
    }
}
