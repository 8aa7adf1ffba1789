package dev.sluice.jdbc;

import java.sql.Connection;
import java.sql.SQLClientInfoException;
import java.sql.SQLException;
import java.util.Collection;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Executor;

/**
 * The JDBC-level settings of one application connection (isolation, catalog, schema, holdability, network
 * timeout, client info, type map). Each setter applies to every backend connection held now; {@link #apply}
 * brings a newly opened one up to date. Null means "never set: the backend's default".
 */
final class ConnectionSettings {
    private Integer isolation;
    private String catalog;
    private String schema;
    private Integer holdability;
    private Executor networkTimeoutExecutor;
    private Integer networkTimeoutMs; // null: never set (the executor may legitimately be null: both real drivers ignore it)
    private final Properties clientInfo = new Properties();
    private Map<String, Class<?>> typeMap;

    /**
     * Whether a setting was made that the pool does not undo when a backend connection goes back to it.
     * HikariCP resets autocommit, read-only, isolation and network timeout, but catalog and schema only
     * when the pool itself configures them (ours don't), and never holdability, client info (pgjdbc sends
     * it as {@code application_name}) or the type map: such connections must be closed, not pooled.
     */
    boolean outlivesPoolReset() {
        return catalog != null || schema != null || holdability != null || !clientInfo.isEmpty() || typeMap != null;
    }

    /** Brings a newly opened backend connection up to the settings made so far. */
    void apply(Connection c) throws SQLException {
        if (isolation != null) {
            c.setTransactionIsolation(isolation);
        }
        if (catalog != null) {
            c.setCatalog(catalog);
        }
        if (schema != null) {
            c.setSchema(schema);
        }
        if (holdability != null) {
            c.setHoldability(holdability);
        }
        if (networkTimeoutMs != null) {
            c.setNetworkTimeout(networkTimeoutExecutor, networkTimeoutMs);
        }
        if (!clientInfo.isEmpty()) {
            c.setClientInfo(clientInfo);
        }
        if (typeMap != null) {
            c.setTypeMap(typeMap);
        }
    }

    Integer isolation() {
        return isolation;
    }

    void isolation(Collection<Connection> held, int level) throws SQLException {
        for (Connection c : held) {
            c.setTransactionIsolation(level);
        }
        isolation = level;
    }

    void catalog(Collection<Connection> held, String value) throws SQLException {
        for (Connection c : held) {
            c.setCatalog(value);
        }
        catalog = value;
    }

    void schema(Collection<Connection> held, String value) throws SQLException {
        for (Connection c : held) {
            c.setSchema(value);
        }
        schema = value;
    }

    void holdability(Collection<Connection> held, int value) throws SQLException {
        for (Connection c : held) {
            c.setHoldability(value);
        }
        holdability = value;
    }

    Integer networkTimeoutMs() {
        return networkTimeoutMs;
    }

    void networkTimeout(Collection<Connection> held, Executor executor, int ms) throws SQLException {
        for (Connection c : held) {
            c.setNetworkTimeout(executor, ms);
        }
        networkTimeoutExecutor = executor;
        networkTimeoutMs = ms;
    }

    String clientInfo(String name) {
        return clientInfo.getProperty(name);
    }

    Properties clientInfo() {
        Properties p = new Properties();
        p.putAll(clientInfo);
        return p;
    }

    void clientInfo(Collection<Connection> held, String name, String value) throws SQLClientInfoException {
        if (value == null) {
            clientInfo.remove(name);
        } else {
            clientInfo.setProperty(name, value);
        }
        for (Connection c : held) {
            c.setClientInfo(name, value);
        }
    }

    void clientInfo(Collection<Connection> held, Properties properties) throws SQLClientInfoException {
        clientInfo.clear();
        clientInfo.putAll(properties);
        for (Connection c : held) {
            c.setClientInfo(properties);
        }
    }

    Map<String, Class<?>> typeMap() {
        return typeMap;
    }

    void typeMap(Collection<Connection> held, Map<String, Class<?>> map) throws SQLException {
        for (Connection c : held) {
            c.setTypeMap(map);
        }
        typeMap = map;
    }
}
