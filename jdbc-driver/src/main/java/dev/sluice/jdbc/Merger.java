package dev.sluice.jdbc;

import dev.sluice.core.shard.MergePlan;
import dev.sluice.core.shard.MergeValues;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
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
        Comparator<Object[]> order = MergeValues.order(plan, width);
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

    // ---- grouping and aggregates (value semantics in router-core MergeValues, shared with the proxies) ----

    private static List<Object[]> group(MergePlan plan, List<ResultSet> results, int width, int visible, boolean mysql,
                                        Comparator<Object[]> order) throws SQLException {
        Map<List<Object>, Object[]> groups = new LinkedHashMap<>();
        for (ResultSet rs : results) {
            while (rs.next()) {
                Object[] row = read(rs, width);
                List<Object> key = MergeValues.groupKey(plan, row, width);
                Object[] acc = groups.get(key);
                if (acc == null) {
                    groups.put(key, row);
                } else {
                    MergeValues.combine(plan, acc, row, width);
                }
            }
        }
        List<Object[]> out = new ArrayList<>(groups.values());
        for (Object[] row : out) {
            MergeValues.finishAverages(plan, row, width, mysql);
        }
        if (!plan.order().isEmpty()) {
            out.sort(order);
        }
        return out;
    }
}
