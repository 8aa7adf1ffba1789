package dev.sluice.core.sql;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Rules for query-shaped statements (SELECT, WITH, VALUES, TABLE, parenthesised queries): everything that
 * turns an apparent read into something the primary must run. Works on tokens only, in one or two linear
 * scans, so deeply nested expressions cost no more than flat ones.
 */
final class QueryRules {

    /**
     * Built-in functions whose result depends on the primary's session or that change server state when
     * "read". pg_notify is not in the classic list but fails on a hot standby exactly like NOTIFY.
     */
    static final List<String> BUILTIN_PRIMARY_FUNCTIONS = List.of(
            "nextval", "setval", "currval", "lastval",
            "last_insert_id", "found_rows", "row_count",
            "get_lock", "release_lock", "release_all_locks", "is_used_lock", "is_free_lock",
            "pg_advisory_lock", "pg_advisory_lock_shared", "pg_try_advisory_lock", "pg_try_advisory_lock_shared",
            "pg_advisory_xact_lock", "pg_advisory_xact_lock_shared",
            "pg_try_advisory_xact_lock", "pg_try_advisory_xact_lock_shared",
            "pg_advisory_unlock", "pg_advisory_unlock_shared", "pg_advisory_unlock_all",
            "pg_notify");

    /** Functions taking a lock that outlives the statement and the transaction: the session must stay on the primary. */
    private static final Set<String> PIN_FUNCTIONS = Set.of(
            "GET_LOCK", "PG_ADVISORY_LOCK", "PG_ADVISORY_LOCK_SHARED", "PG_TRY_ADVISORY_LOCK", "PG_TRY_ADVISORY_LOCK_SHARED");

    /** Statement keywords that, right after {@code (} or {@code )} and not followed by {@code (}, start a nested data-modifying statement. */
    private static final Set<String> DML = Set.of("INSERT", "UPDATE", "DELETE", "MERGE", "REPLACE");

    private static final Classification DATA_MODIFYING_CTE = Classification.of(StatementKind.WRITE, "data-modifying-cte");
    private static final Classification FOR_UPDATE = Classification.of(StatementKind.LOCKING_READ, "select-for-update");
    private static final Classification FOR_SHARE = Classification.of(StatementKind.LOCKING_READ, "select-for-share");
    private static final Classification LOCK_IN_SHARE_MODE = Classification.of(StatementKind.LOCKING_READ, "lock-in-share-mode");
    private static final Classification INTO_TABLE = Classification.of(StatementKind.DDL, "select-into-table");
    private static final Classification INTO_TEMP_TABLE = INTO_TABLE.withEffect(SessionEffect.PIN);
    // the variable lives in the primary session: later reads of it must find it there
    private static final Classification INTO_VARIABLE = Classification.of(StatementKind.SESSION_READ, "select-into-variable")
            .withEffect(SessionEffect.PIN);
    private static final Classification INTO_OUTFILE = Classification.of(StatementKind.WRITE, "select-into-outfile");
    private static final Classification CALC_FOUND_ROWS = Classification.of(StatementKind.SESSION_READ, "sql-calc-found-rows");

    private final boolean mysql;
    /** Upper-case function name to its finished classification, so a hit allocates nothing. */
    private final Map<String, Classification> primaryFunctions;
    private final Map<String, Classification> readsByReason;

    QueryRules(Dialect dialect, Set<String> extraPrimaryFunctions) {
        this.mysql = dialect == Dialect.MYSQL;
        Map<String, Classification> m = new HashMap<>();
        for (String f : BUILTIN_PRIMARY_FUNCTIONS) {
            put(m, f);
        }
        if (extraPrimaryFunctions != null) {
            for (String f : extraPrimaryFunctions) {
                if (f == null) {
                    continue;
                }
                String name = f.trim();
                name = name.substring(name.lastIndexOf('.') + 1); // "schema.fn" matches calls of fn
                if (!name.isEmpty()) {
                    put(m, name);
                }
            }
        }
        this.primaryFunctions = Map.copyOf(m);
        this.readsByReason = Map.of(
                "select", Classification.of(StatementKind.READ, "select"),
                "values", Classification.of(StatementKind.READ, "values"),
                "table", Classification.of(StatementKind.READ, "table"));
    }

    private static void put(Map<String, Classification> m, String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        Classification c = Classification.of(StatementKind.SESSION_READ, "primary-function:" + lower);
        String upper = lower.toUpperCase(Locale.ROOT);
        m.putIfAbsent(upper, PIN_FUNCTIONS.contains(upper) ? c.withEffect(SessionEffect.PIN) : c);
    }

    /**
     * Classifies a query-shaped statement. {@code baseReason} ("select", "values", "table") names the plain
     * READ result. The strongest finding wins (see {@link #rank}); a PIN from a session-lock function is kept
     * whatever wins, because the lock is taken either way.
     */
    Classification analyze(StatementTokens st, String baseReason) {
        Classification best = readsByReason.getOrDefault(baseReason, Classification.of(StatementKind.READ, baseReason));
        boolean pin = false;
        int depth = 0;
        final int n = st.size();
        for (int k = 0; k < n; k++) {
            Token t = st.token(k);
            Classification found = null;
            switch (t.type()) {
                case PUNCT -> {
                    if (t.isPunct('(')) {
                        depth++;
                    } else if (t.isPunct(')')) {
                        depth--;
                    }
                }
                case WORD -> {
                    String w = t.text();
                    if (st.isPunct(k + 1, '(')) {
                        found = primaryFunctions.get(w);
                    } else if (DML.contains(w) && (st.isPunct(k - 1, '(') || st.isPunct(k - 1, ')'))) {
                        // WITH x AS (UPDATE ...) / WITH ... ) DELETE ...; "FOR UPDATE" never follows a parenthesis.
                        return DATA_MODIFYING_CTE;
                    } else {
                        found = keyword(st, k, w, depth);
                    }
                }
                case VARIABLE -> {
                    if (t.text().equals("@@IDENTITY") || t.text().equals("@@LAST_INSERT_ID")) {
                        found = primaryFunctions.get("LAST_INSERT_ID");
                    }
                }
                default -> { }
            }
            if (found != null) {
                pin |= found.effect() == SessionEffect.PIN;
                if (rank(found.kind()) > rank(best.kind())) {
                    best = found;
                }
            }
        }
        return pin && best.effect() != SessionEffect.PIN ? best.withEffect(SessionEffect.PIN) : best;
    }

    /** Keyword-triggered findings inside a query: locking clauses, INTO, MariaDB sequence syntax. */
    private Classification keyword(StatementTokens st, int k, String w, int depth) {
        switch (w) {
            case "FOR":
                if (st.is(k + 1, "UPDATE") || (st.is(k + 1, "NO") && st.is(k + 2, "KEY") && st.is(k + 3, "UPDATE"))) {
                    return FOR_UPDATE;
                }
                if (st.is(k + 1, "SHARE") || (st.is(k + 1, "KEY") && st.is(k + 2, "SHARE"))) {
                    return FOR_SHARE;
                }
                return null;
            case "LOCK":
                return st.is(k + 1, "IN") && st.is(k + 2, "SHARE") && st.is(k + 3, "MODE") ? LOCK_IN_SHARE_MODE : null;
            case "INTO":
                return depth == 0 ? into(st, k + 1) : null;
            case "SQL_CALC_FOUND_ROWS":
                // FOUND_ROWS() goes to the primary, so the query it counts must run there too.
                return mysql ? CALC_FOUND_ROWS : null;
            case "NEXT":
                return st.is(k + 1, "VALUE") && st.is(k + 2, "FOR") ? primaryFunctions.get("NEXTVAL") : null;
            case "PREVIOUS":
                return st.is(k + 1, "VALUE") && st.is(k + 2, "FOR") ? primaryFunctions.get("LASTVAL") : null;
            default:
                return null;
        }
    }

    /** Top-level INTO in a query: a new table in PostgreSQL, a variable or file in MySQL. */
    private Classification into(StatementTokens st, int k) {
        if (!mysql) {
            return st.is(k, "TEMP") || st.is(k, "TEMPORARY") ? INTO_TEMP_TABLE : INTO_TABLE;
        }
        if (st.is(k, "OUTFILE") || st.is(k, "DUMPFILE")) {
            return INTO_OUTFILE;
        }
        return INTO_VARIABLE;
    }

    /**
     * Session-read or session-lock functions called anywhere in the statement (for DO, SET ...), or null.
     * Only a word directly followed by {@code (} is a call: a column named nextval or a string 'nextval(' is not.
     */
    Classification primaryFunctionCall(StatementTokens st) {
        Classification first = null;
        boolean pin = false;
        for (int k = 0; k + 1 < st.size(); k++) {
            Token t = st.token(k);
            if (t.type() == Token.Type.WORD && st.isPunct(k + 1, '(')) {
                Classification c = primaryFunctions.get(t.text());
                if (c != null) {
                    first = first == null ? c : first;
                    pin |= c.effect() == SessionEffect.PIN;
                }
            }
        }
        return first != null && pin ? first.withEffect(SessionEffect.PIN) : first;
    }

    /** How strongly a kind demands the primary; the highest-ranked part decides a combined result. */
    static int rank(StatementKind kind) {
        return switch (kind) {
            case READ, EMPTY -> 0;
            case SESSION_READ -> 1;
            case LOCKING_READ -> 2;
            case OTHER -> 3;
            case WRITE -> 4;
            case DDL -> 5;
            default -> 6;
        };
    }
}
