package dev.sluice.proxy.pg.shard;

import dev.sluice.core.shard.ShardPlan;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;

/**
 * What each shard runs for a read on several shards: the router's rewrite (LIMIT offset+n, AVG as SUM plus a hidden
 * COUNT …) or the statement itself, and — in the extended protocol — its parameters: the client's own values, then
 * the computed row limit where the rewrite has a {@code ?} for it (numbered after the client's {@code $n}).
 */
final class ScatterRequests {
    private ScatterRequests() {
    }

    static ScatterRead.Request simple(Route r) {
        ShardPlan plan = r.plan();
        long[] lo = limits(plan, List.of());
        String sql = plan.scatterSql() != null ? plan.scatterSql() : r.sql();
        return new ScatterRead.Request(sql, new int[0], null, new int[0], List.of(), true, true, lo[0], lo[1]);
    }

    /** Null when a LIMIT/OFFSET parameter is not a number. */
    static ScatterRead.Request extended(Route r, StatementDef def, BindMsg bind, boolean describe, boolean execute) {
        ShardPlan plan = r.plan();
        long[] lo = limits(plan, bind.routingValues(def));
        if (lo == null) {
            return null;
        }
        int n = bind.values().length;
        String sql = plan.scatterSql() != null ? PgSql.numberPlaceholders(plan.scatterSql(), n + 1) : def.sql();
        int[] map = plan.scatterSql() != null ? plan.paramMap() : new int[0];
        int[] order = new int[n + map.length];
        int[] types = new int[n + map.length];
        List<String> extra = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            order[i] = i + 1;
            int t = def.paramType(i);
            // a parameter the rewrite no longer uses (an OFFSET) still needs a type the server accepts (bytea: any bytes)
            types[i] = t != 0 || PgSql.references(sql, i + 1) ? t : bind.paramBinary(i) ? 17 : PgValues.TEXT;
        }
        for (int j = 0; j < map.length; j++) {
            order[n + j] = map[j];
            types[n + j] = map[j] == 0 ? PgValues.INT8 : def.paramType(map[j] - 1);
            if (map[j] == 0) {
                extra.add(Long.toString(lo[1] < 0 ? Long.MAX_VALUE : lo[0] + lo[1]));
            }
        }
        return new ScatterRead.Request(sql, types, bind, order, extra, describe, execute, lo[0], lo[1]);
    }

    /** {offset, limit (-1: none)} of the merge with these parameters; null when a parameter is not a number. */
    static long[] limits(ShardPlan plan, List<Object> params) {
        try {
            long offset = plan.merge().offset() == null ? 0 : number(plan.merge().offset().resolve(params), 0);
            long limit = plan.merge().limit() == null ? -1 : number(plan.merge().limit().resolve(params), -1);
            return new long[] {offset, limit};
        } catch (NumberFormatException | ArithmeticException e) {
            return null;
        }
    }

    private static long number(Object v, long ifNull) {
        if (v == null) {
            return ifNull;
        }
        return new BigDecimal(v.toString().trim()).longValueExact();
    }
}
