package dev.sluice.core.route;

import dev.sluice.core.sql.Classification;
import dev.sluice.core.sql.RouteHint;
import dev.sluice.core.sql.SessionEffect;
import dev.sluice.core.sql.StatementKind;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routing state of one client session (one application connection or one proxy client). Not thread-safe:
 * a session is used by one thread at a time, as a JDBC connection is.
 *
 * <p>The rules, in order:
 * <ol>
 *   <li>Inside a transaction every statement goes to the transaction's node, until COMMIT/ROLLBACK.</li>
 *   <li>A transaction starts at BEGIN (autocommit) or at the first statement with autocommit off. It is
 *       read-only when it says READ ONLY, or says nothing and the session is read-only; a read-only
 *       transaction runs on one replica, any other on the primary.</li>
 *   <li>Session state (SET, USE, ...) runs on every backend connection the session holds and is replayed
 *       on connections opened later (the caller keeps the list).</li>
 *   <li>A session pinned by a temporary table, LOCK TABLES, LISTEN or a named lock stays on the primary.</li>
 *   <li>A hint {@code /* sluice:primary *}{@code /} sends a statement to the primary;
 *       {@code /* sluice:replica *}{@code /} sends a read to a replica and is ignored for anything else.</li>
 *   <li>Autocommit reads go to a healthy replica (balanced); with none, to the primary, counted.</li>
 *   <li>Everything else goes to the primary; with no primary the statement fails with the reason.</li>
 * </ol>
 */
public final class Session {
    private static final Logger log = LoggerFactory.getLogger(Session.class);

    private final Router router;
    private boolean autoCommit = true;
    private boolean readOnly;
    private String txNode;
    private String pinnedBy;

    Session(Router router) {
        this.router = router;
    }

    public RouteDecision route(String sql) {
        return route(router.classify(sql));
    }

    public RouteDecision route(Classification c) {
        Topology t = router.topology();
        RouteDecision d = txNode != null ? inTransaction(c) : outsideTransaction(c, t);
        if (c.effect() == SessionEffect.PIN && d.node().equals(t.primary())) {
            pinnedBy = c.reason();
        } else if (c.effect() == SessionEffect.UNPIN) {
            pinnedBy = null;
        }
        if (log.isDebugEnabled()) {
            log.debug("[{}] {} -> {} ({})", router.config().name(), c.kind(), d.node(), d.reason());
        }
        return d;
    }

    private RouteDecision inTransaction(Classification c) {
        String node = txNode;
        return switch (c.kind()) {
            case COMMIT, ROLLBACK -> {
                txNode = null;
                yield new RouteDecision(node, false, "transaction-end", c);
            }
            case SESSION_STATE -> new RouteDecision(node, true, "session-state:" + c.reason(), c);
            default -> new RouteDecision(node, false, "in-transaction:" + c.reason(), c);
        };
    }

    private RouteDecision outsideTransaction(Classification c, Topology t) {
        StatementKind k = c.kind();
        boolean hintPrimary = router.config().hints() && c.hint() == RouteHint.PRIMARY;
        boolean hintReplica = router.config().hints() && c.hint() == RouteHint.REPLICA;
        switch (k) {
            case EMPTY:
                return new RouteDecision(anchor(t), false, "empty", c);
            case BEGIN, BEGIN_READ_ONLY, BEGIN_READ_WRITE: {
                boolean ro = k == StatementKind.BEGIN_READ_ONLY || (k == StatementKind.BEGIN && readOnly);
                txNode = ro && pinnedBy == null && !hintPrimary ? readNode(t) : router.primaryOrThrow(t, "a read-write transaction");
                return new RouteDecision(txNode, false, (ro ? "begin-read-only" : "begin-read-write") + nodeRole(t, txNode), c);
            }
            case COMMIT, ROLLBACK:
                return new RouteDecision(anchor(t), false, "no-transaction", c);
            case TX_CONTROL:
                // SET TRANSACTION outside a transaction shapes the next one, wherever it will run
                return new RouteDecision(anchor(t), true, "next-transaction:" + c.reason(), c);
            case SESSION_STATE:
                return new RouteDecision(anchor(t), true, "session-state:" + c.reason(), c);
            default:
                break;
        }
        if (!autoCommit) {
            // JDBC with autocommit off: this statement opens the transaction; its node serves all of it
            txNode = readOnly && pinnedBy == null && !hintPrimary ? readNode(t) : router.primaryOrThrow(t, "a transaction");
            return new RouteDecision(txNode, false, (readOnly ? "transaction-start-read-only" : "transaction-start")
                    + nodeRole(t, txNode) + ":" + c.reason(), c);
        }
        if (pinnedBy != null) {
            return new RouteDecision(router.primaryOrThrow(t, "a session pinned by " + pinnedBy), false, "session-pinned:" + pinnedBy, c);
        }
        if (hintPrimary) {
            return new RouteDecision(router.primaryOrThrow(t, "a statement hinted to the primary"), false, "hint:primary", c);
        }
        if (k == StatementKind.READ) {
            String node = readNode(t);
            boolean onReplica = !node.equals(t.primary());
            String why = onReplica ? (hintReplica ? "hint:replica" : "read:replica")
                    : router.config().replicaReads() ? "read:no-healthy-replica" : "read:replica-reads-off";
            return new RouteDecision(node, false, why + ":" + c.reason(), c);
        }
        String prefix = hintReplica ? "hint-replica-ignored:" : "";
        String what = k == StatementKind.UNPARSED ? "unparsed" : k.name().toLowerCase(java.util.Locale.ROOT) + ":" + c.reason();
        return new RouteDecision(router.primaryOrThrow(t, what), false, prefix + what, c);
    }

    private String readNode(Topology t) {
        String n = router.replicaOrPrimary(t);
        if (n == null) {
            throw new NoRouteException("cluster '" + router.config().name() + "': no node can serve a read: " + t.describe());
        }
        return n;
    }

    /** Where a statement that must run somewhere, but on no particular node, goes. */
    private String anchor(Topology t) {
        if (txNode != null) {
            return txNode;
        }
        if (t.primary() != null) {
            return t.primary();
        }
        return readNode(t);
    }

    private static String nodeRole(Topology t, String node) {
        return node.equals(t.primary()) ? ":primary" : ":replica";
    }

    /** JDBC setAutoCommit. Turning autocommit on commits, so the transaction ends. */
    public void setAutoCommit(boolean on) {
        if (on && !autoCommit) {
            txNode = null;
        }
        autoCommit = on;
    }

    public boolean autoCommit() {
        return autoCommit;
    }

    public void setReadOnly(boolean ro) {
        readOnly = ro;
    }

    public boolean readOnly() {
        return readOnly;
    }

    /** JDBC commit()/rollback(): the transaction (if any) is over. */
    public void endTransaction() {
        txNode = null;
    }

    public boolean inTransaction() {
        return txNode != null;
    }

    /** The node of the open transaction, or null. */
    public String transactionNode() {
        return txNode;
    }

    /** Why the session is pinned to the primary, or null. */
    public String pinnedBy() {
        return pinnedBy;
    }

    public Router router() {
        return router;
    }
}
