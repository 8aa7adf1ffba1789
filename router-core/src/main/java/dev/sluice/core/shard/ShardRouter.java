package dev.sluice.core.shard;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.sluice.core.sql.BoundedParser;
import dev.sluice.core.sql.Classification;
import dev.sluice.core.sql.Dialect;
import dev.sluice.core.sql.SqlClassifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.schema.Table;
import net.sf.jsqlparser.statement.Statement;
import net.sf.jsqlparser.statement.delete.Delete;
import net.sf.jsqlparser.statement.insert.Insert;
import net.sf.jsqlparser.statement.select.FromItem;
import net.sf.jsqlparser.statement.select.Join;
import net.sf.jsqlparser.statement.select.PlainSelect;
import net.sf.jsqlparser.statement.select.Select;
import net.sf.jsqlparser.statement.update.Update;
import net.sf.jsqlparser.statement.update.UpdateSet;

/**
 * Decides where a statement goes in a sharded logical database: which shards (by the shard key in its WHERE
 * clause or VALUES, bound parameters resolved per execution), and for a read on several shards how the results
 * merge. Analysis is by JSqlParser under a deadline (the classifier's {@link BoundedParser}) and is cached by SQL
 * text; a statement that cannot be answered correctly is a {@link ShardingException} saying why.
 *
 * <p>A leading {@code /* sluice:shard=NAME *&#47;} comment sends a statement to that shard without analysis (for
 * EXPLAIN, maintenance, or SQL the parser does not know).
 */
public final class ShardRouter {
    private static final Pattern SHARD_HINT = Pattern.compile("^\\s*/\\*\\s*sluice:shard=([A-Za-z0-9_.-]+)\\s*\\*/");
    static final long PARSE_TIMEOUT_MILLIS = 200;

    private final ShardMap map;
    private final boolean mysql;
    private final SqlClassifier classifier;
    private final BoundedParser parser;
    /** SQL text → ShardPlan, or the ShardingException's message for statements that cannot be answered. */
    private final Cache<String, Object> cache = Caffeine.newBuilder().maximumSize(10_000).build();

    public ShardRouter(ShardMap map, Dialect dialect) {
        this.map = map;
        this.mysql = dialect == Dialect.MYSQL;
        this.classifier = new SqlClassifier(dialect, Set.of(), 0);
        this.parser = new BoundedParser(dialect, PARSE_TIMEOUT_MILLIS);
    }

    public ShardMap map() {
        return map;
    }

    /** The plan for {@code sql}; throws ShardingException when sharding cannot answer it correctly. */
    public ShardPlan plan(String sql) {
        Object p = cache.getIfPresent(sql);
        if (p == null) {
            try {
                p = analyse(sql);
            } catch (ShardingException e) {
                p = e.getMessage();
            } catch (RuntimeException e) { // a parser-model surprise: refuse clearly rather than guess a route
                p = "the statement cannot be analysed for sharding (" + e + "); prefix it with /* sluice:shard=NAME */ to run it on one shard";
            }
            if (sql.length() <= 16 * 1024) {
                cache.put(sql, p);
            }
        }
        if (p instanceof String why) {
            throw new ShardingException(why);
        }
        return (ShardPlan) p;
    }

    /** The classification of {@code sql} (kind and reason), as the cluster routers see it. */
    public Classification classify(String sql) {
        return classifier.classify(sql);
    }

    private ShardPlan analyse(String sql) {
        Classification c = classifier.classify(sql);
        Matcher hint = SHARD_HINT.matcher(sql);
        if (hint.find()) {
            int s = map.shardIndex(hint.group(1));
            if (s < 0) {
                throw new ShardingException("hint sluice:shard=" + hint.group(1) + ": no such shard (shards: " + map.names(map.allShards()) + ")");
            }
            return fixed(isRead(c), 1L << s, "hint:" + hint.group(1));
        }
        if (c.reason().startsWith("multi-statement")) {
            throw new ShardingException("several statements in one string cannot be routed by shard key: send them one at a time");
        }
        switch (c.kind()) {
            case EMPTY:
                return new ShardPlan(ShardPlan.Kind.ANY, false, 0, null, null, null, null, null, null, null, "empty");
            case BEGIN, BEGIN_READ_ONLY, BEGIN_READ_WRITE, COMMIT, ROLLBACK, TX_CONTROL:
                return new ShardPlan(ShardPlan.Kind.TRANSACTION, false, 0, null, null, null, null, null, null, null, "transaction:" + c.reason());
            case SESSION_STATE:
                return fixed(false, map.allShards(), "session-state");
            case DDL:
                return fixed(false, map.allShards(), "ddl:all-shards");
            case READ, LOCKING_READ, SESSION_READ, WRITE:
                break;
            default:
                throw new ShardingException("statement kind " + c.kind() + " (" + c.reason() + ") has no shard routing; prefix it with "
                        + "/* sluice:shard=NAME */ to run it on one shard");
        }
        Statement st = parse(sql);
        if (st instanceof Select sel) {
            return select(sel);
        }
        if (st instanceof Insert ins) {
            return insert(ins);
        }
        if (st instanceof Update up) {
            return update(up);
        }
        if (st instanceof Delete del) {
            return delete(del);
        }
        throw new ShardingException(st.getClass().getSimpleName().toUpperCase(Locale.ROOT) + " has no shard routing; prefix it with "
                + "/* sluice:shard=NAME */ to run it on one shard");
    }

    private static boolean isRead(Classification c) {
        return switch (c.kind()) {
            case READ, LOCKING_READ, SESSION_READ -> true;
            default -> false;
        };
    }

    private static ShardPlan fixed(boolean read, long mask, String reason) {
        return new ShardPlan(ShardPlan.Kind.FIXED, read, mask, null, null, null, null, null, null, null, reason);
    }

    private Statement parse(String sql) {
        BoundedParser.Result r = parser.parse(sql, false);
        if (r.statement() == null) {
            BoundedParser.Result complex = parser.parse(sql, true);
            if (complex.statement() == null) {
                throw new ShardingException("the statement cannot be analysed for sharding (" + r.error() + "); prefix it with "
                        + "/* sluice:shard=NAME */ to run it on one shard");
            }
            return complex.statement();
        }
        return r.statement();
    }

    // ---- SELECT ----

    private ShardPlan select(Select sel) {
        Subqueries sub = new Subqueries(map);
        if (sel.getWithItemsList() != null && !sel.getWithItemsList().isEmpty()) {
            sub.refuseSharded(sel, "WITH (common table expressions)");
        }
        if (!(sel instanceof PlainSelect ps)) {
            sub.refuseSharded(sel, "UNION/INTERSECT/EXCEPT or a parenthesised query");
            return unsharded(true, sub.others(), "set-operation");
        }
        StatementScope scope = new StatementScope(map);
        List<Expression> joinConditions = new ArrayList<>();
        addFrom(scope, sub, ps.getFromItem(), ps.getJoins(), joinConditions);
        sub.scan(ps);
        joinConditions.add(ps.getWhere());
        return place(scope, sub, joinConditions, ps.getWhere(), true, () -> SelectPlanner.plan(ps, mysql));
    }

    private static void addFrom(StatementScope scope, Subqueries sub, FromItem from, List<Join> joins, List<Expression> joinConditions) {
        if (from != null) {
            addItem(scope, sub, from);
        }
        if (joins != null) {
            for (Join j : joins) {
                addItem(scope, sub, j.getRightItem());
                if (j.getOnExpressions() != null) {
                    joinConditions.addAll(j.getOnExpressions());
                }
                if (j.getUsingColumns() != null && !j.getUsingColumns().isEmpty()) {
                    throw new ShardingException("JOIN … USING with sharded tables: write the join as ON a.key = b.key");
                }
            }
        }
    }

    private static void addItem(StatementScope scope, Subqueries sub, FromItem item) {
        if (item instanceof Table t) {
            scope.add(t);
        } else {
            sub.refuseSharded(item, "a subquery or function in FROM");
        }
    }

    /**
     * Common placement: sharded tables decide by key (and must be co-located), else home tables their home
     * shard (all the same one), else (broadcast or no table) any shard for a read, every shard for a write.
     */
    private ShardPlan place(StatementScope scope, Subqueries sub, List<Expression> joinConditions, Expression where, boolean read,
                            java.util.function.Supplier<SelectPlanner.Result> scatter) {
        List<StatementScope.Ref> sharded = scope.sharded();
        List<StatementScope.Ref> others = new ArrayList<>(sub.others());
        scope.refs.stream().filter(r -> !r.rule().sharded()).forEach(others::add);
        if (sharded.isEmpty()) {
            return unsharded(read, others, read ? "read" : "write");
        }
        for (StatementScope.Ref o : others) {
            if (o.rule().kind() == TableRule.Kind.HOME) {
                throw new ShardingException("cross-shard join: sharded table " + sharded.get(0).table() + " with " + o.table()
                        + ", which lives only on shard " + map.shardName(o.rule().home()));
            }
        }
        scope.checkCoLocated(joinConditions);
        KeyFilter filter = scope.filter(where);
        TableRule rule = sharded.get(0).rule();
        String reason = "key:" + sharded.get(0).table() + "." + rule.keyColumn() + " " + filter;
        if (!read) {
            return new ShardPlan(ShardPlan.Kind.KEYED, false, 0, rule, filter, null, null, null, null, null, reason);
        }
        SelectPlanner.Result r = scatter.get();
        return new ShardPlan(ShardPlan.Kind.KEYED, true, 0, rule, filter, null, r.merge(), r.sql(), r.paramMap(), r.error(), reason);
    }

    private ShardPlan unsharded(boolean read, List<StatementScope.Ref> refs, String what) {
        int home = -1;
        String homeTable = null;
        for (StatementScope.Ref r : refs) {
            if (r.rule().kind() == TableRule.Kind.HOME) {
                if (home >= 0 && home != r.rule().home()) {
                    throw new ShardingException("cross-shard statement: " + homeTable + " lives on shard " + map.shardName(home) + ", "
                            + r.table() + " on shard " + map.shardName(r.rule().home()));
                }
                home = r.rule().home();
                homeTable = r.table();
            }
        }
        if (home >= 0) {
            return fixed(read, 1L << home, what + ":home:" + map.shardName(home));
        }
        if (read) {
            return new ShardPlan(ShardPlan.Kind.ANY, true, 0, null, null, null, null, null, null, null,
                    refs.isEmpty() ? "read:no-sharded-table" : "read:broadcast");
        }
        return fixed(false, map.allShards(), "write:broadcast:all-shards");
    }

    // ---- INSERT, UPDATE, DELETE ----

    private ShardPlan insert(Insert ins) {
        StatementScope scope = new StatementScope(map);
        scope.add(ins.getTable());
        StatementScope.Ref target = scope.refs.isEmpty() ? null : scope.refs.get(0);
        Subqueries sub = new Subqueries(map);
        boolean values = ins.getSelect() instanceof net.sf.jsqlparser.statement.select.Values;
        if (!values && ins.getSelect() != null) {
            sub.refuseSharded(ins.getSelect(), "INSERT … SELECT");
        }
        if (target == null || !target.rule().sharded()) {
            List<StatementScope.Ref> refs = new ArrayList<>(sub.others());
            if (target != null) {
                refs.add(target);
            }
            return unsharded(false, refs, "insert");
        }
        TableRule rule = target.rule();
        if (!values) {
            throw new ShardingException("INSERT … SELECT into sharded table " + rule.table() + " is not supported: the shard of each row is "
                    + "known only from its values");
        }
        int keyIndex = -1;
        if (ins.getColumns() != null) {
            for (int i = 0; i < ins.getColumns().size(); i++) {
                if (StatementScope.unquote(ins.getColumns().get(i).getColumnName()).equalsIgnoreCase(rule.keyColumn())) {
                    keyIndex = i;
                }
            }
        }
        if (keyIndex < 0) {
            throw new ShardingException("INSERT into sharded table " + rule.table() + " must name its columns, including the shard key "
                    + rule.keyColumn());
        }
        refuseKeyChange(rule, ins.getDuplicateUpdateSets(), "INSERT … ON DUPLICATE KEY UPDATE");
        if (ins.getConflictAction() != null) {
            refuseKeyChange(rule, ins.getConflictAction().getUpdateSets(), "INSERT … ON CONFLICT DO UPDATE");
        }
        List<ValueRef> keys = new ArrayList<>();
        List<?> rows = ins.getValues().getExpressions();
        boolean multi = !rows.isEmpty() && rows.stream().allMatch(r -> r instanceof net.sf.jsqlparser.expression.operators.relational.ParenthesedExpressionList);
        if (multi && ins.getColumns().size() == 1 && rows.size() == 1) {
            multi = true;
        }
        for (Object row : multi ? rows : List.of(ins.getValues().getExpressions())) {
            List<?> cells = (List<?>) row;
            if (cells.size() != ins.getColumns().size()) {
                throw new ShardingException("INSERT into " + rule.table() + ": a row has " + cells.size() + " values for "
                        + ins.getColumns().size() + " columns");
            }
            ValueRef v = StatementScope.value((Expression) cells.get(keyIndex));
            if (v == null) {
                throw new ShardingException("INSERT into sharded table " + rule.table() + ": the shard key " + rule.keyColumn() + " must be a "
                        + "literal or a parameter, got " + cells.get(keyIndex));
            }
            keys.add(v);
        }
        return new ShardPlan(ShardPlan.Kind.INSERT, false, 0, rule, null, List.copyOf(keys), null, null, null, null,
                "insert:" + rule.table() + "." + rule.keyColumn() + " " + keys);
    }

    private static void refuseKeyChange(TableRule rule, List<UpdateSet> sets, String what) {
        if (sets == null) {
            return;
        }
        for (UpdateSet s : sets) {
            for (Column c : s.getColumns()) {
                if (StatementScope.unquote(c.getColumnName()).equalsIgnoreCase(rule.keyColumn())) {
                    throw new ShardingException(what + " would change the shard key " + rule.keyColumn() + " of sharded table " + rule.table()
                            + ": a row cannot move between shards in place (DELETE it and INSERT it with the new key)");
                }
            }
        }
    }

    private ShardPlan update(Update up) {
        StatementScope scope = new StatementScope(map);
        Subqueries sub = new Subqueries(map);
        List<Expression> joinConditions = new ArrayList<>();
        addFrom(scope, sub, up.getTable(), up.getStartJoins(), joinConditions);
        addFrom(scope, sub, up.getFromItem(), up.getJoins(), joinConditions);
        for (StatementScope.Ref r : scope.sharded()) {
            refuseKeyChange(r.rule(), up.getUpdateSets(), "UPDATE");
        }
        for (UpdateSet s : up.getUpdateSets()) {
            s.getValues().forEach(v -> sub.scanExpression((Expression) v));
        }
        sub.scanExpression(up.getWhere());
        joinConditions.add(up.getWhere());
        refuseBroadcastFromSharded(scope);
        return returning(place(scope, sub, joinConditions, up.getWhere(), false, null), up.getReturningClause() != null);
    }

    private ShardPlan delete(Delete del) {
        StatementScope scope = new StatementScope(map);
        Subqueries sub = new Subqueries(map);
        List<Expression> joinConditions = new ArrayList<>();
        addFrom(scope, sub, del.getTable(), del.getJoins(), joinConditions);
        if (del.getUsingList() != null) {
            del.getUsingList().forEach(t -> scope.add(t));
        }
        sub.scanExpression(del.getWhere());
        joinConditions.add(del.getWhere());
        refuseBroadcastFromSharded(scope);
        return returning(place(scope, sub, joinConditions, del.getWhere(), false, null), del.getReturningClause() != null);
    }

    /** A write with RETURNING answers rows: fine on one shard, not merged from several (yet). */
    private static ShardPlan returning(ShardPlan p, boolean returning) {
        if (!returning) {
            return p;
        }
        return new ShardPlan(p.kind(), p.read(), p.fixed(), p.table(), p.filter(), p.rowKeys(), null, null, null,
                "RETURNING on several shards is not supported: give the shard key in WHERE", p.reason() + " returning");
    }

    /** A write to a broadcast table must be the same on every shard, so it cannot depend on one shard's rows. */
    private static void refuseBroadcastFromSharded(StatementScope scope) {
        if (!scope.refs.isEmpty() && scope.refs.get(0).rule().kind() == TableRule.Kind.BROADCAST && !scope.sharded().isEmpty()) {
            throw new ShardingException("a write to broadcast table " + scope.refs.get(0).table() + " that reads sharded table "
                    + scope.sharded().get(0).table() + " would differ per shard");
        }
    }
}
