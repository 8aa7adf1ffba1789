package dev.sluice.core.sql;

/** SQL dialect of a cluster. MYSQL covers MySQL and MariaDB, which share the lexical rules Sluice cares about. */
public enum Dialect {
    POSTGRESQL,
    MYSQL
}
