package dev.sluice.jdbc;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.sql.Date;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.sql.Time;
import java.sql.Timestamp;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.Calendar;
import java.util.Map;

/**
 * A forward-only, read-only ResultSet over rows merged from several shards ({@link Merger}). Values are what the
 * shards' drivers returned from {@code getObject}; the getters convert as JDBC asks. Only the first
 * {@code visible} columns are shown: the rest were added for the merge (sort keys, weights, AVG counts).
 */
final class MergedResultSet extends ReadOnlyResultSet {
    /** Where the rows come from; closing it closes the shards' results. */
    interface Rows extends AutoCloseable {
        /** The next full row (all columns, hidden ones included), or null at the end. */
        Object[] next() throws SQLException;

        @Override
        void close() throws SQLException;
    }

    private final Rows rows;
    private final ResultSetMetaData meta;
    private final int visible;
    private final Statement owner;
    private Object[] row;
    private int rowNumber;
    private boolean done;
    private boolean wasNull;
    private boolean closed;
    private int fetchSize;

    MergedResultSet(Rows rows, ResultSetMetaData meta, int visible, Statement owner) {
        this.rows = rows;
        this.meta = meta;
        this.visible = visible;
        this.owner = owner;
    }

    @Override
    public boolean next() throws SQLException {
        checkOpen();
        if (done) {
            return false;
        }
        row = rows.next();
        if (row == null) {
            done = true;
            return false;
        }
        rowNumber++;
        return true;
    }

    private Object value(int column) throws SQLException {
        checkOpen();
        if (row == null) {
            throw new SQLException("Sluice: no current row", "24000");
        }
        if (column < 1 || column > visible) {
            throw new SQLException("Sluice: column " + column + " is out of range (1.." + visible + ")", "07009");
        }
        Object v = row[column - 1];
        wasNull = v == null;
        return v;
    }

    private void checkOpen() throws SQLException {
        if (closed) {
            throw new SQLException("Sluice: result set is closed", "24000");
        }
    }

    @Override
    public void close() throws SQLException {
        if (!closed) {
            closed = true;
            rows.close();
        }
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    @Override
    public boolean wasNull() {
        return wasNull;
    }

    @Override
    public int findColumn(String label) throws SQLException {
        for (int i = 1; i <= visible; i++) {
            if (meta.getColumnLabel(i).equalsIgnoreCase(label)) {
                return i;
            }
        }
        throw new SQLException("Sluice: no column labelled '" + label + "'", "42S22");
    }

    // ---- getters by index ----

    @Override
    public Object getObject(int c) throws SQLException {
        return value(c);
    }

    @Override
    public String getString(int c) throws SQLException {
        Object v = value(c);
        return v == null ? null : v instanceof byte[] b ? new String(b, StandardCharsets.UTF_8)
                : v instanceof BigDecimal d ? d.toPlainString() : v.toString();
    }

    @Override
    public boolean getBoolean(int c) throws SQLException {
        Object v = value(c);
        if (v == null) {
            return false;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        if (v instanceof Number n) {
            return n.doubleValue() != 0;
        }
        String s = v.toString().trim();
        return s.equalsIgnoreCase("true") || s.equalsIgnoreCase("t") || s.equals("1") || s.equalsIgnoreCase("yes");
    }

    private Number number(int c) throws SQLException {
        Object v = value(c);
        if (v == null) {
            return 0;
        }
        if (v instanceof Number n) {
            return n;
        }
        if (v instanceof Boolean b) {
            return b ? 1 : 0;
        }
        try {
            return new BigDecimal(v.toString().trim());
        } catch (NumberFormatException e) {
            throw new SQLException("Sluice: column " + c + " value '" + v + "' is not a number", "22018");
        }
    }

    @Override
    public byte getByte(int c) throws SQLException {
        return number(c).byteValue();
    }

    @Override
    public short getShort(int c) throws SQLException {
        return number(c).shortValue();
    }

    @Override
    public int getInt(int c) throws SQLException {
        return number(c).intValue();
    }

    @Override
    public long getLong(int c) throws SQLException {
        return number(c).longValue();
    }

    @Override
    public float getFloat(int c) throws SQLException {
        return number(c).floatValue();
    }

    @Override
    public double getDouble(int c) throws SQLException {
        return number(c).doubleValue();
    }

    @Override
    public BigDecimal getBigDecimal(int c) throws SQLException {
        Object v = value(c);
        if (v == null) {
            return null;
        }
        Number n = number(c);
        return n instanceof BigDecimal d ? d : n instanceof Double || n instanceof Float ? BigDecimal.valueOf(n.doubleValue())
                : new BigDecimal(n.toString());
    }

    @Override
    @Deprecated
    public BigDecimal getBigDecimal(int c, int scale) throws SQLException {
        BigDecimal d = getBigDecimal(c);
        return d == null ? null : d.setScale(scale, java.math.RoundingMode.HALF_UP);
    }

    @Override
    public byte[] getBytes(int c) throws SQLException {
        Object v = value(c);
        return v == null ? null : v instanceof byte[] b ? b : v.toString().getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public Date getDate(int c) throws SQLException {
        Object v = value(c);
        return v == null ? null : v instanceof Date d ? d : v instanceof java.util.Date d ? new Date(d.getTime())
                : v instanceof LocalDate d ? Date.valueOf(d) : v instanceof LocalDateTime t ? Date.valueOf(t.toLocalDate())
                : Date.valueOf(v.toString().trim().substring(0, 10));
    }

    @Override
    public Time getTime(int c) throws SQLException {
        Object v = value(c);
        return v == null ? null : v instanceof Time t ? t : v instanceof java.util.Date d ? new Time(d.getTime())
                : v instanceof java.time.LocalTime t ? Time.valueOf(t) : Time.valueOf(v.toString().trim());
    }

    @Override
    public Timestamp getTimestamp(int c) throws SQLException {
        Object v = value(c);
        return v == null ? null : v instanceof Timestamp t ? t : v instanceof java.util.Date d ? new Timestamp(d.getTime())
                : v instanceof LocalDateTime t ? Timestamp.valueOf(t) : v instanceof LocalDate d ? Timestamp.valueOf(d.atStartOfDay())
                : Timestamp.valueOf(v.toString().trim());
    }

    @Override
    public Date getDate(int c, Calendar cal) throws SQLException {
        return getDate(c);
    }

    @Override
    public Time getTime(int c, Calendar cal) throws SQLException {
        return getTime(c);
    }

    @Override
    public Timestamp getTimestamp(int c, Calendar cal) throws SQLException {
        return getTimestamp(c);
    }

    @Override
    public String getNString(int c) throws SQLException {
        return getString(c);
    }

    @Override
    public java.io.Reader getCharacterStream(int c) throws SQLException {
        String s = getString(c);
        return s == null ? null : new java.io.StringReader(s);
    }

    @Override
    public java.io.Reader getNCharacterStream(int c) throws SQLException {
        return getCharacterStream(c);
    }

    @Override
    public java.io.InputStream getBinaryStream(int c) throws SQLException {
        byte[] b = getBytes(c);
        return b == null ? null : new java.io.ByteArrayInputStream(b);
    }

    @Override
    public Object getObject(int c, Map<String, Class<?>> map) throws SQLException {
        return getObject(c);
    }

    @Override
    public <T> T getObject(int c, Class<T> type) throws SQLException {
        Object v = value(c);
        if (v == null || type.isInstance(v)) {
            return type.cast(v);
        }
        Object o;
        if (type == String.class) {
            o = getString(c);
        } else if (type == Integer.class) {
            o = getInt(c);
        } else if (type == Long.class) {
            o = getLong(c);
        } else if (type == Short.class) {
            o = getShort(c);
        } else if (type == Double.class) {
            o = getDouble(c);
        } else if (type == Float.class) {
            o = getFloat(c);
        } else if (type == BigDecimal.class) {
            o = getBigDecimal(c);
        } else if (type == Boolean.class) {
            o = getBoolean(c);
        } else if (type == byte[].class) {
            o = getBytes(c);
        } else if (type == LocalDate.class) {
            o = getDate(c).toLocalDate();
        } else if (type == LocalDateTime.class) {
            o = getTimestamp(c).toLocalDateTime();
        } else if (type == Date.class) {
            o = getDate(c);
        } else if (type == Timestamp.class) {
            o = getTimestamp(c);
        } else {
            throw new SQLException("Sluice: cannot convert " + v.getClass().getName() + " to " + type.getName(), "22018");
        }
        return type.cast(o);
    }

    // ---- cursor and attributes ----

    @Override
    public ResultSetMetaData getMetaData() throws SQLException {
        checkOpen();
        return meta;
    }

    @Override
    public boolean isBeforeFirst() {
        return rowNumber == 0 && !done;
    }

    @Override
    public boolean isAfterLast() {
        return done && rowNumber > 0;
    }

    @Override
    public boolean isFirst() {
        return rowNumber == 1 && !done;
    }

    @Override
    public int getRow() {
        return done ? 0 : rowNumber;
    }

    @Override
    public int getType() {
        return TYPE_FORWARD_ONLY;
    }

    @Override
    public int getConcurrency() {
        return CONCUR_READ_ONLY;
    }

    @Override
    public int getHoldability() {
        return CLOSE_CURSORS_AT_COMMIT;
    }

    @Override
    public void setFetchDirection(int direction) throws SQLException {
        if (direction != FETCH_FORWARD) {
            throw new SQLException("Sluice: a merged result is forward-only", "HY106");
        }
    }

    @Override
    public int getFetchDirection() {
        return FETCH_FORWARD;
    }

    @Override
    public void setFetchSize(int rows) {
        fetchSize = rows;
    }

    @Override
    public int getFetchSize() {
        return fetchSize;
    }

    @Override
    public Statement getStatement() {
        return owner;
    }

    @Override
    public SQLWarning getWarnings() {
        return null;
    }

    @Override
    public void clearWarnings() {
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        if (iface.isInstance(this)) {
            return iface.cast(this);
        }
        throw new SQLException("Sluice: not a wrapper for " + iface.getName(), "HY000");
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) {
        return iface.isInstance(this);
    }
}
