package dev.sluice.core.shard;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import net.sf.jsqlparser.expression.Alias;
import net.sf.jsqlparser.expression.AnalyticExpression;
import net.sf.jsqlparser.expression.DoubleValue;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.ExpressionVisitorAdapter;
import net.sf.jsqlparser.expression.Function;
import net.sf.jsqlparser.expression.JdbcParameter;
import net.sf.jsqlparser.expression.LongValue;
import net.sf.jsqlparser.expression.NullValue;
import net.sf.jsqlparser.expression.StringValue;
import net.sf.jsqlparser.expression.operators.relational.ExpressionList;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.statement.select.AllColumns;
import net.sf.jsqlparser.statement.select.Limit;
import net.sf.jsqlparser.statement.select.OrderByElement;
import net.sf.jsqlparser.statement.select.ParenthesedSelect;
import net.sf.jsqlparser.statement.select.PlainSelect;
import net.sf.jsqlparser.statement.select.Select;
import net.sf.jsqlparser.statement.select.SelectItem;
import net.sf.jsqlparser.util.deparser.ExpressionDeParser;
import net.sf.jsqlparser.util.deparser.SelectDeParser;

/**
 * Plans the merge of a SELECT that runs on several shards and rewrites what each shard runs: OFFSET folded into
 * LIMIT (offset+limit rows from each shard, the offset applied after the merge), AVG sent as SUM plus a hidden
 * COUNT, hidden columns for ORDER BY / GROUP BY expressions that are not in the select list (and, on MySQL, for
 * the collation weights of compared strings). Shapes it cannot merge correctly come back as an error text.
 */
final class SelectPlanner {
    private static final Set<String> AGGREGATES = Set.of("count", "sum", "min", "max", "avg");

    /** The plan, the SQL each shard runs (null = unchanged) with its parameter map, or why it cannot scatter. */
    record Result(MergePlan merge, String sql, int[] paramMap, String error) {
    }

    private final PlainSelect ps;
    private final boolean mysql;
    private final List<SelectItem<?>> items;
    private final boolean star;
    private final List<Expression> hidden = new ArrayList<>();
    private boolean rewritten;

    private SelectPlanner(PlainSelect ps, boolean mysql) {
        this.ps = ps;
        this.mysql = mysql;
        this.items = new ArrayList<>(ps.getSelectItems());
        this.star = items.stream().anyMatch(i -> i.getExpression() instanceof AllColumns);
    }

    static Result plan(PlainSelect ps, boolean mysql) {
        try {
            return new SelectPlanner(ps, mysql).plan();
        } catch (ShardingException e) {
            return new Result(null, null, null, e.getMessage());
        }
    }

    private Result plan() {
        refuseUnmergeable();
        ValueRef limit = null;
        ValueRef offset = null;
        Limit l = ps.getLimit();
        if (l != null) {
            if (l.isLimitAll() || l.isLimitNull() || l.getByExpressions() != null) {
                throw new ShardingException("LIMIT ALL/NULL/BY across shards is not supported");
            }
            limit = l.getRowCount() == null ? null : literalOrParam(l.getRowCount(), "LIMIT");
            offset = l.getOffset() == null ? null : literalOrParam(l.getOffset(), "OFFSET");
        }
        if (ps.getOffset() != null) {
            offset = literalOrParam(ps.getOffset().getOffset(), "OFFSET");
        }
        boolean aggregates = items.stream().anyMatch(i -> containsAggregate(i.getExpression()));
        boolean distinct = ps.getDistinct() != null;
        boolean grouped = aggregates || ps.getGroupBy() != null || distinct;
        MergePlan merge = grouped ? grouped(aggregates, distinct, limit, offset) : sorted(limit, offset);
        if (!rewritten && hidden.isEmpty()) {
            return new Result(merge, null, null, null);
        }
        List<SelectItem<?>> shardItems = new ArrayList<>(items);
        for (int i = 0; i < hidden.size(); i++) {
            shardItems.add(SelectItem.from(hidden.get(i), new Alias("sluice_h" + (i + 1))));
        }
        ps.setSelectItems(shardItems);
        return deparse(merge);
    }

    private void refuseUnmergeable() {
        if (ps.getHaving() != null) {
            throw new ShardingException("HAVING across shards is not supported (it must see the merged groups); filter in the application, "
                    + "or route by the shard key");
        }
        if (ps.getDistinct() != null && ps.getDistinct().getOnSelectItems() != null) {
            throw new ShardingException("DISTINCT ON across shards is not supported");
        }
        if (ps.getTop() != null || ps.getFetch() != null || ps.getIntoTables() != null || ps.getQualify() != null
                || ps.getWindowDefinitions() != null) {
            throw new ShardingException("TOP/FETCH/INTO/QUALIFY/WINDOW across shards is not supported");
        }
        if (ps.getGroupBy() != null && (ps.getGroupBy().getGroupingSets() != null && !ps.getGroupBy().getGroupingSets().isEmpty()
                || ps.getGroupBy().isMysqlWithRollup())) {
            throw new ShardingException("GROUPING SETS/ROLLUP across shards is not supported");
        }
        List<Expression> exprs = new ArrayList<>();
        items.forEach(i -> exprs.add(i.getExpression()));
        if (ps.getOrderByElements() != null) {
            ps.getOrderByElements().forEach(o -> exprs.add(o.getExpression()));
        }
        for (Expression e : exprs) {
            if (scan(e)[1]) {
                throw new ShardingException("window functions (OVER …) across shards are not supported: " + e);
            }
        }
    }

    // ---- plain rows: concatenation or k-way merge ----

    private MergePlan sorted(ValueRef limit, ValueRef offset) {
        List<MergePlan.SortKey> order = new ArrayList<>();
        if (ps.getOrderByElements() != null) {
            for (OrderByElement o : ps.getOrderByElements()) {
                Expression e = o.getExpression();
                int ordinal = ordinal(e);
                Expression source;
                int col;
                if (ordinal > 0) { // after a * the item behind a position is unknown: no weight then
                    col = ordinal;
                    source = star ? null : items.get(ordinal - 1).getExpression();
                } else {
                    col = matchItem(e);
                    source = col > 0 ? items.get(col - 1).getExpression() : aliasedExpression(e);
                    if (col <= 0) {
                        col = hide(source);
                    }
                }
                int weight = mysql && source != null ? hide(weightOf(source)) : 0;
                order.add(sortKey(o, col, weight));
            }
        }
        if (offset != null) { // each shard returns its first offset+limit rows; the merge skips the offset
            Limit l = ps.getLimit() != null ? ps.getLimit() : new Limit();
            l.setOffset(null);
            ps.setOffset(null);
            if (limit != null) {
                l.setRowCount(limit instanceof ValueRef.Literal a && offset instanceof ValueRef.Literal b
                        ? new LongValue(((java.math.BigInteger) a.value()).add((java.math.BigInteger) b.value()).toString())
                        : new JdbcParameter(0, false, "?"));
                ps.setLimit(l);
            } else {
                ps.setLimit(null);
            }
            rewritten = true;
        }
        return new MergePlan(hidden.size(), order, false, List.of(), false, List.of(), limit, offset);
    }

    // ---- aggregates, GROUP BY, DISTINCT ----

    private MergePlan grouped(boolean aggregates, boolean distinct, ValueRef limit, ValueRef offset) {
        if (star) {
            throw new ShardingException("SELECT * with GROUP BY, DISTINCT or aggregates across shards is not supported: name the columns");
        }
        if (distinct && (aggregates || ps.getGroupBy() != null)) {
            throw new ShardingException("DISTINCT together with GROUP BY or aggregates across shards is not supported");
        }
        List<Expression> groupExprs = new ArrayList<>();
        if (ps.getGroupBy() != null) {
            for (Object g : ps.getGroupBy().getGroupByExpressionList()) {
                Expression e = (Expression) g;
                int ordinal = ordinal(e);
                groupExprs.add(ordinal > 0 ? items.get(ordinal - 1).getExpression() : aliasedExpression(e));
            }
        } else if (distinct) {
            items.forEach(i -> groupExprs.add(i.getExpression()));
        }
        List<MergePlan.GroupKey> keys = new ArrayList<>();
        int[] weightOfColumn = new int[items.size() + 1];
        for (Expression g : groupExprs) {
            int col = matchItem(g);
            if (col <= 0) {
                col = hide(g);
            }
            int w = mysql ? hide(weightOf(g)) : 0;
            if (col > 0) {
                weightOfColumn[col] = w;
            }
            keys.add(new MergePlan.GroupKey(col, w));
        }
        List<MergePlan.Aggregate> aggs = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            Expression e = items.get(i).getExpression();
            if (e instanceof Function f && AGGREGATES.contains(f.getName().toLowerCase(Locale.ROOT))) {
                aggs.add(aggregate(i, f, weightOfColumn));
            } else if (containsAggregate(e)) {
                throw new ShardingException("select item " + e + " computes with an aggregate; across shards only plain COUNT, SUM, MIN, MAX "
                        + "and AVG items can be merged");
            } else if (isConstant(e)) {
                keys.add(new MergePlan.GroupKey(i + 1, 0)); // the same on every row: part of the key changes nothing
            } else if (!groupExprs.stream().anyMatch(g -> sameExpression(g, e))) {
                throw new ShardingException("select item " + e + " is neither a GROUP BY expression nor a mergeable aggregate");
            }
        }
        List<MergePlan.SortKey> order = new ArrayList<>();
        if (ps.getOrderByElements() != null) {
            for (OrderByElement o : ps.getOrderByElements()) {
                int col = itemColumn(o.getExpression());
                int weight = col > 0 ? weightOfColumn[col] : 0;
                if (col <= 0) {
                    for (int k = 0; k < groupExprs.size() && col <= 0; k++) {
                        if (sameExpression(groupExprs.get(k), o.getExpression())) {
                            col = keys.get(k).column();
                            weight = keys.get(k).weight();
                        }
                    }
                }
                if (col == 0) {
                    throw new ShardingException("ORDER BY " + o.getExpression() + " across shards must name a select item or a GROUP BY expression");
                }
                order.add(sortKey(o, col, weight));
            }
        }
        // groups span shards: every shard returns all its groups, unordered; sort and limit apply after the merge
        ps.setOrderByElements(null);
        ps.setLimit(null);
        ps.setOffset(null);
        rewritten = true;
        return new MergePlan(hidden.size(), order, true, keys, false, aggs, limit, offset);
    }

    private MergePlan.Aggregate aggregate(int i, Function f, int[] weightOfColumn) {
        String name = f.getName().toLowerCase(Locale.ROOT);
        if (f.isDistinct() || f.isUnique()) {
            throw new ShardingException(name.toUpperCase(Locale.ROOT) + "(DISTINCT …) across shards is not supported (distinct values "
                    + "cannot be merged from per-shard results)");
        }
        ExpressionList<?> params = f.getParameters();
        boolean countStar = f.isAllColumns() || params != null && params.size() == 1 && params.get(0) instanceof AllColumns;
        if (!countStar && (params == null || params.size() != 1) || f.getKeep() != null || f.getOrderByElements() != null) {
            throw new ShardingException("aggregate " + f + " across shards: only one-argument COUNT, SUM, MIN, MAX, AVG and COUNT(*) are merged");
        }
        MergePlan.Fn fn = MergePlan.Fn.valueOf(name.toUpperCase(Locale.ROOT));
        int col = i + 1;
        switch (fn) {
            case AVG: {
                SelectItem<?> item = items.get(i);
                String label = item.getAlias() != null ? StatementScope.unquote(item.getAlias().getName()) : mysql ? f.toString() : "avg";
                Function sum = new Function("SUM", (Expression) params.get(0));
                items.set(i, SelectItem.from(sum, new Alias(quote(label))));
                rewritten = true;
                return new MergePlan.Aggregate(fn, col, hide(new Function("COUNT", (Expression) params.get(0))), 0);
            }
            case MIN:
            case MAX: {
                int w = mysql ? hide(weightOf(f)) : 0;
                weightOfColumn[col] = w;
                return new MergePlan.Aggregate(fn, col, 0, w);
            }
            default:
                return new MergePlan.Aggregate(fn, col, 0, 0);
        }
    }

    // ---- helpers ----

    private MergePlan.SortKey sortKey(OrderByElement o, int col, int weight) {
        boolean desc = !o.isAsc();
        boolean nullsFirst;
        if (o.getNullOrdering() != null) {
            nullsFirst = o.getNullOrdering() == OrderByElement.NullOrdering.NULLS_FIRST;
        } else {
            nullsFirst = mysql ? !desc : desc; // MySQL: NULL is the smallest value; PostgreSQL: the largest
        }
        return new MergePlan.SortKey(col, desc, nullsFirst, weight);
    }

    /** The select item (1-based) an ORDER BY expression names by ordinal, alias or same expression; 0 if none. */
    private int itemColumn(Expression e) {
        int ordinal = ordinal(e);
        if (ordinal > 0) {
            return ordinal;
        }
        if (star) {
            return 0; // positions after a * are unknown until the result arrives: use a hidden column
        }
        return matchItem(e);
    }

    private int matchItem(Expression e) {
        if (star) {
            return 0;
        }
        if (e instanceof Column c && c.getTable() == null) {
            String name = StatementScope.unquote(c.getColumnName());
            for (int i = 0; i < items.size(); i++) {
                Alias a = items.get(i).getAlias();
                if (a != null && StatementScope.unquote(a.getName()).equalsIgnoreCase(name)) {
                    return i + 1;
                }
            }
        }
        for (int i = 0; i < items.size(); i++) {
            if (sameExpression(items.get(i).getExpression(), e)) {
                return i + 1;
            }
        }
        return 0;
    }

    private int ordinal(Expression e) {
        if (e instanceof LongValue l) {
            long n = l.getValue();
            if (n < 1 || n > items.size()) {
                throw new ShardingException("ORDER/GROUP BY position " + n + " is not in the select list");
            }
            return (int) n;
        }
        return 0;
    }

    /** An ORDER BY that names an alias is evaluated as the aliased expression in a hidden column. */
    private Expression aliasedExpression(Expression e) {
        if (e instanceof Column c && c.getTable() == null) {
            for (SelectItem<?> i : items) {
                if (i.getAlias() != null && StatementScope.unquote(i.getAlias().getName()).equalsIgnoreCase(StatementScope.unquote(c.getColumnName()))) {
                    return i.getExpression();
                }
            }
        }
        return e;
    }

    private static boolean sameExpression(Expression a, Expression b) {
        if (a instanceof Column x && b instanceof Column y) {
            boolean sameName = StatementScope.unquote(x.getColumnName()).equalsIgnoreCase(StatementScope.unquote(y.getColumnName()));
            String tx = x.getTable() == null ? null : x.getTable().getName();
            String ty = y.getTable() == null ? null : y.getTable().getName();
            return sameName && (tx == null || ty == null || StatementScope.unquote(tx).equalsIgnoreCase(StatementScope.unquote(ty)));
        }
        return a.toString().equalsIgnoreCase(b.toString());
    }

    private static boolean isConstant(Expression e) {
        return e instanceof LongValue || e instanceof StringValue || e instanceof DoubleValue || e instanceof NullValue;
    }

    private int hide(Expression e) {
        hidden.add(e);
        return -hidden.size();
    }

    /** {@code WEIGHT_STRING(e)}: the collation's sort key of e, compared as bytes by the merge (MySQL/MariaDB). */
    private static Expression weightOf(Expression e) {
        return new Function("WEIGHT_STRING", e);
    }

    private static String quoteStatic(String label, boolean mysql) {
        return mysql ? "`" + label.replace("`", "``") + "`" : "\"" + label.replace("\"", "\"\"") + "\"";
    }

    private String quote(String label) {
        return quoteStatic(label, mysql);
    }

    private static ValueRef literalOrParam(Expression e, String what) {
        if (e instanceof LongValue l) {
            return new ValueRef.Literal(l.getBigIntegerValue());
        }
        if (e instanceof JdbcParameter p) { // ? (JDBC) or $n (PostgreSQL's wire protocol: the proxy's clients)
            return new ValueRef.Param(p.getIndex());
        }
        throw new ShardingException(what + " " + e + " across shards: only a number or a parameter is supported");
    }

    /** [contains an aggregate, contains a window function], not looking into subqueries. */
    private static boolean[] scan(Expression e) {
        boolean[] found = new boolean[2];
        e.accept(new ExpressionVisitorAdapter<Void>() {
            @Override
            public <S> Void visit(Function f, S ctx) {
                if (AGGREGATES.contains(f.getName().toLowerCase(Locale.ROOT))) {
                    found[0] = true;
                }
                return super.visit(f, ctx);
            }

            @Override
            public <S> Void visit(AnalyticExpression a, S ctx) {
                found[1] = true;
                return null;
            }

            @Override
            public <S> Void visit(ParenthesedSelect s, S ctx) {
                return null;
            }

            @Override
            public <S> Void visit(Select s, S ctx) {
                return null;
            }
        }, null);
        return found;
    }

    static boolean containsAggregate(Expression e) {
        return !(e instanceof AllColumns) && scan(e)[0];
    }

    /** Deparses the rewritten SELECT, numbering its {@code ?} parameters back to the original ones. */
    private Result deparse(MergePlan merge) {
        StringBuilder b = new StringBuilder();
        List<Integer> order = new ArrayList<>();
        ExpressionDeParser ed = new ExpressionDeParser() {
            @Override
            public <S> StringBuilder visit(JdbcParameter p, S ctx) {
                if (p.isUseFixedIndex()) { // $n keeps its number
                    return super.visit(p, ctx);
                }
                order.add(p.getIndex() == null ? 0 : p.getIndex());
                getBuilder().append('?');
                return getBuilder();
            }
        };
        SelectDeParser sd = new SelectDeParser(ed, b);
        ed.setSelectVisitor(sd);
        ed.setBuilder(b);
        ps.accept((net.sf.jsqlparser.statement.select.SelectVisitor<StringBuilder>) sd, null);
        int[] map = new int[order.size()];
        for (int i = 0; i < map.length; i++) {
            map[i] = order.get(i);
        }
        return new Result(merge, b.toString(), map, null);
    }
}
