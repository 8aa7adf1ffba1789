package dev.sluice.jdbc;

import dev.sluice.core.shard.ShardPlan;
import dev.sluice.core.shard.ShardingException;
import dev.sluice.core.shard.ValueRef;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

/**
 * Runs one statement on several shards at once (each on its own shard connection, in the runtime's fan-out
 * threads) and gathers the outcome: a merged result, the sum of update counts, or per-shard batches.
 */
final class ShardFanOut {
    /** One shard's part: a ResultSet for a read, an update count (Long) for anything else. */
    interface Task {
        Object run(int shard, boolean read) throws SQLException;
    }

    /** One shard's batch: the original positions of its rows, in order. */
    interface BatchTask {
        long[] run(int shard, List<Integer> rows) throws SQLException;
    }

    private final ShardedConnection conn;

    ShardFanOut(ShardedConnection conn) {
        this.conn = conn;
    }

    /** A read on several shards, merged as the plan says; {@code maxRows} (-1: none) caps the merged result. */
    ResultSet query(long mask, ShardPlan plan, Task task, List<?> values, long maxRows, ShardedStatement owner) throws SQLException {
        Map<Integer, Object> parts = onShards(mask, task, true);
        List<ResultSet> results = new ArrayList<>();
        parts.values().forEach(r -> results.add((ResultSet) r));
        long limit = number(plan.merge().limit(), values, "LIMIT");
        if (maxRows > 0 && (limit < 0 || maxRows < limit)) {
            limit = maxRows;
        }
        long offset = number(plan.merge().offset(), values, "OFFSET");
        try {
            return Merger.merge(plan.merge(), results, Math.max(offset, 0), limit, conn.rt.engine.dialect() == dev.sluice.core.sql.Dialect.MYSQL, owner);
        } catch (SQLException | RuntimeException e) {
            for (ResultSet r : results) {
                closeQuietly(r, e);
            }
            throw e;
        }
    }

    private static long number(ValueRef v, List<?> values, String what) throws SQLException {
        if (v == null) {
            return -1;
        }
        Object o = v.resolve(values);
        if (!(o instanceof Number n)) {
            throw new SQLException("Sluice: " + what + " must be a number, got " + o, "22023");
        }
        return n.longValue();
    }

    /** A write (or DDL, or session state) on several shards; each commits on its own (autocommit). */
    long update(long mask, Task task) throws SQLException {
        long sum = 0;
        for (Object count : onShards(mask, task, false).values()) {
            sum += (Long) count;
        }
        return sum;
    }

    /** The one shard a batch entry goes to; an entry that needs several shards is refused. */
    int singleShard(ShardPlan plan, List<?> values, String what) throws SQLException {
        long mask;
        try {
            if (plan.kind() == ShardPlan.Kind.TRANSACTION) {
                throw new ShardingException("transaction control cannot be batched");
            }
            mask = plan.targets(conn.rt.map, values);
        } catch (ShardingException e) {
            throw new SQLException("Sluice: " + what + ": " + e.getMessage(), ShardedConnection.NOT_SUPPORTED, e);
        }
        if (mask == 0) {
            return conn.anyShard();
        }
        if (Long.bitCount(mask) > 1) {
            throw new SQLException("Sluice: " + what + " needs shards " + conn.rt.map.names(mask) + "; every statement of a batch must "
                    + "target one shard (the batch is split per shard)", ShardedConnection.NOT_SUPPORTED);
        }
        return Long.numberOfTrailingZeros(mask);
    }

    /** Runs a batch split per shard, one batch per shard in parallel; counts come back in the original order. */
    long[] batch(int[] shardOf, BatchTask task, java.util.function.Consumer<List<String>> ranOn) throws SQLException {
        long mask = 0;
        Map<Integer, List<Integer>> rows = new LinkedHashMap<>();
        for (int i = 0; i < shardOf.length; i++) {
            mask |= 1L << shardOf[i];
            rows.computeIfAbsent(shardOf[i], k -> new ArrayList<>()).add(i);
        }
        long[] out = new long[shardOf.length];
        if (mask == 0) {
            return out;
        }
        conn.touch(mask, true);
        ranOn.accept(conn.rt.map.names(mask));
        Map<Integer, Object> counts = onShards(mask, (shard, read) -> task.run(shard, rows.get(shard)), false);
        for (Map.Entry<Integer, Object> e : counts.entrySet()) {
            long[] c = (long[]) e.getValue();
            List<Integer> idx = rows.get(e.getKey());
            for (int k = 0; k < idx.size(); k++) {
                out[idx.get(k)] = c[k];
            }
        }
        return out;
    }

    /**
     * Runs {@code task} on every shard of {@code mask} in parallel and waits for all. If any fails, the others'
     * results are closed and one SQLException names the failed shards and, for writes, the shards where the
     * statement did commit (autocommit per shard: a statement on several shards is not atomic).
     */
    private Map<Integer, Object> onShards(long mask, Task task, boolean read) throws SQLException {
        Map<Integer, Future<Object>> futures = new LinkedHashMap<>();
        for (int i = 0; i < conn.shardCount(); i++) {
            if ((mask & (1L << i)) != 0) {
                int shard = i;
                futures.put(i, conn.rt.fanOut.submit(() -> task.run(shard, read)));
            }
        }
        Map<Integer, Object> done = new LinkedHashMap<>();
        Map<Integer, Throwable> failed = new LinkedHashMap<>();
        for (Map.Entry<Integer, Future<Object>> f : futures.entrySet()) {
            try {
                done.put(f.getKey(), f.getValue().get());
            } catch (ExecutionException e) {
                failed.put(f.getKey(), e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                failed.put(f.getKey(), e);
            }
        }
        if (failed.isEmpty()) {
            return done;
        }
        Throwable first = failed.values().iterator().next();
        StringBuilder m = new StringBuilder("Sluice: failed on shard");
        failed.forEach((s, t) -> m.append(' ').append(conn.rt.map.shardName(s)).append(" (").append(t.getMessage()).append(')'));
        if (!read && !done.isEmpty()) {
            m.append("; it was committed on ").append(done.keySet().stream().map(conn.rt.map::shardName).toList())
                    .append(" (each shard commits on its own)");
        }
        SQLException e = new SQLException(m.toString(), first instanceof SQLException s ? s.getSQLState() : "HY000", first);
        failed.values().stream().skip(1).forEach(e::addSuppressed);
        for (Object r : done.values()) {
            if (r instanceof ResultSet rs) {
                closeQuietly(rs, e);
            }
        }
        throw e;
    }

    private static void closeQuietly(ResultSet r, Throwable into) {
        try {
            r.close();
        } catch (SQLException e) {
            into.addSuppressed(e);
        }
    }
}
