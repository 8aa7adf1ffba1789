package dev.sluice.core.route;

import dev.sluice.core.health.Positions;
import dev.sluice.core.sql.Classification;
import dev.sluice.core.sql.RouteHint;
import dev.sluice.core.sql.SessionEffect;
import dev.sluice.core.sql.StatementKind;
import java.util.ArrayList;
import java.util.List;
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
 *   <li>Autocommit reads go to a replica in the read set (UP), balanced, that also meets the statement's or
 *       session's staleness budget and, with read-your-writes on, has applied the session's last write.
 *       With none, the cluster's lag-fallback decides (primary, least-lagged replica, or an error), counted
 *       by reason.</li>
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
    private boolean txWrote;          // the open transaction ran something on the primary that may have written
    private long lastWriteNanos = NO_WRITE; // when this session's last write committed (read-your-writes)
    private String requiredPosition;  // commit LSN / GTID of the last write (read-your-writes, position mode)
    private long maxLagMillis = -1;   // session staleness budget (connection property), -1: none
    private String replicaReadsBlocked; // why this session must read on the primary (e.g. serializable on PG), or null
    private String stickyReplica;     // balancing: session — the replica this session reads from while it qualifies

    private static final long NO_WRITE = Long.MIN_VALUE;

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
            case SESSION_STATE -> RouteDecision.withDetail(node, true, "session-state", c);
            default -> RouteDecision.withDetail(node, false, "in-transaction", c);
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
                txNode = ro && pinnedBy == null && !hintPrimary ? readNode(t, c).node : router.primaryOrThrow(t, "a read-write transaction");
                return new RouteDecision(txNode, false, (ro ? "begin-read-only" : "begin-read-write") + nodeRole(t, txNode), c);
            }
            case COMMIT, ROLLBACK:
                return new RouteDecision(anchor(t), false, "no-transaction", c);
            case TX_CONTROL:
                // SET TRANSACTION outside a transaction shapes the next one, wherever it will run
                return RouteDecision.withDetail(anchor(t), true, "next-transaction", c);
            case SESSION_STATE:
                return RouteDecision.withDetail(anchor(t), true, "session-state", c);
            default:
                break;
        }
        if (!autoCommit) {
            // JDBC with autocommit off: this statement opens the transaction; its node serves all of it
            txNode = readOnly && pinnedBy == null && !hintPrimary ? readNode(t, c).node : router.primaryOrThrow(t, "a transaction");
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
            Choice ch = readNode(t, c);
            return RouteDecision.withDetail(ch.node, false, hintReplica && ch.onReplica ? "hint:replica" : ch.route, c);
        }
        String node = router.primaryOrThrow(t, k == StatementKind.UNPARSED ? "unparsed" : k.label());
        if (k == StatementKind.UNPARSED) {
            return new RouteDecision(node, false, hintReplica ? "hint-replica-ignored:unparsed" : "unparsed", c);
        }
        return RouteDecision.withDetail(node, false, hintReplica ? "hint-replica-ignored:" + k.label() : k.label(), c);
    }

    /** A node for a read and the route label explaining it. */
    private record Choice(String node, String route, boolean onReplica) {
    }

    private Choice readNode(Topology t, Classification c) {
        if (!router.config().replicaReads()) {
            return new Choice(router.primaryOrThrow(t, "a read (replica-reads is off)"), "read:replica-reads-off", false);
        }
        if (replicaReadsBlocked != null) {
            return new Choice(router.primaryOrThrow(t, "a read (" + replicaReadsBlocked + ")"), "read:primary(" + replicaReadsBlocked + ")", false);
        }
        long budget = c.maxLagMillis() >= 0 ? c.maxLagMillis() : maxLagMillis;
        String ryw = router.config().readYourWrites();
        Long needBeat = null;
        boolean rywPending = false;
        if (lastWriteNanos != NO_WRITE && ryw.equals("heartbeat")) {
            needBeat = router.heartbeats().firstBeatAfter(lastWriteNanos);
            rywPending = needBeat == null; // no beat since the write yet: no replica can prove it has it
        }
        String needPosition = ryw.equals("position") ? requiredPosition : null;
        List<String> replicas = t.replicas();
        if (budget < 0 && needBeat == null && needPosition == null && !rywPending) {
            if (!replicas.isEmpty()) {
                return new Choice(replica(replicas), "read:replica", true);
            }
            return fallback(t, "no-healthy-replica", false);
        }
        List<String> ok = new ArrayList<>(replicas.size());
        if (!rywPending) {
            for (String r : replicas) {
                NodeStatus s = t.status(r);
                if (budget >= 0 && (s.lagMillis() == null || s.lagMillis() > budget)) {
                    continue;
                }
                if (needBeat != null && (s.beat() == null || s.beat() < needBeat)) {
                    continue;
                }
                if (needPosition != null && !Positions.covers(router.config().engine().dialect(), s.position(), needPosition)) {
                    continue;
                }
                ok.add(r);
            }
        }
        if (!ok.isEmpty()) {
            String label = budget >= 0 ? "read:replica-within-" + budget + "ms" : "read:replica-has-write";
            return new Choice(replica(ok), label, true);
        }
        boolean forWrite = needBeat != null || needPosition != null || rywPending;
        return fallback(t, forWrite ? "no-replica-has-write" : "no-replica-within-" + budget + "ms", forWrite);
    }

    /**
     * One of the replicas that qualify. With {@code balancing: session} the session keeps its replica while that
     * one qualifies — one busy server connection per session instead of one per replica, warmer server caches
     * (docs/benchmarks.md section 6) — and picks another, round-robin, when it drops out (down, lagging, behind
     * this session's write).
     */
    private String replica(List<String> candidates) {
        if (router.config().balancing() != dev.sluice.core.config.Balancing.SESSION) {
            return router.pick(candidates);
        }
        if (stickyReplica == null || !candidates.contains(stickyReplica)) {
            stickyReplica = router.pick(candidates);
        }
        return stickyReplica;
    }

    /** No replica qualifies: the cluster's lag-fallback decides. Counted by reason. */
    private Choice fallback(Topology t, String why, boolean readYourWrites) {
        router.fallback(why);
        String mode = router.config().lagFallback();
        if (mode.equals("error")) {
            throw new NoRouteException("cluster '" + router.config().name() + "': " + why + " and lag-fallback is error: " + t.describe());
        }
        if (mode.equals("least-lagged") && !readYourWrites) {
            NodeStatus best = null;
            for (NodeStatus s : t.readCandidates()) {
                if (s.lagMillis() != null && (best == null || s.lagMillis() < best.lagMillis())) {
                    best = s;
                }
            }
            if (best != null) {
                return new Choice(best.name(), "read:least-lagged(" + why + ")", true);
            }
        }
        if (t.primary() != null) {
            return new Choice(t.primary(), "read:primary(" + why + ")", false);
        }
        if (!readYourWrites && !t.readCandidates().isEmpty()) {
            // no primary to fall back to (it died): a reachable replica, even of unknown lag, beats failing every read
            NodeStatus best = t.readCandidates().get(0);
            for (NodeStatus s : t.readCandidates()) {
                if (s.lagMillis() != null && (best.lagMillis() == null || s.lagMillis() < best.lagMillis())) {
                    best = s;
                }
            }
            return new Choice(best.name(), "read:replica-unverified(" + why + ", no primary)", true);
        }
        throw new NoRouteException("cluster '" + router.config().name() + "': no node can serve a read (" + why + "): " + t.describe());
    }

    /** Where a statement that must run somewhere, but on no particular node, goes. */
    private String anchor(Topology t) {
        if (txNode != null) {
            return txNode;
        }
        if (t.primary() != null) {
            return t.primary();
        }
        return readNode(t, Classification.of(StatementKind.EMPTY, "anchor")).node;
    }

    private static String nodeRole(Topology t, String node) {
        return node.equals(t.primary()) ? ":primary" : ":replica";
    }

    /** JDBC setAutoCommit. Turning autocommit on commits, so the transaction ends. */
    public void setAutoCommit(boolean on) {
        if (on && !autoCommit) {
            endTransaction(true); // JDBC: turning autocommit on commits
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
        endTransaction(false);
    }

    /**
     * JDBC commit() ({@code committed}) or rollback(): the transaction is over; a committed write is
     * stamped. Returns true when it stamped one.
     */
    public boolean endTransaction(boolean committed) {
        txNode = null;
        boolean stamped = committed && txWrote;
        if (stamped) {
            lastWriteNanos = router.nanoTime();
        }
        txWrote = false;
        return stamped;
    }

    /**
     * The statement routed by {@code d} has run successfully. Stamps the session's last committed write
     * (read-your-writes): in autocommit at once, in a transaction at its commit. Returns true when a
     * committed write was stamped now.
     */
    public boolean executed(RouteDecision d) {
        StatementKind k = d.classification().kind();
        if (k == StatementKind.COMMIT) {
            return endTransaction(true);
        }
        if (k == StatementKind.ROLLBACK) {
            txWrote = false;
            return false;
        }
        boolean mayHaveWritten = k == StatementKind.WRITE || k == StatementKind.DDL || k == StatementKind.SESSION_READ
                || k == StatementKind.LOCKING_READ || k == StatementKind.OTHER || k == StatementKind.UNPARSED;
        if (!mayHaveWritten) {
            return false;
        }
        if (txNode == null) {
            lastWriteNanos = router.nanoTime();
            return true;
        }
        txWrote = true;
        return false;
    }

    /**
     * The server says a transaction is open on {@code node} though no statement the classifier saw began
     * one (e.g. {@code SELECT 1; BEGIN} in one query string): keep the session on that node until it ends.
     */
    public void transactionStarted(String node) {
        if (txNode == null) {
            txNode = node;
        }
    }

    /** Position mode: the commit position (LSN / GTID) of the session's last write. */
    public void requirePosition(String position) {
        this.requiredPosition = position;
    }

    /** True when the last write's position should be fetched after it (read-your-writes = position). */
    public boolean wantsPositions() {
        return router.config().readYourWrites().equals("position");
    }

    /** Sends this session's reads to the primary, for the given reason; null lifts it. */
    public void setReplicaReadsBlocked(String why) {
        this.replicaReadsBlocked = why;
    }

    /** Session staleness budget (driver: client info {@code SluiceMaxLag}); -1 removes it. */
    public void setMaxLagMillis(long ms) {
        this.maxLagMillis = ms;
    }

    public long maxLagMillis() {
        return maxLagMillis;
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
