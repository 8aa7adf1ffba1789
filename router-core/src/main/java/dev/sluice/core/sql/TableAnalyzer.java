package dev.sluice.core.sql;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Finds the tables a statement reads and writes, and whether its result may be cached, from the same tokens
 * the classifier uses ({@link SqlLexer}): one linear scan, no parser. The two directions fail differently,
 * so they lean differently:
 * <ul>
 *   <li>a <b>write</b> whose tables are not certain invalidates everything ({@link TableAccess#writesAll()}):
 *       only INSERT / REPLACE / UPDATE / DELETE / MERGE / COPY / LOAD DATA name their tables here, and then
 *       every table the statement mentions counts as written (a table only read in a subquery costs a few
 *       needless invalidations, never a stale result);</li>
 *   <li>a <b>read</b> whose tables are not certain is not cached: a table function in FROM, a variable, a
 *       non-deterministic or session-dependent function ({@link CacheDenyList}), a system table, no table at
 *       all, several statements, unbalanced parentheses. Names that are not tables (a column after
 *       {@code IS DISTINCT FROM}) may be added; that only narrows what gets cached.</li>
 * </ul>
 * Tables are found after FROM, JOIN (any word ending in JOIN), USING (not followed by a column list), UPDATE,
 * INTO, TABLE and after commas of a FROM list, at any nesting depth; CTE names are not tables.
 * Thread-safe (immutable).
 */
public final class TableAnalyzer {
    private static final Set<String> SUBQUERY_STARTS = Set.of("SELECT", "WITH", "VALUES", "TABLE");
    private static final Set<String> QUERY_STARTS = Set.of("SELECT", "WITH", "VALUES", "TABLE");
    private static final Set<String> DML_STARTS = Set.of("INSERT", "REPLACE", "UPDATE", "DELETE", "MERGE", "COPY", "LOAD");
    /** Words that end a FROM list at their depth: a comma after them is not another table. */
    private static final Set<String> CLAUSE_ENDS = Set.of("WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "OFFSET",
            "FETCH", "WINDOW", "UNION", "INTERSECT", "EXCEPT", "MINUS", "FOR", "LOCK", "RETURNING", "SET", "VALUES",
            "SELECT", "INTO", "PROCEDURE", "QUALIFY");
    /** Functions whose argument syntax has a FROM that is not a table ({@code EXTRACT(YEAR FROM d)}). */
    private static final Set<String> FROM_IN_ARGUMENTS = Set.of("EXTRACT", "SUBSTRING", "SUBSTR", "TRIM", "OVERLAY", "POSITION");
    /** Words between a write keyword and its table. */
    private static final Set<String> TARGET_MODIFIERS = Set.of("LOW_PRIORITY", "DELAYED", "HIGH_PRIORITY", "IGNORE",
            "ONLY", "TABLE", "QUICK");
    private static final int MAX_DEPTH = 128;

    private enum Expect { NONE, REF, TARGET }

    private final boolean mysql;
    private final SqlLexer lexer;

    public TableAnalyzer(Dialect dialect) {
        this.mysql = dialect == Dialect.MYSQL;
        this.lexer = new SqlLexer(dialect);
    }

    /** Analyses {@code sql} (one or several statements). Never throws. */
    public TableAccess analyze(String sql) {
        SqlLexer.Result r;
        try {
            r = lexer.lex(sql);
        } catch (RuntimeException | StackOverflowError e) {
            return new TableAccess(sql, Set.of(), Set.of(), true, "unparsed", TableAccess.NO_HINT);
        }
        if (r.error() != null) {
            return new TableAccess(sql, Set.of(), Set.of(), true, "unparsed", r.cacheHint());
        }
        Scan scan = new Scan(sql);
        for (int i = 0; i < r.statementCount(); i++) {
            scan.statement(r.statement(sql, i));
        }
        String why = scan.why;
        if (why == null && r.statementCount() != 1) {
            why = r.statementCount() == 0 ? "empty" : "multi-statement";
        }
        scan.reads.removeAll(scan.cteNames);
        if (why == null && scan.reads.isEmpty()) {
            why = "no-table";
        }
        if (r.statementCount() == 0) {
            scan.writesAll = false;
        }
        return new TableAccess(normalize(sql, r.tokens()), scan.reads, scan.writes, scan.writesAll, why, r.cacheHint());
    }

    /**
     * The text as its tokens: comments dropped, whitespace between two tokens collapsed to one space, and no
     * space where the source had none ({@code a<=b} and {@code a < = b} stay different). Original case is
     * kept: MySQL table names can be case-sensitive.
     */
    static String normalize(String sql, List<Token> tokens) {
        StringBuilder b = new StringBuilder(sql.length());
        int prevEnd = -1;
        for (Token t : tokens) {
            if (prevEnd >= 0 && t.start() != prevEnd) {
                b.append(' ');
            }
            b.append(sql, t.start(), t.end());
            prevEnd = t.end();
        }
        return b.toString();
    }

    /** The state of one analysis (all statements of one string). */
    private final class Scan {
        final String sql;
        final Set<String> reads = new LinkedHashSet<>();
        final Set<String> writes = new LinkedHashSet<>();
        final Set<String> cteNames = new HashSet<>();
        boolean writesAll;
        String why;

        Scan(String sql) {
            this.sql = sql;
        }

        void notCacheable(String reason) {
            if (why == null) {
                why = reason;
            }
        }

        void statement(StatementTokens st) {
            String first = st.word(0);
            boolean query = first == null ? st.isPunct(0, '(') : QUERY_STARTS.contains(first);
            boolean dml = first != null && DML_STARTS.contains(first);
            if (!query) {
                notCacheable(first == null ? "not-a-query" : "not-a-query:" + first.toLowerCase(Locale.ROOT));
            }
            if ("WITH".equals(first)) {
                cteNames(st);
            }
            List<String> bases = new ArrayList<>();
            if (!scan(st, bases)) {
                writesAll = true;
                return;
            }
            if (dml && !bases.isEmpty()) {
                writes.addAll(bases);
            } else {
                // anything else that writes (CALL, DO, DDL, a data-modifying WITH, a function in a SELECT) may touch any table
                writesAll = true;
            }
        }

        /** Scans one statement's tokens; false when they are unbalanced or too deep to trust. */
        private boolean scan(StatementTokens st, List<String> bases) {
            final int n = st.size();
            boolean[] list = new boolean[MAX_DEPTH + 1];   // a FROM-like list is open at this depth
            boolean[] argFrom = new boolean[MAX_DEPTH + 1]; // this paren is EXTRACT(…)'s: its FROM is no table
            int depth = 0;
            Expect expect = Expect.NONE;
            for (int k = 0; k < n; k++) {
                Token t = st.token(k);
                if (expect != Expect.NONE) {
                    if (t.isPunct('{') || t.isWord("OJ") || t.isWord("LATERAL") || t.isWord("ONLY")
                            || (expect == Expect.TARGET && t.type() == Token.Type.WORD && TARGET_MODIFIERS.contains(t.text()))) {
                        continue; // ODBC {OJ …}, LATERAL, ONLY, INSERT IGNORE …: the table is still to come
                    }
                    if (t.type() == Token.Type.WORD || t.type() == Token.Type.QUOTED_IDENT) {
                        k = name(st, k, expect == Expect.TARGET, bases);
                        expect = Expect.NONE;
                        continue;
                    }
                    if (t.isPunct('(') && expect == Expect.REF) {
                        if (++depth > MAX_DEPTH) {
                            notCacheable("too-deep");
                            return false;
                        }
                        // a subquery's own FROM is found by this same scan; a parenthesised join holds more tables
                        String w = st.word(k + 1);
                        boolean subquery = w != null && SUBQUERY_STARTS.contains(w);
                        list[depth] = !subquery;
                        argFrom[depth] = false;
                        expect = subquery ? Expect.NONE : Expect.REF;
                        continue;
                    }
                    expect = Expect.NONE;
                }
                switch (t.type()) {
                    case PUNCT -> {
                        if (t.isPunct('(')) {
                            if (++depth > MAX_DEPTH) {
                                notCacheable("too-deep");
                                return false;
                            }
                            String fn = st.word(k - 1);
                            list[depth] = false;
                            argFrom[depth] = fn != null && FROM_IN_ARGUMENTS.contains(fn);
                        } else if (t.isPunct(')')) {
                            list[depth] = false;
                            if (--depth < 0) {
                                notCacheable("unbalanced-parentheses");
                                return false;
                            }
                        } else if (t.isPunct(',') && list[depth]) {
                            expect = Expect.REF;
                        }
                    }
                    case VARIABLE -> notCacheable("variable");
                    case WORD -> expect = word(st, k, t.text(), depth, list, argFrom);
                    default -> { }
                }
            }
            if (depth != 0) {
                notCacheable("unbalanced-parentheses");
                return false;
            }
            return true;
        }

        /** A word outside a table position: functions to deny, and the keywords that announce tables. */
        private Expect word(StatementTokens st, int k, String w, int depth, boolean[] list, boolean[] argFrom) {
            boolean call = st.isPunct(k + 1, '(');
            boolean qualified = st.isPunct(k - 1, '.');
            if (call && CacheDenyList.deniedFunction(w)) {
                notCacheable("function:" + w.toLowerCase(Locale.ROOT));
            } else if (!call && !qualified && (CacheDenyList.NILADIC.contains(w) || (!mysql && w.equals(CacheDenyList.PG_NILADIC_USER)))) {
                notCacheable("function:" + w.toLowerCase(Locale.ROOT));
            }
            boolean statementStart = k == 0 || st.isPunct(k - 1, '(') || st.isPunct(k - 1, ')');
            switch (w) {
                case "FROM":
                    if (!argFrom[depth] && !st.is(k - 1, "DISTINCT")) {
                        list[depth] = true;
                        return Expect.REF;
                    }
                    return Expect.NONE;
                case "USING":
                    if (!call) {
                        list[depth] = true;
                        return Expect.REF;
                    }
                    return Expect.NONE;
                case "UPDATE":
                    if (statementStart) {
                        list[depth] = true; // MySQL: UPDATE t1, t2 SET …
                        return Expect.TARGET;
                    }
                    return Expect.NONE;
                case "INSERT", "REPLACE":
                    if (statementStart && !call) {
                        int j = k + 1;
                        while (st.word(j) != null && TARGET_MODIFIERS.contains(st.word(j))) {
                            j++;
                        }
                        return st.is(j, "INTO") ? Expect.NONE : Expect.TARGET; // MySQL: INSERT t VALUES …
                    }
                    return Expect.NONE;
                case "INTO":
                    list[depth] = false;
                    return Expect.TARGET;
                case "TABLE":
                    return call ? Expect.NONE : Expect.TARGET;
                case "COPY":
                    return k == 0 ? Expect.TARGET : Expect.NONE;
                case "TABLESAMPLE":
                    notCacheable("tablesample");
                    return Expect.NONE;
                default:
                    if (w.endsWith("JOIN")) { // JOIN, STRAIGHT_JOIN
                        return Expect.REF;
                    }
                    if (CLAUSE_ENDS.contains(w)) {
                        list[depth] = false;
                    }
                    return Expect.NONE;
            }
        }

        /**
         * A (possibly qualified, possibly quoted) name at a table position starting at {@code k}; returns the
         * index of its last token. Followed by {@code (} it is a table function (or, after INTO, a column list).
         */
        private int name(StatementTokens st, int k, boolean target, List<String> bases) {
            List<String> parts = new ArrayList<>(2);
            int j = k;
            while (true) {
                parts.add(identifier(st.token(j)));
                if (st.isPunct(j + 1, '.') && (st.isType(j + 2, Token.Type.WORD) || st.isType(j + 2, Token.Type.QUOTED_IDENT))) {
                    j += 2;
                } else {
                    break;
                }
            }
            String base = parts.get(parts.size() - 1);
            if (!target && st.isPunct(j + 1, '(')) {
                notCacheable("table-function:" + base);
                return j;
            }
            if (mysql && parts.size() == 1 && base.equals("dual")) {
                return j;
            }
            for (String p : parts) {
                if (p.indexOf('.') >= 0 || p.isEmpty()) {
                    notCacheable("unusual-identifier");
                }
            }
            String denied = CacheDenyList.deniedTable(parts.size() > 1 ? parts.get(parts.size() - 2) : null, base);
            if (denied != null) {
                notCacheable(denied);
            }
            reads.add(String.join(".", parts));
            bases.add(base);
            return j;
        }

        /** Lower-cased text of a word or quoted identifier ("a""b" → a"b, `a``b` → a`b). */
        private String identifier(Token t) {
            String raw = sql.substring(t.start(), t.end());
            if (t.type() == Token.Type.QUOTED_IDENT && raw.length() >= 2) {
                char q = raw.charAt(0);
                raw = raw.substring(1, raw.length() - 1).replace(String.valueOf(q) + q, String.valueOf(q));
            }
            return raw.toLowerCase(Locale.ROOT);
        }

        /** {@code WITH [RECURSIVE] a [(cols)] AS [NOT] [MATERIALIZED] (…), b AS (…)}: the names a, b are not tables. */
        private void cteNames(StatementTokens st) {
            int k = st.is(1, "RECURSIVE") ? 2 : 1;
            while (st.isType(k, Token.Type.WORD) || st.isType(k, Token.Type.QUOTED_IDENT)) {
                cteNames.add(identifier(st.token(k)));
                k++;
                if (st.isPunct(k, '(')) {
                    k = st.closeParen(k) + 1;
                    if (k == 0) {
                        return;
                    }
                }
                if (!st.is(k, "AS")) {
                    return;
                }
                k++;
                while (st.is(k, "NOT") || st.is(k, "MATERIALIZED")) {
                    k++;
                }
                if (!st.isPunct(k, '(')) {
                    return;
                }
                k = st.closeParen(k) + 1;
                if (k == 0 || !st.isPunct(k, ',')) {
                    return;
                }
                k++;
            }
        }
    }
}
