package dev.sluice.proxy.pg;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One backend connection that many sessions' autocommit reads share (option {@code read-lanes}). Reads that arrive
 * while the lane is busy are gathered and sent together, closed by one Sync: the server runs them one after the other
 * and answers them in one flush, instead of sleeping, waking and flushing once per read. On a machine where proxy,
 * clients and servers share the cores that per-read wake-up and flush is most of a point select's cost on the server
 * (docs/benchmarks.md §5: a standby's backend spent 18 µs per pgbench read this way against 37-45 µs with one
 * connection per session).
 *
 * <p>What makes sharing safe: PostgreSQL answers a connection's messages strictly in order, and only self-contained
 * reads come here ({@link LaneMessages#fits}: outside a transaction, classified READ, no session-changing call, unnamed portals,
 * statements either parsed in the same cycle or known to the proxy). A simple Query is sent as Parse/Bind/Describe/
 * Execute of the unnamed statement (same rows, in text) so that it can share the Sync; its ParseComplete, BindComplete
 * and NoData are swallowed. Each cycle's replies are counted (one per message that has a reply), and when its last has
 * arrived its client gets its own ReadyForQuery ('I'). A client's named prepared statement is created on the lane once
 * under the lane's own name ({@code sluice_<hash of text>_<hash of types>}) and its Bind/Describe are rewritten to it,
 * so two sessions' "P_0" cannot collide. Cycles sent together share one implicit transaction: when one fails, the
 * server skips the rest up to the Sync, so the cycles after it run again (ClientSession#laneSkipped), and the failed
 * one's client gets its error and a ReadyForQuery, as it would alone.
 *
 * <p>The price is head-of-line waiting: a read waits for the reads sent before it on the same lane. A lane takes no
 * new read while {@code read-lane-depth} wait or while its oldest group has run longer than {@link #SLOW_NANOS} (the
 * session then reads on its own connection, as without lanes); a slow query or a client slow to read a big result
 * still delays the reads already sent behind it. Lanes are therefore off by default and meant for short reads.
 * Used on one event loop only (the one its connection and its sessions run on).
 */
final class ReadLane {
    /** A lane whose oldest cycle has run this long takes no new one (it is probably a slow query). */
    static final long SLOW_NANOS = 10_000_000L;
    /** Statements a lane creates before it is retired for a fresh one (bounds the server's memory for them). */
    private static final int MAX_STATEMENTS = 1000;

    /** Groups sent and not yet answered: one being run, one waiting in the server's socket. */
    private static final int GROUPS_IN_FLIGHT = 2;

    /** One session's cycle on the lane. {@code session} null: the lane's own set-up query. */
    private static final class Member {
        final ClientSession session;
        /** Replies still to come that each end one of its messages; at 0 the cycle is over. */
        int replies;
        Messages.Parse clientUnnamed; // the client's unnamed Parse, forgotten if the cycle fails before its ParseComplete
        boolean simple;               // a simple Query sent as Parse/Bind/Describe/Execute: ParseComplete, BindComplete, NoData are not the client's

        Member(ClientSession session) {
            this.session = session;
        }
    }

    /** Cycles sent together and closed by one Sync; replies go to its members in order. */
    private static final class Group {
        final ArrayList<Member> members = new ArrayList<>(4);
        int at;           // the member replies go to now
        boolean setup;    // the lane's set-up query: one simple Query, its own ReadyForQuery ends it
        boolean failed;   // an ErrorResponse ended member `at` (or, at -1, a statement the lane created): the server skips the rest
        long sentNanos;
        /** Statements the lane creates for this group, sent before all its cycles; their ParseCompletes come first. */
        final ArrayList<String> created = new ArrayList<>(0);
        int createdPending; // of those, ParseCompletes still to come
    }

    final BackendConnection conn;
    private final ReadLanes lanes;
    private final int depth;
    private final ArrayDeque<Group> inFlight = new ArrayDeque<>();
    private Group waiting; // gathered in `out`, sent when fewer than GROUPS_IN_FLIGHT are in flight
    private final Map<String, Messages.Parse> statements = new HashMap<>();
    private final List<ClientSession> touched = new ArrayList<>(4);
    /** The waiting group's messages, copied as they come (each cycle is under 8 KiB, see LaneMessages#fits). */
    private ByteBuf gathered;
    /** The statements the waiting group needs the lane to create, written before its messages. */
    private ByteBuf front;
    private boolean retiring;

    ReadLane(BackendConnection conn, ReadLanes lanes, int depth, String setup) {
        this.conn = conn;
        this.lanes = lanes;
        this.depth = depth;
        if (!setup.isEmpty()) {
            Group g = new Group();
            g.setup = true;
            g.members.add(new Member(null));
            g.sentNanos = System.nanoTime();
            inFlight.add(g);
            conn.channel().writeAndFlush(Pg.query(conn.channel().alloc(), setup), conn.channel().voidPromise());
        }
    }

    /** Whether a new cycle may be sent here now; {@code now}: System.nanoTime(). */
    boolean open(long now) {
        if (retiring || !conn.usable()) {
            return false;
        }
        Group oldest = inFlight.peek();
        return (waiting == null || waiting.members.size() < depth) && (oldest == null || now - oldest.sentNanos < SLOW_NANOS);
    }

    /** Cycles sent or waiting to be (for choosing the least busy lane). */
    int inFlight() {
        int n = waiting == null ? 0 : waiting.members.size();
        for (Group g : inFlight) {
            n += g.members.size() - g.at;
        }
        return n;
    }

    /** Whether {@code s}'s cycle is the one the server is running (a cancel would hit it, and nobody else's). */
    boolean running(ClientSession s) {
        Group g = inFlight.peek();
        return g != null && !g.failed && g.at < g.members.size() && g.members.get(g.at).session == s;
    }

    /**
     * Whether every statement {@code b} binds or describes can have its lane name here (false on a hash collision:
     * another text has that name on this lane already).
     */
    boolean accepts(Batch b, PreparedStatements defs) {
        for (Object r : b.decoded) {
            Messages.Parse def = defs.def(LaneMessages.namedStatement(r));
            if (def != null) {
                Messages.Parse here = statements.get(defs.laneName(def));
                if (here != null && here != def && !(here.sql().equals(def.sql()) && Arrays.equals(here.paramTypes(), def.paramTypes()))) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * Sends {@code b} (which {@link LaneMessages#fits} and this lane {@link #accepts}) for {@code s}, taking its messages: at once
     * when fewer than two groups are in flight, else gathered with the other cycles that arrive meanwhile and sent
     * with them, closed by one Sync, when a group ahead finishes.
     */
    void send(ClientSession s, Batch b, PreparedStatements defs) {
        Member m = new Member(s);
        if (waiting == null) {
            waiting = new Group();
        }
        waiting.members.add(m);
        // the statements this lane lacks go before every cycle of the group: after a cycle that fails they would be
        // skipped, and cycles of the next group, sent before that is known, count on them
        for (Object r : b.decoded) {
            Messages.Parse def = defs.def(LaneMessages.namedStatement(r));
            if (def != null) {
                String name = defs.laneName(def);
                if (!statements.containsKey(name)) {
                    if (statements.size() >= MAX_STATEMENTS) {
                        retiring = true; // this cycle still runs; the lane takes no new one and closes when idle
                    }
                    statements.put(name, def);
                    front = append(front, Pg.parse(alloc(), name, def.sql(), def.paramTypes()));
                    waiting.created.add(name);
                    waiting.createdPending++;
                }
            }
        }
        for (int i = 0; i < b.messages.size(); i++) {
            ByteBuf msg = b.messages.get(i);
            Object r = b.decoded.get(i);
            Messages.Parse def = defs.def(LaneMessages.namedStatement(r));
            if (r instanceof Messages.Query q) {
                // as Parse/Bind/Describe/Execute of the unnamed statement: the same rows in text, and it can share a Sync
                msg.release();
                defs.clientQuery();
                m.simple = true;
                if (gathered == null) {
                    gathered = alloc().ioBuffer(256 + 3 * q.sql().length());
                }
                int at = Pg.begin(gathered, 'P'); // Parse of the unnamed statement, no parameter types
                gathered.writeByte(0);
                Pg.writeCString(gathered, q.sql());
                gathered.writeShort(0);
                Pg.end(gathered, at);
                gathered.writeBytes(LaneMessages.SIMPLE_TAIL);
                m.replies += 4;
                continue;
            }
            if (r instanceof Messages.Parse p) {
                m.clientUnnamed = p;
                defs.defined(p);
                gather(msg);
            } else if (def != null && r instanceof Messages.Bind) {
                gather(LaneMessages.renameBind(alloc(), msg, defs.laneName(def)));
            } else if (def != null) {
                msg.release();
                gather(LaneMessages.describeStatement(alloc(), defs.laneName(def)));
            } else if (msg.getByte(msg.readerIndex()) == 'S') {
                msg.release(); // the group's one Sync closes it
                continue;
            } else {
                gather(msg);
            }
            m.replies++;
        }
        b.messages.clear();
        b.decoded.clear();
        if (inFlight.size() < GROUPS_IN_FLIGHT) {
            flushSoon();
        }
    }

    private boolean flushScheduled;

    private ByteBufAllocator alloc() {
        return conn.channel().alloc();
    }

    private void gather(ByteBuf m) {
        gathered = append(gathered, m);
    }

    /** {@code m} copied to the end of {@code to} (allocated when null); releases {@code m}. */
    private ByteBuf append(ByteBuf to, ByteBuf m) {
        if (to == null) {
            to = alloc().ioBuffer(Math.max(256, 2 * m.readableBytes()));
        }
        to.writeBytes(m);
        m.release();
        return to;
    }

    /**
     * Sends the waiting group once the event loop has read what else is ready now: cycles of other sessions that
     * arrived in the same round join it (the loop runs its tasks after each round of reads).
     */
    private void flushSoon() {
        if (!flushScheduled) {
            flushScheduled = true;
            conn.channel().eventLoop().execute(this::flushTask);
        }
    }

    private void flushTask() {
        flushScheduled = false;
        if (waiting != null && inFlight.size() < GROUPS_IN_FLIGHT) {
            sendWaiting();
        }
    }

    private void sendWaiting() {
        Group g = waiting;
        lanes.sent(g.members.size());
        waiting = null;
        gathered.writeBytes(LaneMessages.SYNC);
        Channel ch = conn.channel();
        if (front != null) {
            ch.write(front, ch.voidPromise());
            front = null;
        }
        ch.writeAndFlush(gathered, ch.voidPromise());
        gathered = null;
        g.sentNanos = System.nanoTime();
        inFlight.add(g);
    }

    /** A message from the lane's server (on the loop): to the member whose cycle it answers. Takes the frame. */
    void fromBackend(ByteBuf frame) {
        byte t = frame.getByte(frame.readerIndex());
        Group g = inFlight.peek();
        if (g == null) {
            if (t == 'S' || t == 'E') {
                retiring = true; // a setting changed, or the server is about to end the connection
            }
            conn.unsolicited(frame, t); // a notice between groups; a FATAL before the server closes
            closeIfIdle();
            return;
        }
        if (t == 'Z') {
            groupDone(g, frame);
            return;
        }
        if (g.failed || g.at >= g.members.size()) {
            // (after an error the server sends nothing more than the group's ReadyForQuery, but a notice may come)
            conn.unsolicited(frame, t); // nothing of the group is running (skipped after an error): a notice
            return;
        }
        if (g.createdPending > 0) {
            createdReply(g, frame, t);
            return;
        }
        Member m = g.members.get(g.at);
        if (g.setup) {
            if (t == 'E') {
                retiring = true; // the set-up failed: this lane does not match its sessions
            }
            conn.silentSetupReply(frame, t);
            return;
        }
        boolean ends = false;
        switch (t) {
            case '1' -> {
                m.replies--;
                if (m.simple) {
                    frame.release(); // a converted simple Query's: not the client's
                    endIfDone(g, m);
                    return;
                }
                m.clientUnnamed = null;
                ends = true;
            }
            case '2', 'n' -> {
                m.replies--;
                if (m.simple) {
                    frame.release();
                    endIfDone(g, m);
                    return;
                }
                ends = true;
            }
            case 'T' -> {
                m.replies--;
                ends = true;
            }
            case 'C', 'I', 's' -> {
                m.replies--;
                ends = true;
            }
            case 'E' -> {
                Messages.ErrorFields e = Messages.ErrorFields.decode(frame);
                if (e.severity().equals("FATAL")) {
                    break; // the connection ends: the session hears of it as a lost connection (see lost)
                }
                if (e.sqlState().equals("0A000") || e.sqlState().equals("26000")) {
                    // "cached plan must not change result type" (a table changed under a statement the lane prepared),
                    // or a statement the lane believes it has is missing: its statements cannot be trusted any more, and
                    // a client re-preparing would get the same lane name; a fresh lane prepares everything again
                    retiring = true;
                }
                // the server skips everything up to the group's Sync: the members after this one never ran (they
                // run again, see groupDone)
                if (m.clientUnnamed != null) {
                    m.session.unnamedFailed(m.clientUnnamed);
                }
                g.failed = true;
                m.replies = 0;
                ends = true;
            }
            case 'S' -> retiring = true; // a read changed a reported setting: the lane no longer matches its sessions
            default -> { }
        }
        touch(m.session);
        m.session.fromBackend(conn, frame);
        if (ends) {
            endIfDone(g, m);
        }
    }

    /**
     * A reply to a statement the lane created for group {@code g}: a ParseComplete is swallowed; an error (the text no
     * longer prepares: a table dropped …) means none of the group ran: the statements not completed are forgotten and
     * every cycle of the group runs again (after two such turns on its session's own connection, where the client sees
     * the error itself).
     */
    private void createdReply(Group g, ByteBuf frame, byte t) {
        if (t == '1') {
            g.createdPending--;
        } else if (t == 'E') {
            for (int i = g.created.size() - g.createdPending; i < g.created.size(); i++) {
                statements.remove(g.created.get(i));
            }
            g.createdPending = 0;
            g.failed = true;
            g.at = -1;
        } else {
            conn.unsolicited(frame, t); // a notice
            return;
        }
        frame.release();
    }

    /** Member {@code m} (the current one of {@code g}) got a reply; when it was its last, the client gets its ReadyForQuery. */
    private void endIfDone(Group g, Member m) {
        if (m.replies > 0) {
            return;
        }
        if (!g.failed) {
            g.at++;
        }
        m.session.fromBackend(conn, Pg.readyForQuery(conn.channel().alloc(), 'I'));
    }

    /** The group's ReadyForQuery: members the server skipped after an error run again; the next group goes out. */
    private void groupDone(Group g, ByteBuf frame) {
        inFlight.poll();
        if (g.setup) {
            conn.silentSetupReply(frame, (byte) 'Z');
        } else {
            frame.release();
            int from = g.failed ? g.at + 1 : g.at;
            for (int i = from; i < g.members.size(); i++) {
                g.members.get(i).session.laneSkipped(conn);
            }
        }
        if (waiting != null) {
            flushSoon(); // (a retiring lane still runs what it took)
        }
        closeIfIdle();
    }

    private void touch(ClientSession s) {
        if (touched.isEmpty() || touched.get(touched.size() - 1) != s) {
            touched.add(s);
        }
    }

    /** The end of one read from the server: what each session got in it (short of a ReadyForQuery) goes out now. */
    void readComplete() {
        for (int i = 0; i < touched.size(); i++) {
            touched.get(i).backendReadComplete(conn);
        }
        touched.clear();
    }

    /** The connection closed: every session with a cycle here loses it (a read that got no answer yet runs again). */
    void lost(Throwable cause) {
        retiring = true;
        for (ByteBuf b : new ByteBuf[] {gathered, front}) {
            if (b != null) {
                b.release();
            }
        }
        gathered = null;
        front = null;
        lanes.remove(this);
        if (waiting != null) {
            inFlight.add(waiting);
            waiting = null;
        }
        Group g;
        while ((g = inFlight.poll()) != null) {
            for (int i = g.failed ? g.at + 1 : g.at; i < g.members.size(); i++) {
                Member m = g.members.get(i);
                if (m.session != null) {
                    m.session.backendLost(conn, cause);
                }
            }
        }
    }

    private void closeIfIdle() {
        if (retiring && inFlight.isEmpty() && waiting == null) {
            lanes.remove(this);
            conn.close();
        }
    }
}
