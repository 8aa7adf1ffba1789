package dev.sluice.proxy.pg;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The backend connections one {@link ClientSession} holds, at most one per node, kept for its later cycles there,
 * and the session state (startup settings, SET …) they must agree on: replayed on each connection as it joins, run
 * on the others when a cycle changes it (and made part of the read cache's keys). Kept apart from the session,
 * whose concern is the order of cycles, because keeping several connections alike is a concern of its own. One per
 * session, used on its event loop only.
 */
final class HeldBackends {
    private static final Logger log = LoggerFactory.getLogger(HeldBackends.class);

    private final Map<String, BackendConnection> held = new HashMap<>(4);
    private final SessionState state;
    private final PgReplyCache replies;
    private final String user;

    HeldBackends(SessionState state, PgReplyCache replies, String user) {
        this.state = state;
        this.replies = replies;
        this.user = user;
    }

    /** The nodes the session has connections to (for routing: a transaction or a read may stay on one). */
    Set<String> nodes() {
        return held.keySet();
    }

    /** The held connection to {@code node} if it can run a cycle; one that cannot is dropped (null then). */
    BackendConnection usable(String node) {
        BackendConnection be = held.get(node);
        if (be != null && be.usable()) {
            return be;
        }
        if (be != null) {
            held.remove(node);
            be.resetAndRelease(false);
        }
        return null;
    }

    /** {@code c}, just attached to the session, is held from now on; the session's state is replayed on it first. */
    void add(BackendConnection c) {
        held.put(c.node, c);
        String replay = state.replaySql(c.params);
        if (!replay.isEmpty()) {
            c.silentCycles++;
            c.channel().write(Pg.query(c.channel().alloc(), replay));
        }
    }

    /** SET and friends ran on one backend: run them on the session's others too, and replay them on later ones. */
    void sessionStateRan(BackendConnection ranOn, String sql) {
        if (!state.record(sql)) {
            log.warn("{}: more than 500 distinct session-state statements; not replaying: {}", user, sql);
        }
        replies.sessionState(sql);
        for (BackendConnection other : held.values()) {
            if (other != ranOn && other.usable()) {
                other.silentCycles++;
                other.channel().writeAndFlush(Pg.query(other.channel().alloc(), sql));
            }
        }
    }

    /** {@code be} died: no longer held (a newer connection to its node, if any, stays). */
    void lost(BackendConnection be) {
        if (held.get(be.node) == be) {
            held.remove(be.node);
        }
    }

    /** The client's socket drained: every held backend is read again (see ReplyRelay's backpressure). */
    void resumeReading() {
        held.values().forEach(be -> be.channel().config().setAutoRead(true));
    }

    /**
     * The client left: each connection goes back to its pool, reset (or closed when dirty) — closed for
     * {@code active} and for every connection when the cycle was left open mid-way ({@code openCycle}).
     */
    void releaseAll(BackendConnection active, boolean openCycle) {
        for (BackendConnection be : held.values()) {
            be.resetAndRelease(be != active && !openCycle);
        }
        held.clear();
    }
}
