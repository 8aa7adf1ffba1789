package dev.sluice.core.shard;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * Merges one scatter query's per-shard results as they arrive, for the proxies, whose rows come as network events
 * rather than from a pull-based {@code ResultSet}. The caller pushes rows ({@link #add}) and ends ({@link #end}) and
 * takes out whatever can be decided now ({@link #poll}); the rows themselves ({@code R}: a wire row) are relayed
 * unchanged unless grouping combined them.
 *
 * <ul>
 *   <li>no ORDER BY, not grouped: concatenation in arrival order — every row is out at once;</li>
 *   <li>ORDER BY: streaming k-way merge — a row comes out when every shard that has not ended has a row waiting
 *       (so the smallest head is the global next); memory is what the slowest shard lags behind, which the caller
 *       bounds by pausing reads from a shard with many {@link #buffered} rows;</li>
 *   <li>grouped (aggregates, GROUP BY, DISTINCT): rows fold into their group as they come (memory is the number of
 *       groups), and the groups come out, sorted, after every shard ended.</li>
 * </ul>
 * OFFSET and LIMIT apply to the merged stream; after LIMIT rows, {@link #finished} is true and the rest of the
 * shards' rows can be discarded.
 *
 * <p>Not thread-safe: one proxy session drives it from its event loop.
 */
public final class StreamMerger<R> {

    /**
     * One merged row. {@code changed == false}: relay {@code row} as it came (minus the hidden trailing columns).
     * {@code changed == true}: a grouped row whose aggregate columns ({@link MergePlan#aggregates()}) must be
     * re-encoded from {@code values} (AVG as SUM/COUNT); its other columns are the group's first row's, so their
     * bytes can be copied from {@code row}.
     */
    public record Out<R>(R row, Object[] values, boolean changed) {
    }

    private record Entry<R>(R row, Object[] values, int shard) {
    }

    private final MergePlan plan;
    private final int width;
    private final boolean mysql;
    private final Function<R, Object[]> values;
    private final Comparator<Object[]> order;
    private final ArrayDeque<Entry<R>>[] queues;  // k-way: each shard's rows waiting
    private final ArrayDeque<Entry<R>> arrived;   // concatenation: rows in arrival order
    private final int[] counts;                   // rows held per shard (concatenation and k-way)
    private final boolean[] ended;
    private final Map<List<Object>, Entry<R>> groups;
    private Iterator<Entry<R>> grouped;           // the sorted groups, once every shard ended
    private int open;
    private long toSkip;
    private long left;                            // rows still to give; -1: no limit

    /**
     * @param width  the shards' result width, hidden columns included
     * @param offset rows to skip after the merge (0: none)
     * @param limit  rows to give after the offset (-1: no limit)
     * @param values a row's decoded values, 0-based over {@code width}; only {@link MergePlan#neededColumns} must be
     *               decoded. The array is not modified (grouping copies it).
     */
    @SuppressWarnings("unchecked")
    public StreamMerger(MergePlan plan, int shardCount, int width, long offset, long limit, boolean mysql, Function<R, Object[]> values) {
        if (shardCount < 1) {
            throw new IllegalArgumentException("shardCount " + shardCount);
        }
        if (width <= plan.hiddenColumns()) {
            throw new IllegalArgumentException("a result of " + width + " columns cannot hold the plan's " + plan.hiddenColumns() + " hidden columns");
        }
        this.plan = plan;
        this.width = width;
        this.mysql = mysql;
        this.values = Objects.requireNonNull(values);
        this.order = MergeValues.order(plan, width);
        this.queues = new ArrayDeque[shardCount];
        for (int i = 0; i < shardCount; i++) {
            queues[i] = new ArrayDeque<>();
        }
        this.arrived = new ArrayDeque<>();
        this.counts = new int[shardCount];
        this.ended = new boolean[shardCount];
        this.groups = plan.grouped() ? new LinkedHashMap<>() : null;
        this.open = shardCount;
        this.toSkip = Math.max(0, offset);
        this.left = limit < 0 ? -1 : limit;
    }

    public int visibleColumns() {
        return width - plan.hiddenColumns();
    }

    /** A row from {@code shard}, in that shard's order. Ignored once the limit is reached. */
    public void add(int shard, R row) {
        if (left == 0) {
            return; // the limit is reached: the shards' remaining rows are discarded as they come
        }
        if (ended[shard]) {
            throw new IllegalStateException("shard " + shard + " already ended");
        }
        Object[] v = values.apply(row);
        if (v.length != width) {
            throw new IllegalArgumentException("row of " + v.length + " values in a result of " + width + " columns");
        }
        if (groups != null) {
            List<Object> key = MergeValues.groupKey(plan, v, width);
            Entry<R> acc = groups.get(key);
            if (acc == null) {
                groups.put(key, new Entry<>(row, v.clone(), shard)); // combine() writes into the accumulator
            } else {
                MergeValues.combine(plan, acc.values(), v, width);
            }
        } else if (plan.order().isEmpty()) {
            arrived.add(new Entry<>(row, v, shard));
            counts[shard]++;
        } else {
            queues[shard].add(new Entry<>(row, v, shard));
            counts[shard]++;
        }
    }

    /** {@code shard}'s result is complete. */
    public void end(int shard) {
        if (!ended[shard]) {
            ended[shard] = true;
            open--;
        }
    }

    /** Rows held from {@code shard} and not yet out (0 when grouping: groups, not rows, are held). */
    public int buffered(int shard) {
        return counts[shard];
    }

    /** True when nothing more will come out: the limit is reached, or every shard ended and all is out. */
    public boolean finished() {
        if (left == 0) {
            return true;
        }
        if (open > 0) {
            return false;
        }
        if (groups != null) {
            return grouped != null && !grouped.hasNext() || grouped == null && groups.isEmpty();
        }
        if (plan.order().isEmpty()) {
            return arrived.isEmpty();
        }
        for (ArrayDeque<Entry<R>> q : queues) {
            if (!q.isEmpty()) {
                return false;
            }
        }
        return true;
    }

    /** The next merged row if it can be decided now, else null (more rows or ends are needed, or it is finished). */
    public Out<R> poll() {
        while (left != 0) {
            Out<R> next = next();
            if (next == null) {
                return null;
            }
            if (toSkip > 0) {
                toSkip--;
                continue;
            }
            if (left > 0) {
                left--;
            }
            return next;
        }
        return null;
    }

    private Out<R> next() {
        if (groups != null) {
            if (grouped == null) {
                if (open > 0) {
                    return null;
                }
                List<Entry<R>> all = new ArrayList<>(groups.values());
                groups.clear();
                for (Entry<R> g : all) {
                    MergeValues.finishAverages(plan, g.values(), width, mysql);
                }
                if (!plan.order().isEmpty()) {
                    all.sort((a, b) -> order.compare(a.values(), b.values()));
                }
                grouped = all.iterator();
            }
            if (!grouped.hasNext()) {
                return null;
            }
            Entry<R> g = grouped.next();
            return new Out<>(g.row(), g.values(), !plan.aggregates().isEmpty());
        }
        if (plan.order().isEmpty()) {
            Entry<R> e = arrived.poll();
            if (e == null) {
                return null;
            }
            counts[e.shard()]--;
            return new Out<>(e.row(), e.values(), false);
        }
        int best = -1;
        for (int s = 0; s < queues.length; s++) {
            Entry<R> head = queues[s].peek();
            if (head == null) {
                if (!ended[s]) {
                    return null; // this shard's next row may be the smallest: wait for it
                }
                continue;
            }
            if (best < 0 || order.compare(head.values(), queues[best].peek().values()) < 0) {
                best = s; // ties keep the lower shard first: a stable, deterministic order
            }
        }
        if (best < 0) {
            return null;
        }
        Entry<R> e = queues[best].poll();
        counts[best]--;
        return new Out<>(e.row(), e.values(), false);
    }
}
