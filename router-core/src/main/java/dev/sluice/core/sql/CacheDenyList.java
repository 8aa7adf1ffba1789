package dev.sluice.core.sql;

import java.util.Set;

/**
 * Functions, words and tables whose presence makes a read's result unfit for the read cache: its answer
 * depends on the moment (now(), random()), on the session or node that runs it (current_user, @@port,
 * pg_backend_pid()), or changes state (nextval). Both dialects share one list: a PostgreSQL name in a MySQL
 * query (or the reverse) is at worst a user function of that name left uncached, which is only slower.
 * Names are upper case, as the lexer gives words.
 */
final class CacheDenyList {
    private CacheDenyList() {
    }

    /** Called as {@code name(…)}. */
    static final Set<String> FUNCTIONS = Set.of(
            // time
            "NOW", "CURRENT_TIMESTAMP", "CURRENT_DATE", "CURRENT_TIME", "LOCALTIME", "LOCALTIMESTAMP", "SYSDATE",
            "CURDATE", "CURTIME", "UNIX_TIMESTAMP", "CLOCK_TIMESTAMP", "STATEMENT_TIMESTAMP", "TRANSACTION_TIMESTAMP",
            "TIMEOFDAY", "SYSTIMESTAMP", "GETDATE",
            // randomness and identifiers
            "RAND", "RANDOM", "SETSEED", "RANDOM_BYTES", "UUID", "UUID_SHORT", "SYS_GUID", "GEN_RANDOM_UUID",
            "GEN_RANDOM_BYTES", "NEWID",
            // sequences, last ids, counters of the session
            "NEXTVAL", "CURRVAL", "LASTVAL", "SETVAL", "LAST_INSERT_ID", "FOUND_ROWS", "ROW_COUNT",
            // who and where
            "CONNECTION_ID", "USER", "SESSION_USER", "SYSTEM_USER", "CURRENT_USER", "CURRENT_ROLE", "DATABASE",
            "SCHEMA", "VERSION", "SET_CONFIG",
            // locks and waits
            "GET_LOCK", "RELEASE_LOCK", "RELEASE_ALL_LOCKS", "IS_FREE_LOCK", "IS_USED_LOCK", "SLEEP", "BENCHMARK",
            "MASTER_POS_WAIT", "MASTER_GTID_WAIT", "SOURCE_POS_WAIT", "WAIT_FOR_EXECUTED_GTID_SET",
            // the server's files and state
            "LOAD_FILE");

    /**
     * Name prefixes denied as functions: PostgreSQL's pg_* (backend pid, WAL positions, recovery, stats,
     * advisory locks, sizes that change), txid_* / current_* / inet_* (transaction, session and connection
     * facts), uuid_* (uuid-ossp), utc_* (MySQL clocks).
     */
    private static final String[] FUNCTION_PREFIXES = {"PG_", "TXID_", "CURRENT_", "INET_", "UUID_", "UTC_"};

    /** SQL-standard niladic functions, written without parentheses (a column of that name must be qualified). */
    static final Set<String> NILADIC = Set.of("CURRENT_TIMESTAMP", "CURRENT_DATE", "CURRENT_TIME", "LOCALTIME",
            "LOCALTIMESTAMP", "CURRENT_USER", "SESSION_USER", "SYSTEM_USER", "CURRENT_ROLE", "CURRENT_SCHEMA",
            "CURRENT_CATALOG", "UTC_TIMESTAMP", "UTC_DATE", "UTC_TIME");

    /** PostgreSQL's bare {@code user} is current_user; in MySQL it is an ordinary identifier (USER() is the function). */
    static final String PG_NILADIC_USER = "USER";

    /** Schemas whose tables describe the server, not the application's data. */
    static final Set<String> SYSTEM_SCHEMAS = Set.of("pg_catalog", "information_schema", "performance_schema",
            "mysql", "sys", "pg_toast");

    static boolean deniedFunction(String upperName) {
        if (FUNCTIONS.contains(upperName)) {
            return true;
        }
        for (String p : FUNCTION_PREFIXES) {
            if (upperName.startsWith(p)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Why a table may not be cached, or null. pg_* tables are PostgreSQL's catalogs and statistics views;
     * sluice_* are Sluice's own (the heartbeat row is written every 100 ms by a writer that bypasses routing).
     */
    static String deniedTable(String schemaOrNull, String base) {
        if (schemaOrNull != null && SYSTEM_SCHEMAS.contains(schemaOrNull)) {
            return "system-table:" + schemaOrNull + "." + base;
        }
        if (base.startsWith("pg_")) {
            return "system-table:" + base;
        }
        if (base.startsWith("sluice_")) {
            return "sluice-table:" + base;
        }
        return null;
    }
}
