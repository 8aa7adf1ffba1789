package dev.sluice.core.sql;

import java.util.Map;
import java.util.Set;

/**
 * The lexical fast path: classifies one statement from its leading keyword(s) and token scans. Returns
 * null only when the leading keyword is unknown (for example {@code UPSERT}, or {@code (} not opening a query); the
 * caller then tries the parser fallback. Every known keyword is decided here, including the ones JSqlParser
 * cannot parse (BEGIN, LOCK TABLES, COPY, SELECT ... INTO @x, LISTEN ...).
 */
final class FastPathRules {

    /** Nested statements (EXPLAIN ANALYZE x, COPY (x) TO) deeper than this are not understood: guards recursion. */
    private static final int MAX_NESTING = 4;

    static final Classification UNPARSED = Classification.of(StatementKind.UNPARSED, "unparsed");

    private static final Classification SHOW = Classification.of(StatementKind.READ, "show");
    private static final Classification HELP = Classification.of(StatementKind.READ, "help");
    private static final Classification EXPLAIN = Classification.of(StatementKind.READ, "explain");
    private static final Classification DESCRIBE = Classification.of(StatementKind.READ, "describe");
    private static final Classification EXPLAIN_ANALYZE = Classification.of(StatementKind.READ, "explain-analyze");
    private static final Classification EXPLAIN_ANALYZE_WRITE = Classification.of(StatementKind.WRITE, "explain-analyze-write");
    private static final Classification COPY_FROM = Classification.of(StatementKind.WRITE, "copy-from");
    private static final Classification COPY_TO = Classification.of(StatementKind.READ, "copy-to");
    private static final Classification LISTEN = Classification.of(StatementKind.WRITE, "listen").withEffect(SessionEffect.PIN);
    private static final Classification LOCK_TABLES = Classification.of(StatementKind.WRITE, "lock-tables").withEffect(SessionEffect.PIN);
    private static final Classification LOCK_INSTANCE = Classification.of(StatementKind.WRITE, "lock-instance").withEffect(SessionEffect.PIN);
    private static final Classification LOCK_TABLE = Classification.of(StatementKind.WRITE, "lock-table");
    private static final Classification UNLOCK_TABLES = Classification.of(StatementKind.WRITE, "unlock-tables").withEffect(SessionEffect.UNPIN);
    private static final Classification UNLOCK_INSTANCE = Classification.of(StatementKind.WRITE, "unlock-instance").withEffect(SessionEffect.UNPIN);
    private static final Classification CREATE = Classification.of(StatementKind.DDL, "create");
    private static final Classification CREATE_TEMP_TABLE = Classification.of(StatementKind.DDL, "create-temporary-table").withEffect(SessionEffect.PIN);
    private static final Classification CREATE_TEMP_OBJECT = Classification.of(StatementKind.DDL, "create-temporary-object").withEffect(SessionEffect.PIN);
    private static final Classification DROP = Classification.of(StatementKind.DDL, "drop");
    private static final Classification DEALLOCATE = Classification.of(StatementKind.SESSION_STATE, "deallocate");
    private static final Classification ANALYZE_TABLE = Classification.of(StatementKind.DDL, "analyze");
    private static final Classification DO = Classification.of(StatementKind.WRITE, "do");
    private static final Classification LOAD_DATA = Classification.of(StatementKind.WRITE, "load-data");
    private static final Classification LOAD_LIBRARY = Classification.of(StatementKind.SESSION_STATE, "load");

    /** Keywords whose statement is decided by the keyword alone. */
    private static final Map<String, Classification> SIMPLE = Map.ofEntries(
            Map.entry("INSERT", Classification.of(StatementKind.WRITE, "insert")),
            Map.entry("UPDATE", Classification.of(StatementKind.WRITE, "update")),
            Map.entry("DELETE", Classification.of(StatementKind.WRITE, "delete")),
            Map.entry("REPLACE", Classification.of(StatementKind.WRITE, "replace")),
            Map.entry("MERGE", Classification.of(StatementKind.WRITE, "merge")),
            Map.entry("CALL", Classification.of(StatementKind.WRITE, "call")),
            Map.entry("NOTIFY", Classification.of(StatementKind.WRITE, "notify")),
            Map.entry("UNLISTEN", Classification.of(StatementKind.WRITE, "unlisten")),
            Map.entry("EXECUTE", Classification.of(StatementKind.OTHER, "execute-prepared")),
            // Schema changes.
            Map.entry("ALTER", Classification.of(StatementKind.DDL, "alter")),
            Map.entry("TRUNCATE", Classification.of(StatementKind.DDL, "truncate")),
            Map.entry("RENAME", Classification.of(StatementKind.DDL, "rename")),
            Map.entry("GRANT", Classification.of(StatementKind.DDL, "grant")),
            Map.entry("REVOKE", Classification.of(StatementKind.DDL, "revoke")),
            Map.entry("COMMENT", Classification.of(StatementKind.DDL, "comment")),
            Map.entry("SECURITY", Classification.of(StatementKind.DDL, "security-label")),
            Map.entry("IMPORT", Classification.of(StatementKind.DDL, "import")),
            Map.entry("REASSIGN", Classification.of(StatementKind.DDL, "reassign")),
            Map.entry("REFRESH", Classification.of(StatementKind.DDL, "refresh-materialized-view")),
            // Maintenance: DDL too, consistently (they rewrite tables/indexes/statistics on the primary).
            Map.entry("VACUUM", Classification.of(StatementKind.DDL, "vacuum")),
            Map.entry("REINDEX", Classification.of(StatementKind.DDL, "reindex")),
            Map.entry("CLUSTER", Classification.of(StatementKind.DDL, "cluster")),
            Map.entry("CHECKPOINT", Classification.of(StatementKind.DDL, "checkpoint")),
            Map.entry("OPTIMIZE", Classification.of(StatementKind.DDL, "optimize")),
            Map.entry("REPAIR", Classification.of(StatementKind.DDL, "repair")),
            Map.entry("CHECK", Classification.of(StatementKind.DDL, "check")),
            Map.entry("FLUSH", Classification.of(StatementKind.DDL, "flush")),
            // Server administration: changes server state, so WRITE (primary).
            Map.entry("KILL", SessionRules.ADMIN),
            Map.entry("PURGE", SessionRules.ADMIN),
            Map.entry("CHANGE", SessionRules.ADMIN),
            Map.entry("STOP", SessionRules.ADMIN),
            Map.entry("INSTALL", SessionRules.ADMIN),
            Map.entry("UNINSTALL", SessionRules.ADMIN),
            Map.entry("SHUTDOWN", SessionRules.ADMIN),
            Map.entry("RESTART", SessionRules.ADMIN),
            Map.entry("BINLOG", SessionRules.ADMIN),
            // Understood, but bound to state of one backend session: primary.
            Map.entry("DECLARE", Classification.of(StatementKind.OTHER, "cursor")),
            Map.entry("FETCH", Classification.of(StatementKind.OTHER, "cursor")),
            Map.entry("MOVE", Classification.of(StatementKind.OTHER, "cursor")),
            Map.entry("CLOSE", Classification.of(StatementKind.OTHER, "cursor")),
            Map.entry("HANDLER", Classification.of(StatementKind.OTHER, "handler")),
            Map.entry("SIGNAL", Classification.of(StatementKind.OTHER, "signal")),
            Map.entry("RESIGNAL", Classification.of(StatementKind.OTHER, "signal")),
            Map.entry("XA", Classification.of(StatementKind.OTHER, "xa")),
            Map.entry("GET", Classification.of(StatementKind.SESSION_READ, "get-diagnostics")));

    /** Words that start the statement under EXPLAIN / ANALYZE (everything before them is an option). */
    private static final Set<String> EXPLAINABLE = Set.of(
            "SELECT", "WITH", "VALUES", "TABLE", "INSERT", "UPDATE", "DELETE", "REPLACE", "MERGE",
            "EXECUTE", "DECLARE", "CREATE");

    private final boolean mysql;
    private final QueryRules queries;
    private final SessionRules sessions;

    FastPathRules(Dialect dialect, QueryRules queries) {
        this.mysql = dialect == Dialect.MYSQL;
        this.queries = queries;
        this.sessions = new SessionRules(dialect, queries);
    }

    QueryRules queries() {
        return queries;
    }

    /** Classifies a non-empty statement, or returns null when its leading keyword is unknown. */
    Classification classify(StatementTokens st, int nesting) {
        if (nesting > MAX_NESTING || st.size() == 0) {
            return UNPARSED;
        }
        String first = st.word(0);
        if (first == null) {
            return st.isPunct(0, '(') ? parenthesizedQuery(st) : null;
        }
        Classification simple = SIMPLE.get(first);
        if (simple != null) {
            return simple;
        }
        switch (first) {
            case "SELECT", "WITH":
                return queries.analyze(st, "select");
            case "VALUES":
                return queries.analyze(st, "values");
            case "TABLE":
                return queries.analyze(st, "table");
            case "SHOW":
                return SHOW;
            case "HELP":
                return HELP;
            case "EXPLAIN":
                return explain(st, 1, false, EXPLAIN, nesting);
            case "DESCRIBE", "DESC":
                return explain(st, 1, false, DESCRIBE, nesting);
            case "ANALYZE", "ANALYSE":
                // MariaDB "ANALYZE [FORMAT=JSON] stmt" runs stmt like EXPLAIN ANALYZE; otherwise it is table maintenance.
                return st.is(1, "FORMAT") || (isExplainable(st.word(1)) && !st.is(1, "TABLE"))
                        ? explain(st, 1, true, EXPLAIN, nesting)
                        : ANALYZE_TABLE;
            case "DO": {
                Classification f = queries.primaryFunctionCall(st); // DO GET_LOCK('x', 1) takes a session lock
                return f != null && f.effect() == SessionEffect.PIN ? DO.withEffect(SessionEffect.PIN) : DO;
            }
            case "LISTEN":
                return LISTEN;
            case "LOCK":
                return lock(st);
            case "UNLOCK":
                return st.is(1, "INSTANCE") ? UNLOCK_INSTANCE : UNLOCK_TABLES;
            case "COPY":
                return copy(st, nesting);
            case "CREATE":
                return create(st);
            case "DROP":
                return mysql && st.is(1, "PREPARE") ? DEALLOCATE : DROP;
            case "LOAD":
                return mysql ? LOAD_DATA : LOAD_LIBRARY;
            default:
                return sessions.classify(st, first);
        }
    }

    /**
     * {@code (SELECT ...) UNION (SELECT ...)} and the like: decided from the tokens like any query, so common
     * parenthesised queries never pay for (or risk) the parser. Anything else starting with {@code (} is left
     * to the fallback.
     */
    private Classification parenthesizedQuery(StatementTokens st) {
        int k = 0;
        while (st.isPunct(k, '(')) {
            k++;
        }
        String w = st.word(k);
        if (w == null) {
            return null;
        }
        return switch (w) {
            case "SELECT", "WITH" -> queries.analyze(st, "select");
            case "VALUES" -> queries.analyze(st, "values");
            case "TABLE" -> queries.analyze(st, "table");
            default -> null;
        };
    }

    /**
     * EXPLAIN / DESCRIBE / ANALYZE. Options (PostgreSQL {@code (ANALYZE, BUFFERS)} or words, MySQL
     * {@code FORMAT=JSON}, {@code ANALYZE}) come before the explained statement; without ANALYZE nothing
     * executes, so it is a READ whatever is explained. With ANALYZE the statement runs: a read stays a read
     * (locking/session reads keep their own result), anything else is a write.
     */
    private Classification explain(StatementTokens st, int from, boolean analyze, Classification plain, int nesting) {
        int k = from;
        int inner = -1;
        while (k < st.size()) {
            if (k == from && st.isPunct(k, '(')) {
                int close = st.closeParen(k);
                if (close < 0) {
                    return UNPARSED;
                }
                analyze |= analyzeOption(st, k + 1, close);
                k = close + 1;
                continue;
            }
            String w = st.word(k);
            if (w != null) {
                if (EXPLAINABLE.contains(w)) {
                    inner = k;
                    break;
                }
                analyze |= w.equals("ANALYZE") || w.equals("ANALYSE");
            }
            k++;
        }
        if (inner < 0) {
            return plain; // EXPLAIN tbl / DESCRIBE tbl / EXPLAIN FOR CONNECTION n
        }
        if (!analyze) {
            return plain;
        }
        Classification c = classify(st.sub(inner, st.size()), nesting + 1);
        if (c == null || c.kind() == StatementKind.UNPARSED) {
            return UNPARSED;
        }
        return switch (c.kind()) {
            case READ -> EXPLAIN_ANALYZE;
            case LOCKING_READ, SESSION_READ -> c;
            default -> EXPLAIN_ANALYZE_WRITE;
        };
    }

    private static boolean isExplainable(String word) {
        return word != null && EXPLAINABLE.contains(word);
    }

    /** True when a PostgreSQL option list contains ANALYZE not followed by FALSE / OFF / 0. */
    private static boolean analyzeOption(StatementTokens st, int from, int to) {
        for (int k = from; k < to; k++) {
            if (st.is(k, "ANALYZE") || st.is(k, "ANALYSE")) {
                boolean off = k + 1 < to && (st.is(k + 1, "FALSE") || st.is(k + 1, "OFF")
                        || (st.isType(k + 1, Token.Type.NUMBER) && "0".equals(st.token(k + 1).text())));
                if (!off) {
                    return true;
                }
            }
        }
        return false;
    }

    /** COPY t FROM ... writes; COPY t TO / COPY (query) TO reads, unless the query itself is not a plain read. */
    private Classification copy(StatementTokens st, int nesting) {
        if (st.isPunct(1, '(')) {
            int close = st.closeParen(1);
            if (close < 0 || !st.is(close + 1, "TO")) {
                return UNPARSED;
            }
            Classification c = close > 2 ? classify(st.sub(2, close), nesting + 1) : null;
            if (c == null || c.kind() == StatementKind.UNPARSED) {
                return UNPARSED;
            }
            return c.kind() == StatementKind.READ ? COPY_TO : c;
        }
        int depth = 0;
        for (int k = 1; k < st.size(); k++) {
            if (st.isPunct(k, '(')) {
                depth++;
            } else if (st.isPunct(k, ')')) {
                depth--;
            } else if (depth == 0 && st.is(k, "FROM")) {
                return COPY_FROM;
            } else if (depth == 0 && st.is(k, "TO")) {
                return COPY_TO;
            }
        }
        return UNPARSED;
    }

    /**
     * MySQL LOCK TABLES holds its locks in the session until UNLOCK TABLES: pin. PostgreSQL LOCK only works
     * inside a transaction and is released at its end, so the transaction already keeps it on the primary.
     */
    private Classification lock(StatementTokens st) {
        if (!mysql) {
            return LOCK_TABLE;
        }
        if (st.is(1, "INSTANCE")) {
            return LOCK_INSTANCE;
        }
        return st.is(1, "TABLES") || st.is(1, "TABLE") ? LOCK_TABLES : UNPARSED;
    }

    /** Temporary objects exist only in the creating session, so they pin it to the primary. */
    private static Classification create(StatementTokens st) {
        int k = 1;
        if (st.is(k, "OR") && st.is(k + 1, "REPLACE")) {
            k += 2;
        }
        if (st.is(k, "GLOBAL") || st.is(k, "LOCAL")) {
            k++;
        }
        if (st.is(k, "TEMP") || st.is(k, "TEMPORARY")) {
            return st.is(k + 1, "TABLE") ? CREATE_TEMP_TABLE : CREATE_TEMP_OBJECT;
        }
        return CREATE;
    }
}
