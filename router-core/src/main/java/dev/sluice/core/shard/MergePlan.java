package dev.sluice.core.shard;

import java.util.List;
import java.util.stream.Collectors;

/**
 * How the results of a SELECT that ran on several shards become one result. Columns are 1-based positions in
 * each shard's result; a negative number {@code -k} is the k-th hidden column the rewrite appended (its absolute
 * position is known only at run time when the select list has a {@code *}). Hidden columns are dropped from
 * the merged result.
 *
 * <ul>
 *   <li>not {@code grouped}: rows are concatenated, or k-way merged by {@code order} (each shard sorted them),
 *       then {@code offset}/{@code limit} apply (each shard was asked for offset+limit rows);</li>
 *   <li>{@code grouped} (aggregates, GROUP BY or DISTINCT): rows with equal {@code groupKeys} are combined with
 *       {@code aggregates}, then sorted by {@code order}, then offset/limit.</li>
 * </ul>
 *
 * <p>{@code weight} columns (MySQL/MariaDB): {@code WEIGHT_STRING(expr)} of a compared string value, so the merge
 * orders and groups strings exactly as the column's collation does; 0 when there is none.
 */
public record MergePlan(int hiddenColumns, List<SortKey> order, boolean grouped, List<GroupKey> groupKeys,
                        boolean distinctAll, List<Aggregate> aggregates, ValueRef limit, ValueRef offset) {

    /** One ORDER BY key; {@code nullsFirst} already resolved from the engine's default when not written. */
    public record SortKey(int column, boolean descending, boolean nullsFirst, int weight) {
        @Override
        public String toString() {
            return col(column) + (descending ? " desc" : "") + (nullsFirst ? " nulls-first" : "") + (weight != 0 ? " w" + col(weight) : "");
        }
    }

    public record GroupKey(int column, int weight) {
        @Override
        public String toString() {
            return col(column) + (weight != 0 ? " w" + col(weight) : "");
        }
    }

    public enum Fn { COUNT, SUM, MIN, MAX, AVG }

    /** For AVG, {@code column} holds the shard's SUM and {@code count} its COUNT; otherwise {@code count} is 0. */
    public record Aggregate(Fn fn, int column, int count, int weight) {
        @Override
        public String toString() {
            return fn.name().toLowerCase(java.util.Locale.ROOT) + "(" + col(column) + (count != 0 ? "/" + col(count) : "") + ")"
                    + (weight != 0 ? " w" + col(weight) : "");
        }
    }

    /** {@code c3} for result column 3, {@code h2} for the second hidden column. */
    static String col(int c) {
        return c > 0 ? "c" + c : "h" + -c;
    }

    /** A compact, stable description used by the golden tests and the debug log. */
    public String describe() {
        StringBuilder b = new StringBuilder();
        if (!grouped && order.isEmpty()) {
            b.append("concat");
        } else if (!grouped) {
            b.append("merge-sort ").append(order.stream().map(Object::toString).collect(Collectors.joining(", ")));
        } else {
            b.append("group [").append(distinctAll ? "all-columns" : groupKeys.stream().map(Object::toString).collect(Collectors.joining(", ")))
                    .append("] aggregates [").append(aggregates.stream().map(Object::toString).collect(Collectors.joining(", "))).append("]");
            if (!order.isEmpty()) {
                b.append(" sort ").append(order.stream().map(Object::toString).collect(Collectors.joining(", ")));
            }
        }
        if (offset != null) {
            b.append(" offset ").append(offset);
        }
        if (limit != null) {
            b.append(" limit ").append(limit);
        }
        if (hiddenColumns > 0) {
            b.append(" hidden ").append(hiddenColumns);
        }
        return b.toString();
    }

    /**
     * The absolute 1-based columns whose values the merge reads (sort keys, group keys, aggregates and their
     * collation weights and hidden counts), ascending: a proxy decodes only these from a wire row.
     */
    public int[] neededColumns(int width) {
        java.util.TreeSet<Integer> cols = new java.util.TreeSet<>();
        java.util.function.IntConsumer need = c -> {
            if (c != 0) {
                cols.add(resolve(c, width));
            }
        };
        for (SortKey k : order) {
            need.accept(k.column());
            need.accept(k.weight());
        }
        if (distinctAll) {
            for (int c = 1; c <= width - hiddenColumns; c++) {
                cols.add(c);
            }
        }
        for (GroupKey k : groupKeys) {
            need.accept(k.column());
            need.accept(k.weight());
        }
        for (Aggregate a : aggregates) {
            need.accept(a.column());
            need.accept(a.count());
            need.accept(a.weight());
        }
        return cols.stream().mapToInt(Integer::intValue).toArray();
    }

    /** The absolute 1-based column of a plan column, given the shard result's column count. */
    public int resolve(int column, int columnCount) {
        return column > 0 ? column : columnCount - hiddenColumns - column;
    }
}
