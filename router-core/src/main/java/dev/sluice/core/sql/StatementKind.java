package dev.sluice.core.sql;

/**
 * What a statement does, as far as routing cares. The router maps kinds to nodes; the classifier never
 * looks at cluster state.
 */
public enum StatementKind {
    /** Plain read: may run on a replica when autocommit. */
    READ,
    /** SELECT ... FOR UPDATE / FOR SHARE / LOCK IN SHARE MODE ...: takes row locks, primary only. */
    LOCKING_READ,
    /** A read whose result depends on the primary's session (nextval, LAST_INSERT_ID(), GET_LOCK ...). */
    SESSION_READ,
    /** Changes data (INSERT/UPDATE/DELETE/MERGE/REPLACE/COPY FROM/CALL/DO/NOTIFY ...). */
    WRITE,
    /** Changes schema (CREATE/ALTER/DROP/TRUNCATE/GRANT ...). */
    DDL,
    /** BEGIN / START TRANSACTION without an access mode: the session's read-only flag decides. */
    BEGIN,
    /** START TRANSACTION READ ONLY / BEGIN READ ONLY. */
    BEGIN_READ_ONLY,
    /** START TRANSACTION READ WRITE / BEGIN READ WRITE. */
    BEGIN_READ_WRITE,
    /** COMMIT / END. */
    COMMIT,
    /** ROLLBACK (not ROLLBACK TO SAVEPOINT). */
    ROLLBACK,
    /** SAVEPOINT, RELEASE SAVEPOINT, ROLLBACK TO, SET TRANSACTION, SET LOCAL: belongs to the current transaction. */
    TX_CONTROL,
    /** SET [SESSION] var, SET NAMES, USE db, PREPARE, DEALLOCATE ...: applied to every backend connection, replayed later. */
    SESSION_STATE,
    /** Empty, whitespace-only or comment-only text. */
    EMPTY,
    /** Understood but not in another class (e.g. EXECUTE of a named prepared statement): primary. */
    OTHER,
    /** Not understood: primary, reason "unparsed", counted. */
    UNPARSED;

    private final String label = name().toLowerCase(java.util.Locale.ROOT);

    /** Lower-case name, for reasons (precomputed: routing writes must not allocate it each time). */
    public String label() {
        return label;
    }

    /** True when this kind can never run on a replica. */
    public boolean needsPrimary() {
        return switch (this) {
            case LOCKING_READ, SESSION_READ, WRITE, DDL, OTHER, UNPARSED -> true;
            default -> false;
        };
    }
}
