package dev.sluice.proxy.pg;

import dev.sluice.core.route.Session;
import io.netty.channel.EventLoop;
import java.util.Map;

/**
 * One {@link ClientSession}'s use of the proxy's {@link ReadLanes}: whether a batch may go on a lane at all (outside a
 * transaction, not pinned, the server's parameters known), which lane, and the lane its current cycle runs on. Kept
 * apart from the session, whose concern is the order of cycles. Used on the session's event loop only.
 */
final class SessionLanes {
    private final ReadLanes lanes; // null: read-lanes off
    private final PgProxy proxy;
    private final Session session;
    private final SessionState state;
    private final PreparedStatements statements;
    private final EventLoop loop;
    private ReadLane current; // the lane running the session's cycle, or null
    private ReadLane last;    // the last lane used: a slow client paused it (ReplyRelay), its writability resumes it

    SessionLanes(PgProxy proxy, Session session, SessionState state, PreparedStatements statements, EventLoop loop) {
        this.lanes = proxy.readLanes();
        this.proxy = proxy;
        this.session = session;
        this.state = state;
        this.statements = statements;
        this.loop = loop;
    }

    /**
     * The lane that runs {@code b} (routed to {@code node}, the session's transaction status {@code txStatus}) from now
     * on, or null: lanes off, the session in a transaction or pinned, or no lane takes the batch now.
     */
    ReadLane take(Batch b, String node, char txStatus) {
        Map<String, String> fresh = proxy.serverParams();
        if (lanes == null || txStatus != 'I' || session.inTransaction() || session.pinnedBy() != null || fresh == null) {
            return null;
        }
        ReadLane l = lanes.laneFor(b, node, state.laneKey(fresh), statements, loop);
        if (l != null) {
            current = l;
            last = l;
        }
        return l;
    }

    /** Whether the session's current cycle runs on a lane. */
    boolean active() {
        return current != null;
    }

    /** The session's cycle ended (or left its lane). */
    void ended() {
        current = null;
    }

    /** Whether a cancel of {@code s}'s cycle may go to the server: on a lane only while it runs this session's read. */
    boolean mayCancel(ClientSession s) {
        return current == null || current.running(s);
    }

    /** The client's socket drained: the lane its replies paused reads again. */
    void resume() {
        if (last != null) {
            last.conn.channel().config().setAutoRead(true);
        }
    }
}
