package dev.sluice.proxy.pg;

import dev.sluice.core.route.NoRouteException;
import dev.sluice.core.route.RouteDecision;
import dev.sluice.core.route.Router;
import dev.sluice.core.route.Session;
import dev.sluice.core.sql.Classification;
import dev.sluice.core.sql.StatementKind;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Picks the node for one batch with router-core's {@link Session} rules — the same rules as the driver —
 * and keeps the decisions of the cycle in flight, so that when its ReadyForQuery arrives the session can be
 * told what ran (read-your-writes stamps, session state to replay).
 */
final class BatchRouting {
    private static final Logger log = LoggerFactory.getLogger(BatchRouting.class);
    private static final Logger routes = LoggerFactory.getLogger("dev.sluice.routes");

    private final Router router;
    private final Session session;
    private final String user;
    private final boolean logRoutes;
    /** Decisions and statement texts of the cycle in flight, in order. */
    final List<RouteDecision> decisions = new ArrayList<>(2);
    final List<String> texts = new ArrayList<>(2);

    BatchRouting(Router router, Session session, String user, boolean logRoutes) {
        this.router = router;
        this.session = session;
        this.user = user;
        this.logRoutes = logRoutes;
    }

    /**
     * Each statement is routed in order; a batch whose statements land on different nodes (they run as one
     * implicit transaction) goes to the primary. {@code held}: nodes the session has connections to.
     */
    String decide(Batch b, Set<String> held) {
        if (b.statements.isEmpty()) {
            // nothing runs (Parse/Describe/Sync, e.g. PQprepare): a read is prepared where reads go, so its
            // first execution finds it there; anything else goes where the session already is
            String sql = b.firstParsedSql();
            if (sql != null && !session.inTransaction() && session.pinnedBy() == null) {
                Classification c = router.classify(sql);
                if (c.kind() == StatementKind.READ) {
                    return session.route(c).node();
                }
            }
            return anchorNode(held);
        }
        String node = null;
        boolean mixed = false;
        for (int i = 0; i < b.statements.size(); i++) {
            RouteDecision d = session.route(b.statements.get(i));
            decisions.add(d);
            texts.add(b.texts.get(i));
            if (logRoutes) {
                routes.info("{} -> {}  [{}]  {}", user, d.node(), d.reason(), abbreviate(b.texts.get(i)));
            } else if (log.isDebugEnabled()) {
                log.debug("{}: {} -> {} ({})", user, b.texts.get(i), d.node(), d.reason());
            }
            if (node == null) {
                node = d.node();
            } else if (!node.equals(d.node())) {
                mixed = true;
            }
        }
        if (mixed) {
            String p = router.topology().primary();
            if (p == null) {
                throw new NoRouteException("statements of one batch were routed to different nodes and there is no primary");
            }
            return p;
        }
        return node;
    }

    /**
     * {@link #decide} on {@code blocking} (a switchover holds writes: routing may block until it ends, which an
     * event loop must never do); {@code then} gets the node or the error there.
     */
    void decideOffLoop(Batch b, Set<String> held, java.util.concurrent.Executor blocking,
                       java.util.function.BiConsumer<String, RuntimeException> then) {
        blocking.execute(() -> {
            String node = null;
            RuntimeException error = null;
            try {
                node = decide(b, held);
            } catch (RuntimeException e) {
                error = e;
            }
            then.accept(node, error);
        });
    }

    /** Where a batch that runs no statement (Describe, Sync, Close …) goes: wherever the session already is. */
    String anchorNode(Set<String> held) {
        if (session.transactionNode() != null) {
            return session.transactionNode();
        }
        String p = router.topology().primary();
        if (p != null && held.contains(p)) {
            return p;
        }
        if (!held.isEmpty()) {
            return held.iterator().next();
        }
        if (p != null) {
            return p;
        }
        if (!router.topology().readCandidates().isEmpty()) {
            return router.topology().readCandidates().get(0).name();
        }
        throw new NoRouteException("no node is available: " + router.topology().describe());
    }

    /**
     * The cycle ended without an error on {@code ranOn}: the session is told what ran (read-your-writes stamps), and
     * what ran for all the session's connections (SET and friends) goes to {@code held}, which runs it on the others.
     */
    void ran(BackendConnection ranOn, HeldBackends held) {
        for (int i = 0; i < decisions.size(); i++) {
            RouteDecision d = decisions.get(i);
            session.executed(d);
            if (d.allConnections() && texts.get(i) != null) {
                held.sessionStateRan(ranOn, texts.get(i));
            }
        }
    }

    void clear() {
        decisions.clear();
        texts.clear();
    }

    private static String abbreviate(String sql) {
        if (sql == null) {
            return "(function call)";
        }
        String s = sql.replaceAll("\\s+", " ").strip();
        return s.length() <= 90 ? s : s.substring(0, 87) + "...";
    }
}
