package dev.sluice.jdbc;

import dev.sluice.core.shard.ShardPlan;
import dev.sluice.core.shard.ShardingException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * A Statement on a sharded database. Each execution is planned by the shard router: on one shard it runs on that
 * shard's {@link SluiceConnection} (replica reads, failover and all) and the application gets the real driver's
 * result; on several it runs on all of them in parallel and the results are merged ({@link Merger}) or the update
 * counts added up. Shapes that cannot be answered correctly fail with SQLState {@code 0A000} and the reason.
 */
class ShardedStatement extends StatementBase implements SluiceSharded {
    /** Opens a real statement on one shard's connection. */
    interface Opener {
        Statement open(SluiceConnection c) throws SQLException;
    }

    enum Mode { QUERY, UPDATE, EXECUTE }

    /** Runs the application's call on the one statement a single-shard execution uses. */
    interface Single<T> {
        T run(Statement s) throws SQLException;
    }

    final ShardedConnection conn;
    private final Opener opener;
    final Statement[] subs;
    final ShardFanOut fanOut;
    private List<String> batch;
    private Statement current; // the shard statement of the last single-shard execution
    private ResultSet result; // the merged result of the last scatter read
    private long updateCount = -1;
    List<String> lastShards = List.of();
    private boolean closed;

    ShardedStatement(ShardedConnection conn, Opener opener) {
        this.conn = conn;
        this.opener = opener;
        this.subs = new Statement[conn.shardCount()];
        this.fanOut = new ShardFanOut(conn);
    }

    /** The plain statement of shard {@code i}, opened and configured on first use. */
    Statement sub(int i) throws SQLException {
        if (subs[i] == null) {
            Statement s = opener.open(conn.shard(i));
            settings.apply(s);
            subs[i] = s;
        }
        return subs[i];
    }

    /** Every real statement open on a shard (prepared statements add their scatter statements). */
    Collection<Statement> open() {
        List<Statement> out = new ArrayList<>();
        for (Statement s : subs) {
            if (s != null) {
                out.add(s);
            }
        }
        return out;
    }

    ShardPlan plan(String sql) throws SQLException {
        try {
            return conn.rt.router.plan(sql);
        } catch (ShardingException e) {
            throw new SQLException("Sluice: " + e.getMessage(), ShardedConnection.NOT_SUPPORTED, e);
        }
    }

    /** The statement a single-shard execution runs on (prepared statements bind their parameters here). */
    Statement single(int shard) throws SQLException {
        return sub(shard);
    }

    /** A scatter read or write on one shard, in a fan-out thread. */
    ShardFanOut.Task scatterTask(ShardPlan plan, String sql, List<?> values) {
        String text = plan.scatterSql() != null ? plan.scatterSql() : sql;
        return (shard, read) -> read ? sub(shard).executeQuery(text) : sub(shard).executeLargeUpdate(text);
    }

    /**
     * Plans and runs one execution. {@code values} are the bound parameter values (for routing); {@code single}
     * is the application's call, used as is when one shard answers.
     */
    @SuppressWarnings("unchecked")
    <T> T run(String sql, List<?> values, Mode mode, Single<T> single) throws SQLException {
        checkOpen();
        clearResult();
        ShardPlan plan = plan(sql);
        if (plan.kind() == ShardPlan.Kind.TRANSACTION) {
            conn.transactionStatement(sql, conn.rt.router.classify(sql));
            lastShards = conn.lastShards();
            updateCount = 0;
            return (T) (mode == Mode.EXECUTE ? Boolean.FALSE : mode == Mode.UPDATE ? (Object) 0L : noResultSet());
        }
        long mask;
        try {
            mask = plan.targets(conn.rt.map, values);
        } catch (ShardingException e) {
            throw new SQLException("Sluice: " + e.getMessage(), ShardedConnection.NOT_SUPPORTED, e);
        }
        boolean any = mask == 0;
        if (any) {
            mask = 1L << conn.anyShard();
        }
        conn.touch(mask, !any);
        lastShards = conn.rt.map.names(mask);
        if (Long.bitCount(mask) == 1) {
            Statement s = single(Long.numberOfTrailingZeros(mask));
            current = s;
            return single.run(s);
        }
        if (plan.read() || plan.scatterError() != null) {
            if (plan.merge() == null) {
                throw new SQLException("Sluice: this statement needs shards " + lastShards + " and cannot be merged: " + plan.scatterError(),
                        ShardedConnection.NOT_SUPPORTED);
            }
            long limit = settings.maxRows() > 0 ? settings.maxRows() : -1;
            result = fanOut.query(mask, plan, scatterTask(plan, sql, values), values, limit, this);
        } else {
            updateCount = fanOut.update(mask, scatterTask(plan, sql, values));
        }
        return (T) switch (mode) {
            case QUERY -> result != null ? result : noResultSet();
            case UPDATE -> {
                if (result != null) {
                    throw new SQLException("Sluice: the statement returned a result set", "07000");
                }
                yield (Object) updateCount;
            }
            case EXECUTE -> result != null;
        };
    }

    private static ResultSet noResultSet() throws SQLException {
        throw new SQLException("Sluice: the statement did not return a result set", "07000");
    }

    private void clearResult() throws SQLException {
        current = null;
        updateCount = -1;
        if (result != null) {
            ResultSet r = result;
            result = null;
            r.close();
        }
    }

    void checkOpen() throws SQLException {
        if (closed) {
            throw new SQLException("Sluice: statement is closed", "HY010");
        }
    }

    // ---- execution ----

    @Override
    public ResultSet executeQuery(String sql) throws SQLException {
        return run(sql, List.of(), Mode.QUERY, s -> s.executeQuery(sql));
    }

    @Override
    public int executeUpdate(String sql) throws SQLException {
        return (int) (long) run(sql, List.of(), Mode.UPDATE, s -> (long) s.executeUpdate(sql));
    }

    @Override
    public boolean execute(String sql) throws SQLException {
        return run(sql, List.of(), Mode.EXECUTE, s -> s.execute(sql));
    }

    @Override
    public int executeUpdate(String sql, int autoGeneratedKeys) throws SQLException {
        return (int) (long) run(sql, List.of(), Mode.UPDATE, s -> (long) s.executeUpdate(sql, autoGeneratedKeys));
    }

    @Override
    public int executeUpdate(String sql, int[] columnIndexes) throws SQLException {
        return (int) (long) run(sql, List.of(), Mode.UPDATE, s -> (long) s.executeUpdate(sql, columnIndexes));
    }

    @Override
    public int executeUpdate(String sql, String[] columnNames) throws SQLException {
        return (int) (long) run(sql, List.of(), Mode.UPDATE, s -> (long) s.executeUpdate(sql, columnNames));
    }

    @Override
    public boolean execute(String sql, int autoGeneratedKeys) throws SQLException {
        return run(sql, List.of(), Mode.EXECUTE, s -> s.execute(sql, autoGeneratedKeys));
    }

    @Override
    public boolean execute(String sql, int[] columnIndexes) throws SQLException {
        return run(sql, List.of(), Mode.EXECUTE, s -> s.execute(sql, columnIndexes));
    }

    @Override
    public boolean execute(String sql, String[] columnNames) throws SQLException {
        return run(sql, List.of(), Mode.EXECUTE, s -> s.execute(sql, columnNames));
    }

    @Override
    public long executeLargeUpdate(String sql) throws SQLException {
        return run(sql, List.of(), Mode.UPDATE, s -> s.executeLargeUpdate(sql));
    }

    // ---- batches: each statement on its own shard; one batch per shard ----

    @Override
    public void addBatch(String sql) throws SQLException {
        checkOpen();
        if (batch == null) {
            batch = new ArrayList<>();
        }
        batch.add(sql);
    }

    @Override
    public void clearBatch() throws SQLException {
        checkOpen();
        batch = null;
    }

    @Override
    public int[] executeBatch() throws SQLException {
        return java.util.Arrays.stream(executeLargeBatch()).mapToInt(c -> (int) c).toArray();
    }

    @Override
    public long[] executeLargeBatch() throws SQLException {
        checkOpen();
        clearResult();
        List<String> sqls = batch == null ? List.of() : batch;
        batch = null;
        int[] shardOf = new int[sqls.size()];
        for (int i = 0; i < sqls.size(); i++) {
            shardOf[i] = fanOut.singleShard(plan(sqls.get(i)), List.of(), "batch statement " + (i + 1));
        }
        return fanOut.batch(shardOf, (shard, rows) -> {
            Statement s = sub(shard);
            for (int r : rows) {
                s.addBatch(sqls.get(r));
            }
            return s.executeLargeBatch();
        }, shards -> lastShards = shards);
    }

    // ---- results ----

    @Override
    public ResultSet getResultSet() throws SQLException {
        checkOpen();
        return current != null ? current.getResultSet() : result;
    }

    @Override
    public int getUpdateCount() throws SQLException {
        checkOpen();
        return current != null ? current.getUpdateCount() : (int) updateCount;
    }

    @Override
    public long getLargeUpdateCount() throws SQLException {
        checkOpen();
        return current != null ? current.getLargeUpdateCount() : updateCount;
    }

    @Override
    public boolean getMoreResults() throws SQLException {
        return getMoreResults(Statement.CLOSE_CURRENT_RESULT);
    }

    @Override
    public boolean getMoreResults(int what) throws SQLException {
        checkOpen();
        if (current != null) {
            return current.getMoreResults(what);
        }
        if (result != null && what != Statement.KEEP_CURRENT_RESULT) {
            result.close();
        }
        result = null;
        updateCount = -1;
        return false;
    }

    @Override
    public ResultSet getGeneratedKeys() throws SQLException {
        checkOpen();
        if (current == null) {
            throw new SQLException("Sluice: generated keys are available only for a statement that ran on one shard", ShardedConnection.NOT_SUPPORTED);
        }
        return current.getGeneratedKeys();
    }

    @Override
    public SQLWarning getWarnings() throws SQLException {
        checkOpen();
        return current != null ? current.getWarnings() : null;
    }

    @Override
    public void clearWarnings() throws SQLException {
        for (Statement s : open()) {
            s.clearWarnings();
        }
    }

    @Override
    public void cancel() throws SQLException {
        for (Statement s : open()) {
            s.cancel();
        }
    }

    // ---- settings: StatementBase keeps them and applies them to every shard's statement ----

    @Override
    Collection<Statement> openStatements() {
        return open();
    }

    @Override
    public int getResultSetConcurrency() throws SQLException {
        return ResultSet.CONCUR_READ_ONLY;
    }

    @Override
    public int getResultSetType() throws SQLException {
        return current != null ? current.getResultSetType() : ResultSet.TYPE_FORWARD_ONLY;
    }

    @Override
    public int getResultSetHoldability() throws SQLException {
        return current != null ? current.getResultSetHoldability() : conn.getHoldability();
    }

    @Override
    public Connection getConnection() throws SQLException {
        checkOpen();
        return conn;
    }

    @Override
    public void close() throws SQLException {
        if (closed) {
            return;
        }
        SQLException first = null;
        try {
            clearResult();
        } catch (SQLException e) {
            first = e;
        }
        closed = true;
        for (Statement s : open()) {
            try {
                s.close();
            } catch (SQLException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    // ---- SluiceSharded ----

    @Override
    public List<String> shards() {
        return conn.shards();
    }

    @Override
    public SluiceAdmin shard(String name) {
        return conn.shard(name);
    }

    @Override
    public String transactionShard() {
        return conn.transactionShard();
    }

    @Override
    public List<String> lastShards() {
        return new ArrayList<>(lastShards);
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        if (iface.isInstance(this)) {
            return iface.cast(this);
        }
        if (current != null) {
            return current.unwrap(iface);
        }
        throw new SQLException("Sluice: not a wrapper for " + iface.getName(), "HY000");
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) throws SQLException {
        return iface.isInstance(this) || (current != null && current.isWrapperFor(iface));
    }
}
