package dev.sluice.core.shard;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * The value semantics of a cross-shard merge, shared by the driver (values from JDBC {@code getObject}) and the
 * proxies (values decoded from wire rows): comparing, grouping and aggregating as the database itself would.
 *
 * <p>Numbers compare by value whatever their Java type; NULLs go where the engine puts them; strings compare on
 * MySQL/MariaDB by their collation weight ({@code WEIGHT_STRING}, fetched as a hidden column by the rewrite) and on
 * PostgreSQL by code point (the C collation: see docs/sharding.md). AVG is SUM/COUNT with the scale the engine
 * itself would give: PostgreSQL's numeric division scale, MySQL's input scale + 4 (div_precision_increment).
 *
 * <p>Rows are {@code Object[]} of the shard result's full width (hidden columns included), 0-based.
 */
public final class MergeValues {
    private MergeValues() {
    }

    /** The ORDER BY of a plan over rows of the given width (NULL placement does not flip with DESC). */
    public static Comparator<Object[]> order(MergePlan plan, int width) {
        List<MergePlan.SortKey> keys = plan.order();
        return (a, b) -> {
            for (MergePlan.SortKey k : keys) {
                int c = plan.resolve(k.column(), width) - 1;
                Object x = a[c];
                Object y = b[c];
                if (x == null || y == null) {
                    if (x != y) {
                        return x == null == k.nullsFirst() ? -1 : 1;
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

    /** The grouping key of a row: its group-key columns, numbers by value (1 = 1.0), strings by collation weight. */
    public static List<Object> groupKey(MergePlan plan, Object[] row, int width) {
        List<Object> key = new ArrayList<>(plan.groupKeys().size());
        if (plan.distinctAll()) {
            for (int i = 0; i < width - plan.hiddenColumns(); i++) {
                key.add(groupValue(row[i], null));
            }
            return key;
        }
        for (MergePlan.GroupKey k : plan.groupKeys()) {
            int c = plan.resolve(k.column(), width);
            key.add(groupValue(row[c - 1], k.weight() == 0 ? null : row[plan.resolve(k.weight(), width) - 1]));
        }
        return key;
    }

    /** Folds {@code row} into the group accumulator {@code acc} (same group) by the plan's aggregates. */
    public static void combine(MergePlan plan, Object[] acc, Object[] row, int width) {
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

    /** Once a group is complete: each AVG column (which held the summed SUM) becomes SUM/COUNT. */
    public static void finishAverages(MergePlan plan, Object[] acc, int width, boolean mysql) {
        for (MergePlan.Aggregate a : plan.aggregates()) {
            if (a.fn() == MergePlan.Fn.AVG) {
                int c = plan.resolve(a.column(), width) - 1;
                acc[c] = average(acc[c], acc[plan.resolve(a.count(), width) - 1], mysql);
            }
        }
    }

    /** SQL addition: NULL is ignored; the sum keeps the shards' type (long, decimal or double). */
    public static Object add(Object a, Object b) {
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

    /** SUM/COUNT at the engine's scale; null for no rows. Floating-point sums give a double. */
    public static Object average(Object sum, Object count, boolean mysql) {
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
    public static int pgDivisionScale(BigDecimal v1, BigDecimal v2) {
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

    public static BigDecimal decimal(Object n) {
        return n instanceof BigDecimal d ? d : n instanceof Double || n instanceof Float ? BigDecimal.valueOf(((Number) n).doubleValue())
                : n instanceof Number x ? new BigDecimal(x.toString()) : new BigDecimal(n.toString());
    }

    /** A group key part: numbers by value (1 = 1.0), strings by collation weight when there is one. */
    static Object groupValue(Object v, Object weight) {
        if (v instanceof String && weight instanceof byte[] w) {
            return ByteBuffer.wrap(w);
        }
        if (v instanceof Number) {
            BigDecimal d = decimal(v);
            return d.signum() == 0 ? BigDecimal.ZERO : d.stripTrailingZeros();
        }
        return v instanceof byte[] b ? ByteBuffer.wrap(b) : v;
    }

    /** Compares two non-null values the way the database does; {@code wx}/{@code wy} are collation weights or null. */
    public static int compare(Object x, Object y, Object wx, Object wy) {
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
