package dev.sluice.jdbc;

import dev.sluice.core.shard.ShardPlan;
import java.sql.ParameterMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;

/**
 * A PreparedStatement on a sharded database. Parameters are recorded twice: the value, which routes the
 * execution (the shard key of {@code WHERE key = ?} or of an INSERT's VALUES), and a binder, which sets it on the
 * real prepared statement of whichever shard runs it. A scatter read whose SQL was rewritten (OFFSET folded into
 * LIMIT, AVG split, hidden sort columns) runs a second prepared statement whose parameters are mapped back to
 * the application's. A batch is split per shard, each row going where its key says.
 */
final class ShardedPreparedStatement extends ShardedStatement implements ParameterSetters {
    /** Prepares SQL on one shard's connection. */
    interface PsOpener {
        PreparedStatement open(SluiceConnection c, String sql) throws SQLException;
    }

    private final String sql;
    private final PsOpener psOpener;
    private final PreparedStatement[] scatterSubs;
    private final List<Object> values = new ArrayList<>();
    private final List<Binder> binders = new ArrayList<>();
    private List<Object[]> batchValues; // created by the first addBatch
    private List<Binder[]> batchBinders;

    ShardedPreparedStatement(ShardedConnection conn, String sql, PsOpener opener) {
        super(conn, c -> opener.open(c, sql));
        this.sql = sql;
        this.psOpener = opener;
        this.scatterSubs = new PreparedStatement[conn.shardCount()];
    }

    /** Records parameter {@code index}: the value that routes, and its binder (a read cache key is not used here). */
    @Override
    public void record(int index, Object value, CacheKey cacheKey, Binder b) throws SQLException {
        checkOpen();
        if (index < 1) {
            throw new SQLException("Sluice: parameter index must be >= 1, got " + index, "07009");
        }
        while (values.size() < index) {
            values.add(null);
            binders.add(null);
        }
        values.set(index - 1, value);
        binders.set(index - 1, b);
    }

    /** Binds the application's parameters as they are (the original SQL). */
    private static void bind(PreparedStatement ps, List<Binder> bs) throws SQLException {
        ps.clearParameters();
        for (int i = 0; i < bs.size(); i++) {
            if (bs.get(i) != null) {
                bs.get(i).bind(ps, i + 1);
            }
        }
    }

    @Override
    Statement single(int shard) throws SQLException {
        PreparedStatement ps = (PreparedStatement) sub(shard);
        bind(ps, binders);
        return ps;
    }

    @Override
    Collection<Statement> open() {
        Collection<Statement> out = super.open();
        for (PreparedStatement p : scatterSubs) {
            if (p != null) {
                out.add(p);
            }
        }
        return out;
    }

    @Override
    ShardFanOut.Task scatterTask(ShardPlan plan, String text, List<?> vals) {
        List<Binder> bs = List.copyOf(Arrays.asList(binders.toArray(new Binder[0])));
        long rowLimit = computedLimit(plan, vals);
        return (shard, read) -> {
            PreparedStatement ps;
            if (plan.scatterSql() == null) {
                ps = (PreparedStatement) sub(shard);
                bind(ps, bs);
            } else {
                if (scatterSubs[shard] == null) {
                    PreparedStatement p = psOpener.open(conn.shard(shard), plan.scatterSql());
                    settings.apply(p);
                    scatterSubs[shard] = p;
                }
                ps = scatterSubs[shard];
                ps.clearParameters();
                int[] map = plan.paramMap();
                for (int k = 0; k < map.length; k++) {
                    if (map[k] == 0) {
                        ps.setLong(k + 1, rowLimit);
                    } else if (map[k] <= bs.size() && bs.get(map[k] - 1) != null) {
                        bs.get(map[k] - 1).bind(ps, k + 1);
                    }
                }
            }
            return read ? ps.executeQuery() : ps.executeLargeUpdate();
        };
    }

    /** OFFSET + LIMIT, what each shard returns when the offset is applied after the merge. */
    private static long computedLimit(ShardPlan plan, List<?> vals) {
        if (plan.merge() == null || plan.merge().limit() == null) {
            return 0;
        }
        Object l = plan.merge().limit().resolve(vals);
        Object o = plan.merge().offset() == null ? 0 : plan.merge().offset().resolve(vals);
        return (l instanceof Number n ? n.longValue() : 0) + (o instanceof Number n ? n.longValue() : 0);
    }

    // ---- execution ----

    @Override
    public ResultSet executeQuery() throws SQLException {
        return run(sql, values, Mode.QUERY, s -> ((PreparedStatement) s).executeQuery());
    }

    @Override
    public int executeUpdate() throws SQLException {
        return (int) (long) run(sql, values, Mode.UPDATE, s -> (long) ((PreparedStatement) s).executeUpdate());
    }

    @Override
    public long executeLargeUpdate() throws SQLException {
        return run(sql, values, Mode.UPDATE, s -> ((PreparedStatement) s).executeLargeUpdate());
    }

    @Override
    public boolean execute() throws SQLException {
        return run(sql, values, Mode.EXECUTE, s -> ((PreparedStatement) s).execute());
    }

    @Override
    public void addBatch() throws SQLException {
        checkOpen();
        if (batchValues == null) {
            batchValues = new ArrayList<>();
            batchBinders = new ArrayList<>();
        }
        batchValues.add(values.toArray());
        batchBinders.add(binders.toArray(new Binder[0]));
    }

    @Override
    public void clearBatch() throws SQLException {
        checkOpen();
        batchValues = null;
        batchBinders = null;
    }

    @Override
    public int[] executeBatch() throws SQLException {
        return java.util.Arrays.stream(executeLargeBatch()).mapToInt(c -> (int) c).toArray();
    }

    @Override
    public long[] executeLargeBatch() throws SQLException {
        checkOpen();
        List<Object[]> vs = batchValues == null ? List.of() : batchValues;
        List<Binder[]> bs = batchBinders == null ? List.of() : batchBinders;
        batchValues = null;
        batchBinders = null;
        ShardPlan plan = plan(sql);
        int[] shardOf = new int[vs.size()];
        for (int i = 0; i < vs.size(); i++) {
            shardOf[i] = fanOut.singleShard(plan, Arrays.asList(vs.get(i)), "batch row " + (i + 1));
        }
        return fanOut.batch(shardOf, (shard, rows) -> {
            PreparedStatement ps = (PreparedStatement) sub(shard);
            for (int r : rows) {
                bind(ps, Arrays.asList(bs.get(r)));
                ps.addBatch();
            }
            return ps.executeLargeBatch();
        }, shards -> lastShards = shards);
    }

    @Override
    public void clearParameters() throws SQLException {
        checkOpen();
        values.clear();
        binders.clear();
    }

    /** Prepared-statement metadata comes from the transaction's shard, else the first: the table is the same on all. */
    @Override
    public ResultSetMetaData getMetaData() throws SQLException {
        return ((PreparedStatement) sub(conn.anyShard())).getMetaData();
    }

    @Override
    public ParameterMetaData getParameterMetaData() throws SQLException {
        return ((PreparedStatement) sub(conn.anyShard())).getParameterMetaData();
    }

    private static SQLException notOnPrepared() {
        return new SQLException("Sluice: this method takes no SQL on a PreparedStatement", "HY000");
    }

    @Override
    public ResultSet executeQuery(String s) throws SQLException {
        throw notOnPrepared();
    }

    @Override
    public int executeUpdate(String s) throws SQLException {
        throw notOnPrepared();
    }

    @Override
    public boolean execute(String s) throws SQLException {
        throw notOnPrepared();
    }

    @Override
    public void addBatch(String s) throws SQLException {
        throw notOnPrepared();
    }
}
