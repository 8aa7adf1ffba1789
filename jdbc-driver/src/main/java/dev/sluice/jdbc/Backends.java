package dev.sluice.jdbc;

import dev.sluice.core.route.RouteDecision;
import dev.sluice.core.route.Session;
import dev.sluice.core.sql.StatementKind;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;

/**
 * The backend connections one application connection holds: at most one per node, borrowed lazily from
 * that node's pool, brought up to the session's state (JDBC settings, then the session-state SQL in the
 * order it ran), and released together.
 */
final class Backends {
    private final ClusterRuntime runtime;
    private final Map<String, Connection> held = new LinkedHashMap<>();
    private final Map<String, Long> heldSince = new java.util.HashMap<>(); // node generation at borrow time
    private final List<String> sessionSql = new ArrayList<>();
    private boolean dirty; // the connections carry session state: close them rather than pool them

    Backends(ClusterRuntime runtime) {
        this.runtime = runtime;
    }

    Collection<Connection> all() {
        return held.values();
    }

    /** Any held backend connection (they all carry the same settings), or null when none is held. */
    Connection any() {
        return held.isEmpty() ? null : held.values().iterator().next();
    }

    Connection get(String node, Session session, ConnectionSettings settings) throws SQLException {
        Connection c = held.get(node);
        long gen = runtime.router.generation(node);
        if (c != null) {
            if (heldSince.get(node) == gen) {
                return c;
            }
            // the node went DOWN since we borrowed this: the server may have restarted under it
            if (node.equals(session.transactionNode())) {
                // never carry on a transaction on a fresh connection: its earlier statements would be lost silently
                throw new SQLException("Sluice: the transaction's node " + node + " went down; the transaction is lost", "08006");
            }
            drop(node);
        }
        c = runtime.borrow(node);
        try {
            c.setAutoCommit(session.autoCommit());
            if (session.readOnly()) {
                c.setReadOnly(true);
            }
            settings.apply(c);
            if (!sessionSql.isEmpty()) {
                try (Statement st = c.createStatement()) {
                    for (String sql : sessionSql) {
                        st.execute(sql);
                    }
                }
            }
        } catch (SQLException e) {
            runtime.evict(node, c);
            throw e;
        }
        held.put(node, c);
        heldSince.put(node, gen);
        return c;
    }

    /** A session-state statement ran on {@code d.node()}: run it on the others, remember it for later ones. */
    void sessionStateApplied(RouteDecision d, String sql) throws SQLException {
        dirty = true;
        for (Map.Entry<String, Connection> e : new ArrayList<>(held.entrySet())) {
            if (!e.getKey().equals(d.node())) {
                try (Statement st = e.getValue().createStatement()) {
                    st.execute(sql);
                }
            }
        }
        if (d.classification().kind() == StatementKind.SESSION_STATE) {
            sessionSql.add(sql);
        }
    }

    /** JDBC commit(): every held connection in manual-commit mode commits (only the transaction's node has work). */
    void commitAll() throws SQLException {
        for (Connection c : held.values()) {
            if (!c.getAutoCommit()) {
                c.commit();
            }
        }
    }

    void rollbackAll() throws SQLException {
        for (Connection c : held.values()) {
            if (!c.getAutoCommit()) {
                c.rollback();
            }
        }
    }

    /** The warnings of every held connection, chained. */
    java.sql.SQLWarning warnings() throws SQLException {
        java.sql.SQLWarning first = null;
        for (Connection c : held.values()) {
            java.sql.SQLWarning w = c.getWarnings();
            if (w != null) {
                if (first == null) {
                    first = w;
                } else {
                    first.setNextWarning(w);
                }
            }
        }
        return first;
    }

    void clearWarnings() throws SQLException {
        for (Connection c : held.values()) {
            c.clearWarnings();
        }
    }

    /** Drops a broken connection: evicted from its pool, forgotten here (the next use borrows a new one). */
    void drop(String node) {
        heldSince.remove(node);
        Connection c = held.remove(node);
        if (c != null) {
            runtime.evict(node, c);
        }
    }

    void markDirty() {
        dirty = true;
    }

    /**
     * Rolls back what is open and gives the connections back, or closes them when they carry state
     * (session SQL, a pin, a transaction opened by SQL) that must not reach another application connection.
     */
    void release(boolean mustEvict) throws SQLException {
        SQLException first = null;
        for (Map.Entry<String, Connection> e : held.entrySet()) {
            Connection c = e.getValue();
            boolean evict = mustEvict || dirty;
            try {
                if (!c.getAutoCommit()) {
                    c.rollback(); // JDBC leaves an open transaction's fate to the driver: we choose not to commit
                }
            } catch (SQLException ex) {
                evict = true;
            }
            try {
                if (evict) {
                    runtime.evict(e.getKey(), c);
                } else {
                    c.close();
                }
            } catch (SQLException ex) {
                if (first == null) {
                    first = ex;
                }
            }
        }
        held.clear();
        heldSince.clear();
        if (first != null) {
            throw first;
        }
    }

    void abort(Executor executor) throws SQLException {
        for (Connection c : held.values()) {
            c.abort(executor);
        }
        held.clear();
        heldSince.clear();
    }
}
