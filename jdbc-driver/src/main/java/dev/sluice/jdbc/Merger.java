package dev.sluice.jdbc;

import dev.sluice.core.shard.MergePlan;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.ByteBuffer;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * Merges the results of one query from several shards as its {@link MergePlan} says: concatenation, a streaming
 * k-way merge of the shards' sorted rows, or grouping with COUNT/SUM/MIN/MAX/AVG; then OFFSET and LIMIT.
 *
 * <p>Comparisons follow the databases: numbers by value whatever their Java type, NULLs where the engine puts
 * them, strings on MySQL/MariaDB by their collation weight ({@code WEIGHT_STRING}, fetched by the rewrite) and on
 * PostgreSQL by code point (the C collation: see docs/sharding.md). AVG is SUM/COUNT with the scale the engine
 * itself would give: PostgreSQL's numeric division scale, MySQL's input scale + 4 (div_precision_increment).
 */
final class Merger {
    private Merger() {
    }

    static MergedResultSet merge(MergePlan plan, List<ResultSet> results, long offset, long limit, boolean mysql, Statement owner)
            throws SQLException {
        ResultSetMetaData first = results.get(0).getMetaData();
        int width = first.getColumnCount();
        int visible = width - plan.hiddenColumns();
        Comparator<Object[]> order = order(plan, width);
        MergedResultSet.Rows rows;
        if (plan.grouped()) {
            rows = listRows(group(plan, results, width, visible, mysql, order), results);
        } else if (plan.order().isEmpty()) {
            rows = concat(results, width);
        } else {
            rows = kWay(results, width, order);
        }
        return new MergedResultSet(window(rows, offset, limit), new MergedMetaData(first, visible, plan, mysql), visible, owner);
    }

    // ---- row sources ----

    private static Object[] read(ResultSet rs, int width) throws SQLException {
        Object[] row = new Object[width];
        for (int i = 0; i < width; i++) {
            row[i] = rs.getObject(i + 1);
        }
        return row;
    }

    private static void closeAll(List<ResultSet> results) throws SQLException {
        SQLException first = null;
        for (ResultSet r : results) {
            try {
                r.close();
            } catch (SQLException e) {
                first = first == null ? e : first;
            }
        }
        if (first != null) {
            throw first;
        }
    }

    private static MergedResultSet.Rows concat(List<ResultSet> results, int width) {
        Iterator<ResultSet> it = results.iterator();
        return new MergedResultSet.Rows() {
            ResultSet cur = it.next();

            @Override
            public Object[] next() throws SQLException {
                while (!cur.next()) {
                    if (!it.hasNext()) {
                        return null;
                    }
                    cur = it.next();
                }
                return read(cur, width);
            }

            @Override
            public void close() throws SQLException {
                closeAll(results);
            }
        };
    }

    /** Each shard's rows arrive sorted; a heap of each shard's next row yields them in global order, streaming. */
    private static MergedResultSet.Rows kWay(List<ResultSet> results, int width, Comparator<Object[]> order) throws SQLException {
        record Head(Object[] row, int shard) {
        }
        PriorityQueue<Head> heap = new PriorityQueue<>((a, b) -> {
            int c = order.compare(a.row(), b.row());
            return c != 0 ? c : Integer.compare(a.shard(), b.shard());
        });
        for (int i = 0; i < results.size(); i++) {
            if (results.get(i).next()) {
                heap.add(new Head(read(results.get(i), width), i));
            }
        }
        return new MergedResultSet.Rows() {
            @Override
            public Object[] next() throws SQLException {
                Head h = heap.poll();
                if (h == null) {
                    return null;
                }
                ResultSet rs = results.get(h.shard());
                if (rs.next()) {
                    heap.add(new Head(read(rs, width), h.shard()));
                }
                return h.row();
            }

            @Override
            public void close() throws SQLException {
                closeAll(results);
            }
        };
    }

    private static MergedResultSet.Rows listRows(List<Object[]> list, List<ResultSet> results) throws SQLException {
        closeAll(results); // everything is read already
        Iterator<Object[]> it = list.iterator();
        return new MergedResultSet.Rows() {
            @Override
            public Object[] next() {
                return it.hasNext() ? it.next() : null;
            }

            @Override
            public void close() {
            }
        };
    }

    /** OFFSET then LIMIT (-1: none) over the merged rows. */
    private static MergedResultSet.Rows window(MergedResultSet.Rows in, long offset, long limit) {
        if (offset <= 0 && limit < 0) {
            return in;
        }
        return new MergedResultSet.Rows() {
            long skipped;
            long given;

            @Override
            public Object[] next() throws SQLException {
                while (skipped < offset) {
                    if (in.next() == null) {
                        return null;
                    }
                    skipped++;
                }
                if (limit >= 0 && given >= limit) {
                    return null;
                }
                Object[] r = in.next();
                if (r != null) {
                    given++;
                }
                return r;
            }

            @Override
            public void close() throws SQLException {
                in.close();
            }
        };
    }

    // ---- grouping and aggregates ----

    private static List<Object[]> group(MergePlan plan, List<ResultSet> results, int width, int visible, boolean mysql,
                                        Comparator<Object[]> order) throws SQLException {
        Map<List<Object>, Object[]> groups = new LinkedHashMap<>();
        for (ResultSet rs : results) {
            while (rs.next()) {
                Object[] row = read(rs, width);
                List<Object> key = new ArrayList<>();
                for (MergePlan.GroupKey k : plan.groupKeys()) {
                    int c = plan.resolve(k.column(), width);
                    key.add(groupValue(row[c - 1], k.weight() == 0 ? null : row[plan.resolve(k.weight(), width) - 1]));
                }
                Object[] acc = groups.get(key);
                if (acc == null) {
                    groups.put(key, row);
                } else {
                    combine(plan, acc, row, width);
                }
            }
        }
        List<Object[]> out = new ArrayList<>(groups.values());
        for (Object[] row : out) {
            for (MergePlan.Aggregate a : plan.aggregates()) {
                if (a.fn() == MergePlan.Fn.AVG) {
                    int c = plan.resolve(a.column(), width) - 1;
                    row[c] = average(row[c], row[plan.resolve(a.count(), width) - 1], mysql);
                }
            }
        }
        if (!plan.order().isEmpty()) {
            out.sort(order);
        }
        return out;
    }

    private static void combine(MergePlan plan, Object[] acc, Object[] row, int width) {
        for (MergePlan.Aggregate a : plan.aggregates()) {
            int c = plan.resolve(a.column(), width) - 1;
            switch (a.fn()) {
                case COUNT, SUM -> acc[c] = add(acc[c], row[c]);
                case AVG -> {
                    acc[c] = add(acc[c], row[c]);
                    int n = plan.resolve(a.count(), width) - 1;
                    acc[n] = add(acc[n], row[n]);
                }
                case MIN, MAX -> {
                    int w = a.weight() == 0 ? -1 : plan.resolve(a.weight(), width) - 1;
                    if (acc[c] == null || row[c] != null && (a.fn() == MergePlan.Fn.MIN ? 1 : -1)
                            * compare(acc[c], row[c], w < 0 ? null : acc[w], w < 0 ? null : row[w]) > 0) {
                        acc[c] = row[c];
                        if (w >= 0) {
                            acc[w] = row[w];
                        }
                    }
                }
                default -> throw new IllegalStateException(a.fn().name());
            }
        }
    }

    /** SQL addition: NULL is ignored; the sum keeps the shards' type (long, decimal or double). */
    static Object add(Object a, Object b) {
        if (a == null) {
            return b;
        }
        if (b == null) {
            return a;
        }
        if (a instanceof Double || a instanceof Float || b instanceof Double || b instanceof Float) {
            return ((Number) a).doubleValue() + ((Number) b).doubleValue();
        }
        if ((a instanceof Long || a instanceof Integer) && (b instanceof Long || b instanceof Integer)) {
            try {
                return Math.addExact(((Number) a).longValue(), ((Number) b).longValue());
            } catch (ArithmeticException overflow) {
                return decimal(a).add(decimal(b));
            }
        }
        return decimal(a).add(decimal(b));
    }

    static Object average(Object sum, Object count, boolean mysql) {
        if (sum == null || count == null || decimal(count).signum() == 0) {
            return null;
        }
        if (sum instanceof Double || sum instanceof Float) {
            return ((Number) sum).doubleValue() / ((Number) count).doubleValue();
        }
        BigDecimal s = decimal(sum);
        BigDecimal n = decimal(count);
        int scale = mysql ? Math.min(Math.max(s.scale(), 0) + 4, 38) : pgDivisionScale(s, n);
        return s.divide(n, scale, RoundingMode.HALF_UP);
    }

    /**
     * PostgreSQL's {@code select_div_scale} (numeric.c) for avg = numeric_div(sum, count): at least 16 significant
     * digits, and no less than either input's display scale. Digits are base 10000 there; weight is the position
     * of the first non-zero base-10000 digit.
     */
    static int pgDivisionScale(BigDecimal v1, BigDecimal v2) {
        int[] a = pgWeight(v1);
        int[] b = pgWeight(v2);
        int qweight = a[0] - b[0];
        if (a[1] <= b[1]) {
            qweight--;
        }
        int rscale = 16 - qweight * 4;
        rscale = Math.max(rscale, Math.max(v1.scale(), 0));
        rscale = Math.max(rscale, Math.max(v2.scale(), 0));
        return Math.min(rscale, 1000);
    }

    private static int[] pgWeight(BigDecimal v) {
        if (v.signum() == 0) {
            return new int[] {0, 0};
        }
        BigDecimal a = v.abs();
        int exponent = a.precision() - a.scale() - 1; // a = d.ddd × 10^exponent
        int weight = Math.floorDiv(exponent, 4);
        int firstDigit = a.movePointLeft(4 * weight).setScale(0, RoundingMode.DOWN).intValue();
        return new int[] {weight, firstDigit};
    }

    static BigDecimal decimal(Object n) {
        return n instanceof BigDecimal d ? d : n instanceof Double || n instanceof Float ? BigDecimal.valueOf(((Number) n).doubleValue())
                : n instanceof Number x ? new BigDecimal(x.toString()) : new BigDecimal(n.toString());
    }

    /** A group key part: numbers by value (1 = 1.0), strings by collation weight when there is one. */
    private static Object groupValue(Object v, Object weight) {
        if (v instanceof String && weight instanceof byte[] w) {
            return ByteBuffer.wrap(w);
        }
        if (v instanceof Number) {
            BigDecimal d = decimal(v);
            return d.signum() == 0 ? BigDecimal.ZERO : d.stripTrailingZeros();
        }
        return v instanceof byte[] b ? ByteBuffer.wrap(b) : v;
    }

    // ---- ordering ----

    private static Comparator<Object[]> order(MergePlan plan, int width) {
        List<MergePlan.SortKey> keys = plan.order();
        return (a, b) -> {
            for (MergePlan.SortKey k : keys) {
                int c = plan.resolve(k.column(), width) - 1;
                Object x = a[c];
                Object y = b[c];
                if (x == null || y == null) {
                    if (x != y) {
                        return x == null == k.nullsFirst() ? -1 : 1; // NULL placement does not flip with DESC
                    }
                    continue;
                }
                int w = k.weight() == 0 ? -1 : plan.resolve(k.weight(), width) - 1;
                int r = compare(x, y, w < 0 ? null : a[w], w < 0 ? null : b[w]);
                if (r != 0) {
                    return k.descending() ? -r : r;
                }
            }
            return 0;
        };
    }

    /** Compares two non-null values the way the database does; {@code wx}/{@code wy} are collation weights or null. */
    static int compare(Object x, Object y, Object wx, Object wy) {
        if (x instanceof String && wx instanceof byte[] a && wy instanceof byte[] b) {
            return Arrays.compareUnsigned(a, b);
        }
        if (x instanceof Number && y instanceof Number) {
            return decimal(x).compareTo(decimal(y));
        }
        if (x instanceof String s && y instanceof String t) {
            return codePoints(s, t);
        }
        if (x instanceof byte[] a && y instanceof byte[] b) {
            return Arrays.compareUnsigned(a, b);
        }
        if (x instanceof java.util.Date d && y instanceof java.util.Date e) {
            int c = Long.compare(d.getTime(), e.getTime());
            return c != 0 || !(x instanceof java.sql.Timestamp t && y instanceof java.sql.Timestamp u) ? c : Integer.compare(t.getNanos(), u.getNanos());
        }
        if (x instanceof Comparable<?> && x.getClass() == y.getClass()) {
            @SuppressWarnings("unchecked")
            Comparable<Object> cx = (Comparable<Object>) x;
            return cx.compareTo(y);
        }
        return x.toString().compareTo(y.toString());
    }

    private static int codePoints(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i);
            int cb = b.codePointAt(j);
            if (ca != cb) {
                return Integer.compare(ca, cb);
            }
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Integer.compare(a.length() - i, b.length() - j);
    }
}
