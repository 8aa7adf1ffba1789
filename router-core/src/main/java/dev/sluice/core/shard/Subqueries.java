package dev.sluice.core.shard;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.schema.Table;
import net.sf.jsqlparser.statement.Statement;
import net.sf.jsqlparser.statement.select.Join;
import net.sf.jsqlparser.statement.select.PlainSelect;
import net.sf.jsqlparser.statement.select.SelectItem;
import net.sf.jsqlparser.util.TablesNamesFinder;

/**
 * Tables below the top level of a statement (subqueries, derived tables, CTEs, set operations). A sharded table
 * there would need a cross-shard subquery, which Sluice refuses; home and broadcast tables are collected so the
 * placement still honours them (a home table's subquery pins the statement to its home shard).
 */
final class Subqueries {
    private final ShardMap map;
    private final List<StatementScope.Ref> others = new ArrayList<>();

    Subqueries(ShardMap map) {
        this.map = map;
    }

    List<StatementScope.Ref> others() {
        return others;
    }

    /** Checks a nested query (or any FROM item that is not a plain table). */
    void refuseSharded(Object node, String what) {
        Set<String> names;
        try {
            if (node instanceof Statement s) {
                names = new TablesNamesFinder<Void>().getTables(s);
            } else if (node instanceof Expression e) {
                names = new TablesNamesFinder<Void>().getTables(e);
            } else {
                throw new ShardingException(what + " (" + node + ") is not supported in a sharded database");
            }
        } catch (UnsupportedOperationException e) {
            throw new ShardingException(what + " (" + node + ") cannot be analysed for sharding: " + e.getMessage());
        }
        for (String n : names) {
            Table t = new Table(n);
            String name = StatementScope.unquote(t.getName());
            if (t.getSchemaName() != null && Set.of("information_schema", "pg_catalog", "mysql", "performance_schema", "sys")
                    .contains(StatementScope.unquote(t.getSchemaName()).toLowerCase(java.util.Locale.ROOT))) {
                continue;
            }
            TableRule r = map.table(name);
            if (r == null) {
                throw new ShardingException("table " + name + " is not in the shard map of database " + map.database()
                        + " (add it under databases." + map.database() + ".tables as sharded, home or broadcast)");
            }
            if (r.sharded()) {
                throw new ShardingException("cross-shard subquery: sharded table " + name + " is read in " + what
                        + "; only home and broadcast tables may appear below the top level");
            }
            others.add(new StatementScope.Ref(name, r, name.toLowerCase(java.util.Locale.ROOT)));
        }
    }

    /**
     * Checks the subqueries inside an expression. (JSqlParser's TablesNamesFinder would also count column
     * qualifiers of an expression as tables, so the subqueries are collected here first.)
     */
    void scanExpression(Expression e) {
        if (e == null) {
            return;
        }
        List<net.sf.jsqlparser.statement.select.Select> found = new ArrayList<>();
        e.accept(new net.sf.jsqlparser.expression.ExpressionVisitorAdapter<Void>() {
            @Override
            public <S> Void visit(net.sf.jsqlparser.statement.select.ParenthesedSelect s, S ctx) {
                found.add(s);
                return null;
            }

            @Override
            public <S> Void visit(net.sf.jsqlparser.statement.select.Select s, S ctx) {
                found.add(s);
                return null;
            }
        }, null);
        for (net.sf.jsqlparser.statement.select.Select s : found) {
            refuseSharded(s, "a subquery");
        }
    }

    /** Every expression of a SELECT that may hold a subquery. */
    void scan(PlainSelect ps) {
        for (SelectItem<?> i : ps.getSelectItems()) {
            scanExpression(i.getExpression());
        }
        scanExpression(ps.getWhere());
        scanExpression(ps.getHaving());
        if (ps.getJoins() != null) {
            for (Join j : ps.getJoins()) {
                if (j.getOnExpressions() != null) {
                    j.getOnExpressions().forEach(this::scanExpression);
                }
            }
        }
        if (ps.getOrderByElements() != null) {
            ps.getOrderByElements().forEach(o -> scanExpression(o.getExpression()));
        }
    }
}
