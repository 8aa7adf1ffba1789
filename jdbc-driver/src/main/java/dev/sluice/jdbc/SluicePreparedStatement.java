package dev.sluice.jdbc;

import dev.sluice.core.route.RouteDecision;
import dev.sluice.core.sql.Classification;
import java.sql.Connection;
import java.sql.ParameterMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * A PreparedStatement that runs on the node its statement routes to, with its parameters. The SQL is
 * classified once, at prepare time (and cached). Parameters are recorded and replayed on the real
 * prepared statement of whichever node an execution goes to, so a read can go to a different replica
 * each time while a write always reaches the primary.
 */
final class SluicePreparedStatement extends SluiceStatement implements ParameterSetters {
    private final String sql;
    private final Classification classification;
    private final List<Binder> params = new ArrayList<>();
    private final List<CacheKey> keys = new ArrayList<>(); // ParamKeys of params, same indexes
    private List<List<Binder>> batches; // created by the first addBatch

    SluicePreparedStatement(SluiceConnection conn, String sql, PsOpener opener) {
        this(conn, sql, opener, ResultSet.TYPE_FORWARD_ONLY, ResultSet.CONCUR_READ_ONLY);
    }

    SluicePreparedStatement(SluiceConnection conn, String sql, PsOpener opener, int rsType, int rsConcurrency) {
        super(conn, c -> opener.open(c), rsType, rsConcurrency);
        this.sql = sql;
        this.classification = conn.classify(sql);
    }

    /** Opens the real prepared statement on a backend connection. */
    interface PsOpener {
        PreparedStatement open(Connection c) throws SQLException;
    }

    /**
     * Records parameter {@code index}: how to set it on a real statement, and its part of the cache key (the
     * shard value is for sharded statements).
     */
    @Override
    public void record(int index, Object shardValue, CacheKey key, Binder p) throws SQLException {
        checkOpen();
        if (index < 1) {
            throw new SQLException("Sluice: parameter index must be >= 1, got " + index, "07009");
        }
        while (params.size() < index) {
            params.add(null);
            keys.add(null);
        }
        params.set(index - 1, p);
        keys.set(index - 1, key);
    }

    /** The cache key part of the parameters set now, or {@link ParamKeys#UNCACHEABLE}. */
    private Object paramKeys() {
        List<Object> out = new ArrayList<>(keys.size());
        for (CacheKey k : keys) {
            Object v = k == null ? null : k.key();
            if (v == ParamKeys.UNCACHEABLE) {
                return v;
            }
            out.add(v);
        }
        return java.util.Collections.unmodifiableList(out);
    }

    /** Sets the recorded parameters on the real prepared statement an execution runs on. */
    private static void bind(PreparedStatement real, List<Binder> ps) throws SQLException {
        real.clearParameters();
        for (int i = 0; i < ps.size(); i++) {
            if (ps.get(i) != null) {
                ps.get(i).bind(real, i + 1);
            }
        }
    }

    private <T> T exec(Exec<T> e) throws SQLException {
        checkOpen();
        RouteDecision d = conn.route(classification);
        // a parameterless session-state statement can be replayed like plain SQL
        String replay = params.isEmpty() ? sql : null;
        return run(d, replay, sql, s -> {
            bind((PreparedStatement) s, params);
            return e.run(s);
        });
    }

    @Override
    public ResultSet executeQuery() throws SQLException {
        checkOpen();
        if (!conn.cache().enabled()) {
            return exec(s -> ((PreparedStatement) s).executeQuery());
        }
        return conn.cache().query(this, sql, classification, paramKeys(), () -> exec(s -> ((PreparedStatement) s).executeQuery()));
    }

    @Override
    public int executeUpdate() throws SQLException {
        return exec(s -> ((PreparedStatement) s).executeUpdate());
    }

    @Override
    public long executeLargeUpdate() throws SQLException {
        return exec(s -> ((PreparedStatement) s).executeLargeUpdate());
    }

    @Override
    public boolean execute() throws SQLException {
        return exec(s -> ((PreparedStatement) s).execute());
    }

    @Override
    public void addBatch() throws SQLException {
        checkOpen();
        if (batches == null) {
            batches = new ArrayList<>();
        }
        batches.add(new ArrayList<>(params));
    }

    @Override
    public void clearBatch() throws SQLException {
        checkOpen();
        batches = null;
    }

    @Override
    public int[] executeBatch() throws SQLException {
        return runBatch(PreparedStatement::executeBatch);
    }

    @Override
    public long[] executeLargeBatch() throws SQLException {
        return runBatch(PreparedStatement::executeLargeBatch);
    }

    private interface BatchExec<T> {
        T run(PreparedStatement ps) throws SQLException;
    }

    private <T> T runBatch(BatchExec<T> e) throws SQLException {
        checkOpen();
        List<List<Binder>> rows = batches == null ? List.of() : batches;
        batches = null;
        RouteDecision d = conn.route(classification);
        return run(d, null, sql, s -> {
            PreparedStatement real = (PreparedStatement) s;
            for (List<Binder> row : rows) {
                bind(real, row);
                real.addBatch();
            }
            return e.run(real);
        });
    }

    @Override
    public void clearParameters() throws SQLException {
        checkOpen();
        params.clear();
        keys.clear();
    }

    /** Metadata comes from the real statement on the node this statement would route to now. */
    @Override
    public ResultSetMetaData getMetaData() throws SQLException {
        return ((PreparedStatement) on(metadataNode())).getMetaData();
    }

    @Override
    public ParameterMetaData getParameterMetaData() throws SQLException {
        return ((PreparedStatement) on(metadataNode())).getParameterMetaData();
    }

    private String metadataNode() throws SQLException {
        String tx = conn.session().transactionNode();
        return tx != null ? tx : conn.route(Classification.of(dev.sluice.core.sql.StatementKind.EMPTY, "metadata")).node();
    }

    // the query-string forms are not for prepared statements (JDBC 4.3, 13.2.4)
    private static SQLException notOnPrepared() {
        return new SQLException("Sluice: a query string cannot be passed to a PreparedStatement's execute methods", "HY000");
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
