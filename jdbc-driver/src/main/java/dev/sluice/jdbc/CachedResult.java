package dev.sluice.jdbc;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A result set read to the end and kept: the rows as the real driver's {@code getObject} gave them, its
 * {@code getString} text wherever that differs from the value's own (pgjdbc's {@code t} for a boolean, a
 * timestamp without the trailing {@code .0}, bytea in hex …), and a copy of its metadata. Immutable once
 * captured, so one instance serves every cache hit; each hit gets its own cursor ({@link #open}).
 *
 * <p>Why not a JDK {@code CachedRowSet}: its {@code close()} clears the row vector its shared copies use, its
 * {@code findColumn} matches column names instead of labels (aliases fail on MariaDB), {@code getObject(i,
 * Class)} is unsupported, and {@code getInt} on a boolean or a numeric string throws where the real drivers
 * answer. The view here is a {@link ResultSet} (a dynamic proxy: the interface has some 190 methods, nearly
 * all of them "read column i as type T") that behaves as the real one: labels, types, scrolling only when the
 * statement asked for a scrollable result, read-only.
 */
final class CachedResult {
    /** The proxy class of the result-set view, made once: Proxy.newProxyInstance looks it up on every call. */
    private static final java.lang.reflect.Constructor<?> VIEW;

    static {
        try {
            VIEW = Proxy.newProxyInstance(ResultSet.class.getClassLoader(), new Class<?>[] {ResultSet.class}, (p, m, a) -> null)
                    .getClass().getConstructor(InvocationHandler.class);
        } catch (NoSuchMethodException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final CachedMetaData meta;
    private final List<Object[]> rows;
    private final List<String[]> texts; // per row: getString overrides, or null when the row has none
    private final Map<String, Integer> labels;
    private final long bytes;
    private final boolean cacheable;

    private CachedResult(CachedMetaData meta, List<Object[]> rows, List<String[]> texts, long bytes, boolean cacheable) {
        this.meta = meta;
        this.rows = rows;
        this.texts = texts;
        this.bytes = bytes;
        this.cacheable = cacheable;
        Map<String, Integer> l = new HashMap<>();
        for (int i = meta.getColumnCount(); i >= 1; i--) { // the first column with a label wins (JDBC findColumn)
            try {
                l.put(meta.getColumnLabel(i).toLowerCase(Locale.ROOT), i);
            } catch (SQLException e) {
                throw new IllegalStateException(e); // in range by construction
            }
        }
        this.labels = Map.copyOf(l);
    }

    /**
     * Reads {@code rs} to the end (it is left open; the caller closes it). {@code previous}: the metadata of the
     * statement's last result, reused when the columns are the same (copying it costs more than the rows of a
     * point select).
     */
    static CachedResult capture(ResultSet rs, CachedMetaData previous) throws SQLException {
        java.sql.ResultSetMetaData md = rs.getMetaData();
        CachedMetaData meta = previous != null && previous.sameColumns(md) ? previous : CachedMetaData.copyOf(md);
        int cols = meta.getColumnCount();
        List<Object[]> rows = new ArrayList<>();
        List<String[]> texts = new ArrayList<>();
        long bytes = 256L + 200L * cols;
        boolean cacheable = true;
        while (rs.next()) {
            Object[] row = new Object[cols];
            String[] text = null;
            bytes += 16 + 8L * cols;
            for (int i = 1; i <= cols; i++) {
                Object v = rs.getObject(i);
                String s = v == null ? null : rs.getString(i);
                Object kept = ResultConversions.storable(v);
                if (kept == ResultConversions.NOT_CACHEABLE) {
                    cacheable = false;
                    kept = v; // still good for this caller, just not for others
                }
                row[i - 1] = kept;
                bytes += weight(kept);
                if (s != null && !s.equals(kept.toString())) {
                    if (text == null) {
                        text = new String[cols];
                    }
                    text[i - 1] = s;
                    bytes += 40 + 2L * s.length();
                }
            }
            rows.add(row);
            texts.add(text);
        }
        return new CachedResult(meta, List.copyOf(rows), java.util.Collections.unmodifiableList(texts), bytes, cacheable);
    }

    private static long weight(Object v) {
        if (v == null) {
            return 0;
        }
        if (v instanceof String s) {
            return 40 + 2L * s.length();
        }
        if (v instanceof byte[] b) {
            return 16 + b.length;
        }
        if (v instanceof java.math.BigDecimal || v instanceof java.math.BigInteger) {
            return 64;
        }
        if (v instanceof Number || v instanceof Boolean) {
            return 24;
        }
        return 64 + 2L * v.toString().length();
    }

    /** Estimated memory, for the cache's byte bound. */
    long bytes() {
        return bytes;
    }

    /** False when a value could not be copied out of its connection (it serves this caller only). */
    boolean cacheable() {
        return cacheable;
    }

    int rowCount() {
        return rows.size();
    }

    CachedMetaData meta() {
        return meta;
    }

    /**
     * A new result set over this result, positioned before the first row. {@code scrollsForwardOnly}: like
     * MariaDB Connector/J, whose buffered results scroll even when TYPE_FORWARD_ONLY (pgjdbc refuses).
     */
    ResultSet open(Statement owner, int type, boolean scrollsForwardOnly) {
        try {
            return (ResultSet) VIEW.newInstance(new View(owner, type, scrollsForwardOnly));
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("Sluice: cannot make a cached result set", e);
        }
    }

    /** One cursor over the rows; the result set's behaviour. */
    private final class View implements InvocationHandler {
        private final Statement owner;
        private final int type;
        private final boolean scrollsForwardOnly;
        private int cursor; // 0: before the first row, rows.size() + 1: after the last
        private boolean closed;
        private boolean lastNull;
        private int fetchSize;
        private int fetchDirection = ResultSet.FETCH_FORWARD;

        View(Statement owner, int type, boolean scrollsForwardOnly) {
            this.owner = owner;
            this.type = type;
            this.scrollsForwardOnly = scrollsForwardOnly;
        }

        @Override
        public Object invoke(Object proxy, Method m, Object[] a) throws Throwable {
            String name = m.getName();
            Object[] args = a == null ? new Object[0] : a;
            switch (name) {
                case "hashCode":
                    return System.identityHashCode(proxy);
                case "equals":
                    return proxy == args[0];
                case "toString":
                    return "SluiceCachedResultSet[" + rows.size() + " rows]";
                case "close":
                    if (!closed) {
                        closed = true;
                        if (owner instanceof SluiceStatement st) {
                            st.resultClosed(proxy);
                        }
                    }
                    return null;
                case "isClosed":
                    return closed;
                case "unwrap":
                    if (((Class<?>) args[0]).isInstance(proxy)) {
                        return proxy;
                    }
                    throw new SQLException("Sluice: a cached result set is not a wrapper for " + ((Class<?>) args[0]).getName(), "HY000");
                case "isWrapperFor":
                    return ((Class<?>) args[0]).isInstance(proxy);
                default:
                    break;
            }
            if (closed) {
                throw new SQLException("Sluice: the result set is closed", "24000");
            }
            try {
                return call(name, m, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        }

        private Object call(String name, Method m, Object[] args) throws Exception {
            switch (name) {
                case "next":
                    return move(cursor + 1, false);
                case "previous":
                    return move(cursor - 1, true);
                case "first":
                    return move(1, true);
                case "last":
                    return move(rows.size(), true);
                case "beforeFirst":
                    scrollable();
                    cursor = 0;
                    return null;
                case "afterLast":
                    scrollable();
                    cursor = rows.size() + 1;
                    return null;
                case "absolute": {
                    int r = (Integer) args[0];
                    return move(r >= 0 ? r : rows.size() + 1 + r, true);
                }
                case "relative":
                    return move(cursor + (Integer) args[0], true);
                case "isBeforeFirst":
                    return cursor == 0 && !rows.isEmpty();
                case "isAfterLast":
                    return cursor > rows.size() && !rows.isEmpty();
                case "isFirst":
                    return cursor == 1 && !rows.isEmpty();
                case "isLast":
                    return cursor == rows.size() && !rows.isEmpty();
                case "getRow":
                    return cursor >= 1 && cursor <= rows.size() ? cursor : 0;
                case "wasNull":
                    return lastNull;
                case "findColumn":
                    return column((String) args[0]);
                case "getMetaData":
                    return meta;
                case "getStatement":
                    return owner;
                case "getType":
                    return type;
                case "getConcurrency":
                    return ResultSet.CONCUR_READ_ONLY;
                case "getHoldability":
                    return ResultSet.HOLD_CURSORS_OVER_COMMIT;
                case "getFetchSize":
                    return fetchSize;
                case "setFetchSize":
                    fetchSize = (Integer) args[0];
                    return null;
                case "getFetchDirection":
                    return fetchDirection;
                case "setFetchDirection":
                    fetchDirection = (Integer) args[0];
                    return null;
                case "getWarnings":
                    return null;
                case "clearWarnings":
                    return null;
                case "rowUpdated", "rowInserted", "rowDeleted":
                    return false;
                default:
                    break;
            }
            if (name.startsWith("update") || name.equals("insertRow") || name.equals("deleteRow") || name.equals("refreshRow")
                    || name.equals("cancelRowUpdates") || name.equals("moveToInsertRow") || name.equals("moveToCurrentRow")) {
                throw new SQLException("Sluice: the result set is read-only (CONCUR_READ_ONLY)", "HY000");
            }
            if (name.startsWith("get") && args.length >= 1 && (args[0] instanceof Integer || args[0] instanceof String)) {
                int col = args[0] instanceof String label ? column(label) : (Integer) args[0];
                meta.column(col); // range check first, as the real drivers do
                if (cursor < 1 || cursor > rows.size()) {
                    throw new SQLException("Sluice: the result set has no current row", "24000");
                }
                Object v = rows.get(cursor - 1)[col - 1];
                String[] t = texts.get(cursor - 1);
                lastNull = v == null;
                Object[] rest = new Object[args.length - 1];
                System.arraycopy(args, 1, rest, 0, rest.length);
                return ResultConversions.get(name, v, t == null ? null : t[col - 1], rest, meta.column(col));
            }
            throw new SQLFeatureNotSupportedException("Sluice: " + m.getName() + " is not supported on a cached result set");
        }

        private boolean move(int to, boolean scrolling) throws SQLException {
            if (scrolling) {
                scrollable();
            }
            cursor = Math.max(0, Math.min(rows.size() + 1, to));
            return cursor >= 1 && cursor <= rows.size();
        }

        private void scrollable() throws SQLException {
            if (type == ResultSet.TYPE_FORWARD_ONLY && !scrollsForwardOnly) {
                throw new SQLException("Sluice: operation requires a scrollable ResultSet, but this one is TYPE_FORWARD_ONLY", "24000");
            }
        }

        private int column(String label) throws SQLException {
            Integer i = labels.get(label.toLowerCase(Locale.ROOT));
            if (i == null) {
                throw new SQLException("Sluice: no column labelled '" + label + "' in this result set", "42703");
            }
            return i;
        }
    }
}
