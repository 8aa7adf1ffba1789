package dev.sluice.core.shard;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The push-based merge the proxies use: rows arrive per shard as events, merged rows come out when decided. */
class StreamMergerTest {
    private static final ValueRef NONE = null;

    private static MergePlan sorted(int hidden, MergePlan.SortKey... keys) {
        return new MergePlan(hidden, List.of(keys), false, List.of(), false, List.of(), NONE, NONE);
    }

    /** Rows are their own values here; a proxy's R is a wire row decoded by the function. */
    private static StreamMerger<Object[]> merger(MergePlan plan, int shards, int width, long offset, long limit, boolean mysql) {
        return new StreamMerger<>(plan, shards, width, offset, limit, mysql, r -> r);
    }

    private static List<Object> drainFirstColumn(StreamMerger<Object[]> m) {
        List<Object> out = new ArrayList<>();
        for (StreamMerger.Out<Object[]> o = m.poll(); o != null; o = m.poll()) {
            out.add(o.values()[0]);
        }
        return out;
    }

    @Test
    void concatenationGivesEveryRowAtOnceAndCountsBufferedRowsPerShard() {
        StreamMerger<Object[]> m = merger(sorted(0), 2, 1, 0, -1, false);
        m.add(1, new Object[] {"b"});
        m.add(0, new Object[] {"a"});
        assertEquals(1, m.buffered(1));
        assertEquals(List.of("b", "a"), drainFirstColumn(m)); // arrival order, nothing waits for other shards
        assertEquals(0, m.buffered(1));
        assertFalse(m.finished());
        m.end(0);
        m.end(1);
        assertTrue(m.finished());
    }

    @Test
    void kWayMergeWaitsForEveryOpenShardThenStreams() {
        StreamMerger<Object[]> m = merger(sorted(0, new MergePlan.SortKey(1, false, false, 0)), 3, 1, 0, -1, false);
        m.add(0, new Object[] {1L});
        m.add(0, new Object[] {4L});
        m.add(1, new Object[] {2L});
        assertNull(m.poll(), "shard 2 has not answered: its first row may be the smallest");
        m.add(2, new Object[] {new BigDecimal("3.0")});
        assertEquals(List.of(1L, 2L), drainFirstColumn(m)); // then shard 1 is empty and open again
        m.end(1);
        assertEquals(List.of(new BigDecimal("3.0")), drainFirstColumn(m)); // shard 2's 3.0 < shard 0's 4, then shard 2 is empty
        m.end(2);
        assertEquals(List.of(4L), drainFirstColumn(m));
        assertFalse(m.finished());
        m.end(0);
        assertTrue(m.finished());
    }

    @Test
    void descendingWithNullsFirstAndOffsetLimitAfterTheMerge() {
        StreamMerger<Object[]> m = merger(sorted(0, new MergePlan.SortKey(1, true, true, 0)), 2, 1, 1, 2, false);
        m.add(0, new Object[] {null});
        m.add(0, new Object[] {5L});
        m.add(0, new Object[] {1L});
        m.add(1, new Object[] {7L});
        m.add(1, new Object[] {3L});
        m.end(0);
        m.end(1);
        // merged: null, 7, 5, 3, 1 → offset 1, limit 2 → 7, 5
        assertEquals(java.util.Arrays.asList(7L, 5L), drainFirstColumn(m));
        assertTrue(m.finished(), "the limit is reached");
        m.add(0, new Object[] {0L}); // late rows after the limit are ignored, not an error
        assertNull(m.poll());
    }

    @Test
    void groupsCombineAggregatesAndAverageAtTheEngineScale() {
        // SELECT status, count(*), sum(amount), avg(amount) → each shard: status, count, sum, sum(amount), hidden count(amount)
        MergePlan plan = new MergePlan(1, List.of(new MergePlan.SortKey(1, false, false, 0)), true,
                List.of(new MergePlan.GroupKey(1, 0)), false,
                List.of(new MergePlan.Aggregate(MergePlan.Fn.COUNT, 2, 0, 0), new MergePlan.Aggregate(MergePlan.Fn.SUM, 3, 0, 0),
                        new MergePlan.Aggregate(MergePlan.Fn.AVG, 4, -1, 0)), NONE, NONE);
        assertArrayEquals(new int[] {1, 2, 3, 4, 5}, plan.neededColumns(5));
        StreamMerger<Object[]> m = merger(plan, 2, 5, 0, -1, true);
        m.add(0, new Object[] {"open", 2L, new BigDecimal("3.00"), new BigDecimal("3.00"), 2L});
        m.add(0, new Object[] {"closed", 1L, new BigDecimal("1.00"), new BigDecimal("1.00"), 1L});
        m.add(1, new Object[] {"open", 1L, null, null, 0L});
        assertNull(m.poll(), "groups come out only after every shard ended");
        m.end(0);
        m.end(1);
        StreamMerger.Out<Object[]> closed = m.poll();
        StreamMerger.Out<Object[]> open = m.poll();
        assertNull(m.poll());
        assertEquals("closed", closed.values()[0]);
        assertTrue(open.changed());
        assertEquals(3L, open.values()[1]);
        assertEquals(new BigDecimal("3.00"), open.values()[2]);
        assertEquals(new BigDecimal("1.500000"), open.values()[3]); // 3.00 / 2 at MySQL's input scale + 4
        assertEquals(2L, ((Object[]) open.row())[1], "the relayed row is untouched; the combined values are separate");
        assertTrue(m.finished());
    }

    @Test
    void mysqlStringsOrderByTheirCollationWeight() {
        // ORDER BY tag, with WEIGHT_STRING(tag) as hidden column 1
        MergePlan plan = sorted(1, new MergePlan.SortKey(1, false, false, -1));
        assertArrayEquals(new int[] {1, 2}, plan.neededColumns(2));
        StreamMerger<Object[]> m = merger(plan, 2, 2, 0, -1, true);
        m.add(0, new Object[] {"Alpha", new byte[] {0x41}});
        m.add(0, new Object[] {"beta", new byte[] {0x42}});
        m.add(1, new Object[] {"alpha", new byte[] {0x41}});
        m.end(0);
        m.end(1);
        assertEquals(1, m.visibleColumns());
        assertEquals(List.of("Alpha", "alpha", "beta"), drainFirstColumn(m)); // equal weights: the lower shard first
    }
}
