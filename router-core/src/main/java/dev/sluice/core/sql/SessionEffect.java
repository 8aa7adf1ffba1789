package dev.sluice.core.sql;

/**
 * What a statement does to the session's freedom to move between nodes. PIN: from now on the session's
 * state lives on the primary (temporary table, LOCK TABLES, LISTEN, advisory/named locks); UNPIN: it no
 * longer does (UNLOCK TABLES).
 */
public enum SessionEffect {
    NONE,
    PIN,
    UNPIN
}
