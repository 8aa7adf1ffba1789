package dev.sluice.core.sql;

import java.util.Set;

/**
 * Rules for transaction control and session state: BEGIN/START/COMMIT/END/ROLLBACK/ABORT/SAVEPOINT/RELEASE,
 * SET/RESET/USE/DISCARD, PREPARE/DEALLOCATE. These are where the two dialects differ most (MySQL {@code SET
 * LOCAL} is a session setting, PostgreSQL's is transaction-scoped; MySQL {@code BEGIN NOT ATOMIC} is a
 * compound statement; MySQL {@code RESET MASTER} is administration), so the dialect checks live here.
 */
final class SessionRules {

    private static final Classification BEGIN = Classification.of(StatementKind.BEGIN, "begin");
    private static final Classification BEGIN_RO = Classification.of(StatementKind.BEGIN_READ_ONLY, "begin-read-only");
    private static final Classification BEGIN_RW = Classification.of(StatementKind.BEGIN_READ_WRITE, "begin-read-write");
    private static final Classification COMPOUND = Classification.of(StatementKind.WRITE, "compound-statement");
    private static final Classification COMMIT = Classification.of(StatementKind.COMMIT, "commit");
    private static final Classification PREPARE_TRANSACTION = Classification.of(StatementKind.COMMIT, "prepare-transaction");
    private static final Classification COMMIT_PREPARED = Classification.of(StatementKind.WRITE, "commit-prepared");
    private static final Classification ROLLBACK = Classification.of(StatementKind.ROLLBACK, "rollback");
    private static final Classification ROLLBACK_PREPARED = Classification.of(StatementKind.WRITE, "rollback-prepared");
    private static final Classification ROLLBACK_TO = Classification.of(StatementKind.TX_CONTROL, "rollback-to-savepoint");
    private static final Classification SAVEPOINT = Classification.of(StatementKind.TX_CONTROL, "savepoint");
    private static final Classification RELEASE = Classification.of(StatementKind.TX_CONTROL, "release-savepoint");
    private static final Classification SET_TRANSACTION = Classification.of(StatementKind.TX_CONTROL, "set-transaction");
    private static final Classification SET_LOCAL = Classification.of(StatementKind.TX_CONTROL, "set-local");
    private static final Classification SET_CONSTRAINTS = Classification.of(StatementKind.TX_CONTROL, "set-constraints");
    private static final Classification SET = Classification.of(StatementKind.SESSION_STATE, "set");
    private static final Classification SET_NAMES = Classification.of(StatementKind.SESSION_STATE, "set-names");
    private static final Classification SET_ROLE = Classification.of(StatementKind.SESSION_STATE, "set-role");
    private static final Classification SET_AUTHORIZATION = Classification.of(StatementKind.SESSION_STATE, "set-session-authorization");
    private static final Classification SET_CHARACTERISTICS = Classification.of(StatementKind.SESSION_STATE, "set-session-characteristics");
    private static final Classification SET_SESSION_TRANSACTION = Classification.of(StatementKind.SESSION_STATE, "set-session-transaction");
    private static final Classification SET_GLOBAL = Classification.of(StatementKind.WRITE, "set-global");
    private static final Classification SET_PASSWORD = Classification.of(StatementKind.WRITE, "set-password");
    private static final Classification SET_DEFAULT_ROLE = Classification.of(StatementKind.WRITE, "set-default-role");
    private static final Classification RESET = Classification.of(StatementKind.SESSION_STATE, "reset");
    private static final Classification USE = Classification.of(StatementKind.SESSION_STATE, "use");
    private static final Classification DISCARD = Classification.of(StatementKind.SESSION_STATE, "discard");
    private static final Classification PREPARE = Classification.of(StatementKind.SESSION_STATE, "prepare");
    private static final Classification DEALLOCATE = Classification.of(StatementKind.SESSION_STATE, "deallocate");
    static final Classification ADMIN = Classification.of(StatementKind.WRITE, "admin");

    /** MySQL scopes that make SET change the server instead of the session. */
    private static final Set<String> GLOBAL_SCOPES = Set.of("GLOBAL", "PERSIST", "PERSIST_ONLY");
    private static final Set<String> GLOBAL_VARIABLE_PREFIXES = Set.of("@@GLOBAL", "@@PERSIST", "@@PERSIST_ONLY");

    private final boolean mysql;
    private final QueryRules queries;

    SessionRules(Dialect dialect, QueryRules queries) {
        this.mysql = dialect == Dialect.MYSQL;
        this.queries = queries;
    }

    /** Classifies a statement led by one of this class's keywords, or returns null when the keyword is not one. */
    Classification classify(StatementTokens st, String first) {
        switch (first) {
            case "BEGIN":
                // MariaDB/MySQL "BEGIN NOT ATOMIC ... END" is a compound statement, not a transaction.
                return mysql && st.is(1, "NOT") ? COMPOUND : begin(st, 1);
            case "START":
                return st.is(1, "TRANSACTION") ? begin(st, 2) : ADMIN; // START SLAVE/REPLICA/GROUP_REPLICATION
            case "COMMIT":
                return !mysql && st.is(1, "PREPARED") ? COMMIT_PREPARED : COMMIT;
            case "END":
                // PostgreSQL END = COMMIT; in MySQL a bare END only closes a compound statement.
                return mysql ? COMPOUND : COMMIT;
            case "ROLLBACK":
                if (!mysql && st.is(1, "PREPARED")) {
                    return ROLLBACK_PREPARED;
                }
                return st.is(1, "TO") || st.is(2, "TO") ? ROLLBACK_TO : ROLLBACK; // ROLLBACK [WORK] TO [SAVEPOINT] x
            case "ABORT":
                return ROLLBACK;
            case "SAVEPOINT":
                return SAVEPOINT;
            case "RELEASE":
                return RELEASE;
            case "SET":
                return set(st);
            case "RESET":
                // MySQL RESET MASTER/REPLICA/PERSIST/QUERY CACHE act on the server.
                return mysql ? ADMIN : RESET;
            case "USE":
                return USE;
            case "DISCARD":
                return DISCARD;
            case "PREPARE":
                // PostgreSQL PREPARE TRANSACTION ends the session's transaction like COMMIT does.
                return !mysql && st.is(1, "TRANSACTION") ? PREPARE_TRANSACTION : PREPARE;
            case "DEALLOCATE":
                return DEALLOCATE;
            default:
                return null;
        }
    }

    /**
     * BEGIN/START TRANSACTION: the access mode may be mixed with isolation level, DEFERRABLE or WITH
     * CONSISTENT SNAPSHOT in any order, so scan for READ ONLY / READ WRITE rather than parse positions.
     * ("READ COMMITTED" is an isolation level, not an access mode.)
     */
    private static Classification begin(StatementTokens st, int from) {
        Classification c = BEGIN;
        for (int k = from; k + 1 < st.size(); k++) {
            if (st.is(k, "READ")) {
                if (st.is(k + 1, "ONLY")) {
                    c = BEGIN_RO;
                } else if (st.is(k + 1, "WRITE")) {
                    c = BEGIN_RW;
                }
            }
        }
        return c;
    }

    private Classification set(StatementTokens st) {
        String w1 = st.word(1);
        String w2 = st.word(2);
        if (mysql) {
            if (isGlobal(st)) {
                return SET_GLOBAL;
            }
            if (w1 != null) {
                switch (w1) {
                    case "TRANSACTION": // MySQL: applies to the next transaction only
                        return SET_TRANSACTION;
                    case "SESSION", "LOCAL": // MySQL LOCAL is a synonym of SESSION
                        if ("TRANSACTION".equals(w2)) {
                            return SET_SESSION_TRANSACTION;
                        }
                        break;
                    case "PASSWORD":
                        return SET_PASSWORD;
                    case "DEFAULT":
                        return "ROLE".equals(w2) ? SET_DEFAULT_ROLE : setValue(st, SET);
                    case "ROLE":
                        return SET_ROLE;
                    case "NAMES", "CHARSET":
                        return SET_NAMES;
                    case "CHARACTER":
                        return "SET".equals(w2) ? SET_NAMES : setValue(st, SET);
                    default:
                        break;
                }
            }
            return setValue(st, SET);
        }
        if (w1 == null) {
            return SET;
        }
        switch (w1) {
            case "LOCAL":
                return SET_LOCAL;
            case "TRANSACTION":
                return SET_TRANSACTION;
            case "CONSTRAINTS":
                return SET_CONSTRAINTS;
            case "ROLE":
                return SET_ROLE;
            case "NAMES":
                return SET_NAMES;
            case "SESSION":
                if ("CHARACTERISTICS".equals(w2)) {
                    return SET_CHARACTERISTICS;
                }
                if ("AUTHORIZATION".equals(w2)) {
                    return SET_AUTHORIZATION;
                }
                return "ROLE".equals(w2) ? SET_ROLE : SET;
            default:
                return SET;
        }
    }

    /**
     * {@code SET @id = LAST_INSERT_ID()} must be evaluated where the value lives; replaying it on a replica
     * would store a different value. Keep it SESSION_STATE but pin the session to the primary.
     */
    private Classification setValue(StatementTokens st, Classification base) {
        Classification f = queries.primaryFunctionCall(st);
        return f == null ? base : base.withEffect(SessionEffect.PIN);
    }

    /** {@code SET GLOBAL x=1}, {@code SET PERSIST x=1}, {@code SET @@global.x=1}, also inside a comma-separated list. */
    private static boolean isGlobal(StatementTokens st) {
        int depth = 0;
        for (int k = 1; k < st.size(); k++) {
            Token t = st.token(k);
            if (t.isPunct('(')) {
                depth++;
            } else if (t.isPunct(')')) {
                depth--;
            } else if (depth == 0) {
                if (t.type() == Token.Type.WORD && GLOBAL_SCOPES.contains(t.text())
                        && (k == 1 || st.isPunct(k - 1, ','))) {
                    return true;
                }
                if (t.type() == Token.Type.VARIABLE && GLOBAL_VARIABLE_PREFIXES.contains(t.text())) {
                    return true;
                }
            }
        }
        return false;
    }
}
