package dev.sluice.core.shard;

import java.util.List;

/**
 * Where one statement goes in a sharded database, decided from its text alone (so it is cached); the shards
 * themselves are chosen per execution by {@link #targets} with that execution's parameters.
 *
 * @param kind       how targets are found (see {@link Kind})
 * @param read       a query whose rows come back (merged when it runs on several shards); else update counts add up
 * @param fixed      the shards of FIXED (home shard, broadcast write, DDL, session state, hint)
 * @param table      the sharded table whose key decides, for KEYED and INSERT
 * @param filter     KEYED: what the WHERE clause says about the key
 * @param rowKeys    INSERT: each row's key value
 * @param merge      a read on several shards: how results combine (null when {@code scatterError} says why not)
 * @param scatterSql the statement each shard runs when there are several (null: the original text);
 *                   {@code paramMap[i]} is the original parameter for its parameter i+1, or 0 for the computed
 *                   row limit (offset + limit)
 * @param scatterError why this statement cannot run on several shards (it may still run on one), or null
 * @param reason     a short description for logs and tests
 */
public record ShardPlan(Kind kind, boolean read, long fixed, TableRule table, KeyFilter filter, List<ValueRef> rowKeys,
                        MergePlan merge, String scatterSql, int[] paramMap, String scatterError, String reason) {

    public enum Kind {
        /** any one shard will do (no table, only broadcast tables read, a catalog query) */
        ANY,
        /** exactly {@code fixed} */
        FIXED,
        /** by the key filter of {@code table} */
        KEYED,
        /** an INSERT into {@code table}: the shard of each row's key; every row must land on the same shard */
        INSERT,
        /** transaction control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT …): the connection's transaction shard */
        TRANSACTION
    }

    /**
     * The shards this execution touches. For ANY it is empty: the caller picks one (the transaction's shard if
     * any). An unsatisfiable key filter (e.g. {@code k = 1 AND k = 2}) touches one shard, which correctly answers
     * nothing. Throws for an INSERT whose rows belong on different shards.
     */
    public long targets(ShardMap map, List<?> params) {
        switch (kind) {
            case ANY, TRANSACTION:
                return 0;
            case FIXED:
                return fixed;
            case KEYED: {
                long m = filter.shards(map, table, params);
                return m == 0 ? 1L : m;
            }
            case INSERT: {
                long m = 0;
                for (int r = 0; r < rowKeys.size(); r++) {
                    Object v = rowKeys.get(r).resolve(params);
                    Comparable<?> c = table.type().coerce(v);
                    if (c == null) {
                        throw new ShardingException("INSERT into sharded table " + table.table() + ": row " + (r + 1) + " has shard key "
                                + table.keyColumn() + " = " + (v == null ? "NULL" : "'" + v + "'") + ", not a " + table.type().key()
                                + " value, so no shard can be chosen");
                    }
                    int shard = map.shardOf(table, c);
                    if (shard < 0) { // the parser makes ranges cover everything; kept as a guard, not a silent drop
                        throw new ShardingException("INSERT into sharded table " + table.table() + ": no shard holds key " + c);
                    }
                    m |= 1L << shard;
                }
                if (Long.bitCount(m) > 1) {
                    throw new ShardingException("INSERT into sharded table " + table.table() + ": its rows belong on shards "
                            + map.names(m) + "; a multi-row INSERT must stay on one shard (insert the rows in separate statements, "
                            + "or as a JDBC batch, which Sluice splits per shard)");
                }
                return m;
            }
            default:
                throw new IllegalStateException(kind.name());
        }
    }

    /** Golden-test form: kind, reason and merge plan. */
    public String describe() {
        return kind.name().toLowerCase(java.util.Locale.ROOT) + " " + reason + (merge != null ? " | " + merge.describe() : "");
    }
}
