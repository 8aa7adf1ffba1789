package dev.sluice.core.shard;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import net.sf.jsqlparser.expression.BinaryExpression;
import net.sf.jsqlparser.expression.DateValue;
import net.sf.jsqlparser.expression.DoubleValue;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.JdbcParameter;
import net.sf.jsqlparser.expression.LongValue;
import net.sf.jsqlparser.expression.Parenthesis;
import net.sf.jsqlparser.expression.SignedExpression;
import net.sf.jsqlparser.expression.StringValue;
import net.sf.jsqlparser.expression.operators.conditional.AndExpression;
import net.sf.jsqlparser.expression.operators.conditional.OrExpression;
import net.sf.jsqlparser.expression.operators.relational.Between;
import net.sf.jsqlparser.expression.operators.relational.EqualsTo;
import net.sf.jsqlparser.expression.operators.relational.ExpressionList;
import net.sf.jsqlparser.expression.operators.relational.GreaterThan;
import net.sf.jsqlparser.expression.operators.relational.GreaterThanEquals;
import net.sf.jsqlparser.expression.operators.relational.InExpression;
import net.sf.jsqlparser.expression.operators.relational.MinorThan;
import net.sf.jsqlparser.expression.operators.relational.MinorThanEquals;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.schema.Table;

/**
 * The tables one statement reads or writes at its top level (FROM, JOIN, the target of a write), what the shard
 * map says about each, whether the sharded ones are co-located, and what the WHERE clause says about their key.
 */
final class StatementScope {
    /** Schemas of the engines' own catalogs: queries on them may run on any shard. */
    private static final Set<String> CATALOG_SCHEMAS = Set.of("information_schema", "pg_catalog", "mysql", "performance_schema", "sys");

    /** One table reference: the rule, and the name columns use for it (alias, else table name), lower case. */
    record Ref(String table, TableRule rule, String qualifier) {
    }

    private final ShardMap map;
    final List<Ref> refs = new ArrayList<>();
    private final Map<String, Ref> byQualifier = new HashMap<>();

    StatementScope(ShardMap map) {
        this.map = map;
    }

    /** Adds a table reference; unknown tables are an error, catalog tables are ignored. */
    void add(Table t) {
        String schema = t.getSchemaName() == null ? null : unquote(t.getSchemaName()).toLowerCase(Locale.ROOT);
        String name = unquote(t.getName());
        if (schema != null && CATALOG_SCHEMAS.contains(schema) || name.toLowerCase(Locale.ROOT).startsWith("pg_")) {
            return;
        }
        TableRule rule = map.table(name);
        if (rule == null) {
            throw new ShardingException("table " + name + " is not in the shard map of database " + map.database()
                    + " (add it under databases." + map.database() + ".tables as sharded, home or broadcast)");
        }
        String q = (t.getAlias() != null ? unquote(t.getAlias().getName()) : name).toLowerCase(Locale.ROOT);
        Ref r = new Ref(name, rule, q);
        refs.add(r);
        byQualifier.put(q, r);
    }

    static String unquote(String s) {
        if (s.length() >= 2 && (s.charAt(0) == '"' || s.charAt(0) == '`') && s.charAt(s.length() - 1) == s.charAt(0)) {
            return s.substring(1, s.length() - 1);
        }
        return s;
    }

    List<Ref> sharded() {
        return refs.stream().filter(r -> r.rule().sharded()).toList();
    }

    /**
     * Sharded tables may meet in one statement only when each shard holds all the rows that can join: the same
     * placement family and a chain of key equalities ({@code a.key = b.key}) in ON or WHERE linking them all.
     */
    void checkCoLocated(List<Expression> joinConditions) {
        List<Ref> sh = sharded();
        if (sh.size() < 2) {
            return;
        }
        for (Ref r : sh) {
            if (!r.rule().family().equals(sh.get(0).rule().family())) {
                throw new ShardingException("cross-shard join: " + sh.get(0).table() + " and " + r.table() + " are placed differently ("
                        + sh.get(0).rule().family() + " vs " + r.rule().family() + "), so their rows are not on the same shards");
            }
        }
        Map<String, String> parent = new LinkedHashMap<>();
        for (Ref r : sh) {
            parent.put(r.qualifier(), r.qualifier());
        }
        for (Expression e : joinConditions) {
            for (Expression c : conjuncts(e)) {
                if (c instanceof EqualsTo eq) {
                    Ref a = keyRef(eq.getLeftExpression(), false);
                    Ref b = keyRef(eq.getRightExpression(), false);
                    if (a != null && b != null) {
                        parent.put(find(parent, a.qualifier()), find(parent, b.qualifier()));
                    }
                }
            }
        }
        String root = find(parent, sh.get(0).qualifier());
        for (Ref r : sh) {
            if (!find(parent, r.qualifier()).equals(root)) {
                throw new ShardingException("cross-shard join: " + sh.get(0).table() + " and " + r.table() + " are not joined on their shard keys ("
                        + sh.get(0).qualifier() + "." + sh.get(0).rule().keyColumn() + " = " + r.qualifier() + "." + r.rule().keyColumn()
                        + "), so matching rows may be on different shards");
            }
        }
    }

    private static String find(Map<String, String> parent, String x) {
        while (!parent.get(x).equals(x)) {
            x = parent.get(x);
        }
        return x;
    }

    /**
     * The sharded table reference whose key column {@code e} is, else null. An unqualified column counts only
     * when every table of the statement is sharded ({@code lenient}): with a home or broadcast table present the
     * name might be that table's column, and routing by it could miss rows.
     */
    Ref keyRef(Expression e, boolean lenient) {
        if (!(e instanceof Column c)) {
            return null;
        }
        String col = unquote(c.getColumnName()).toLowerCase(Locale.ROOT);
        if (c.getTable() != null && c.getTable().getName() != null) {
            Ref r = byQualifier.get(unquote(c.getTable().getName()).toLowerCase(Locale.ROOT));
            return r != null && r.rule().sharded() && col.equals(r.rule().keyColumn()) ? r : null;
        }
        if (!lenient && refs.stream().anyMatch(r -> !r.rule().sharded())) {
            return null;
        }
        for (Ref r : refs) {
            if (r.rule().sharded() && col.equals(r.rule().keyColumn())) {
                return r;
            }
        }
        return null;
    }

    static List<Expression> conjuncts(Expression e) {
        List<Expression> out = new ArrayList<>();
        if (e == null) {
            return out;
        }
        Expression x = e instanceof Parenthesis p ? p.getExpression() : e;
        if (x instanceof AndExpression a) {
            out.addAll(conjuncts(a.getLeftExpression()));
            out.addAll(conjuncts(a.getRightExpression()));
        } else {
            out.add(x);
        }
        return out;
    }

    /** What {@code where} says about the shard key (of any co-located sharded table: their keys are equal). */
    KeyFilter filter(Expression where) {
        if (where == null) {
            return KeyFilter.ALL;
        }
        Expression e = where instanceof Parenthesis p ? p.getExpression() : where;
        if (e instanceof AndExpression a) {
            return and(filter(a.getLeftExpression()), filter(a.getRightExpression()));
        }
        if (e instanceof OrExpression o) {
            KeyFilter l = filter(o.getLeftExpression());
            KeyFilter r = filter(o.getRightExpression());
            return l == KeyFilter.ALL || r == KeyFilter.ALL ? KeyFilter.ALL : new KeyFilter.Or(List.of(l, r));
        }
        if (e instanceof EqualsTo eq) {
            return comparison(eq, 0);
        }
        if (e instanceof GreaterThan || e instanceof GreaterThanEquals || e instanceof MinorThan || e instanceof MinorThanEquals) {
            return comparison((BinaryExpression) e, e instanceof GreaterThan ? 1 : e instanceof GreaterThanEquals ? 2
                    : e instanceof MinorThan ? 3 : 4);
        }
        if (e instanceof InExpression in && !in.isNot() && keyRef(in.getLeftExpression(), true) != null
                && in.getRightExpression() instanceof ExpressionList<?> list) {
            List<ValueRef> vs = new ArrayList<>();
            for (Expression v : list) {
                ValueRef r = value(v);
                if (r == null) {
                    return KeyFilter.ALL;
                }
                vs.add(r);
            }
            return vs.isEmpty() ? KeyFilter.ALL : new KeyFilter.In(vs);
        }
        if (e instanceof Between b && !b.isNot() && keyRef(b.getLeftExpression(), true) != null) {
            ValueRef lo = value(b.getBetweenExpressionStart());
            ValueRef hi = value(b.getBetweenExpressionEnd());
            return lo == null || hi == null ? KeyFilter.ALL : new KeyFilter.Between(lo, true, hi, true);
        }
        return KeyFilter.ALL;
    }

    /** op: 0 =, 1 >, 2 >=, 3 <, 4 <=, as written with the key on the left; flipped when the key is on the right. */
    private KeyFilter comparison(BinaryExpression b, int op) {
        ValueRef v;
        if (keyRef(b.getLeftExpression(), true) != null && (v = value(b.getRightExpression())) != null) {
            return bound(op, v);
        }
        if (keyRef(b.getRightExpression(), true) != null && (v = value(b.getLeftExpression())) != null) {
            return bound(op == 0 ? 0 : op == 1 ? 3 : op == 2 ? 4 : op == 3 ? 1 : 2, v);
        }
        return KeyFilter.ALL;
    }

    private static KeyFilter bound(int op, ValueRef v) {
        return switch (op) {
            case 0 -> new KeyFilter.In(List.of(v));
            case 1 -> new KeyFilter.Between(v, false, null, false);
            case 2 -> new KeyFilter.Between(v, true, null, false);
            case 3 -> new KeyFilter.Between(null, false, v, false);
            default -> new KeyFilter.Between(null, false, v, true);
        };
    }

    private static KeyFilter and(KeyFilter a, KeyFilter b) {
        if (a == KeyFilter.ALL) {
            return b;
        }
        if (b == KeyFilter.ALL) {
            return a;
        }
        return new KeyFilter.And(List.of(a, b));
    }

    /** A literal or parameter as a plan value; null for anything else (an expression the database must evaluate). */
    static ValueRef value(Expression e) {
        if (e instanceof JdbcParameter p) {
            return new ValueRef.Param(p.getIndex());
        }
        if (e instanceof LongValue l) {
            return new ValueRef.Literal(l.getBigIntegerValue());
        }
        if (e instanceof SignedExpression s && s.getSign() == '-' && s.getExpression() instanceof LongValue l) {
            return new ValueRef.Literal(l.getBigIntegerValue().negate());
        }
        if (e instanceof DoubleValue d) {
            return new ValueRef.Literal(new java.math.BigDecimal(d.toString()));
        }
        if (e instanceof StringValue s) {
            // a backslash may be an escape (MySQL) whose meaning the routing would have to guess: let the database decide
            boolean plain = (s.getPrefix() == null || s.getPrefix().isEmpty()) && s.getValue().indexOf('\\') < 0;
            return plain ? new ValueRef.Literal(s.getValue().replace("''", "'")) : null;
        }
        if (e instanceof net.sf.jsqlparser.expression.DateTimeLiteralExpression d
                && d.getType() == net.sf.jsqlparser.expression.DateTimeLiteralExpression.DateTime.DATE) {
            String v = d.getValue();
            return new ValueRef.Literal(v.length() >= 2 && v.startsWith("'") ? v.substring(1, v.length() - 1) : v);
        }
        if (e instanceof net.sf.jsqlparser.expression.CastExpression c && c.getLeftExpression() != null) {
            // DATE '2024-06-01', CAST(? AS date), ?::int: the value inside; coercing it to the key type later either
            // gives what the cast gives or nothing (then all shards), never a different shard
            return value(c.getLeftExpression());
        }
        if (e instanceof DateValue d) {
            return new ValueRef.Literal(d.getValue().toLocalDate());
        }
        return null;
    }
}
