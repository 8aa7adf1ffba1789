package dev.sluice.proxy.pg;

import dev.sluice.core.route.NoRouteException;
import dev.sluice.core.route.Router;
import dev.sluice.core.route.Session;
import dev.sluice.proxy.net.ClientErrors;
import dev.sluice.proxy.net.WriteCoalescer;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One authenticated client. Its messages are collected into {@link Batch}es, each routed by router-core
 * (the same {@link Session} rules as the driver) and relayed to one backend connection, whose replies are
 * relayed back as they are — only a few message types are looked inside. One batch is on a backend at a
 * time: the next waits for its ReadyForQuery, which also carries the transaction status (I/T/E) that keeps
 * a transaction on its node. Everything here runs on the client channel's event loop; backend events from
 * another loop hop over first. The replies themselves go through {@link ReplyRelay}, a COPY FROM STDIN's data
 * through {@link CopyInStream}, and {@link HeldBackends} keeps the session's backends (one per node) alike; this
 * class orders the cycles.
 */
final class ClientSession extends FrontSession {
    private static final Logger log = LoggerFactory.getLogger(ClientSession.class);
    private static final int MAX_QUEUED = 16;

    private final PgProxy proxy;
    private final Channel client;
    private final Router router;
    private final Session session;
    private final SessionState state;
    private final PreparedStatements statements = new PreparedStatements();
    private final Map<String, String> portals = new HashMap<>();
    private final BatchBuilder batches;
    private final HeldBackends held;
    private final ArrayDeque<Batch> queue = new ArrayDeque<>();
    private final BatchRouting routing;
    private final PgReplyCache replies;
    final String user;

    private BackendConnection active;
    private boolean openCycle;     // the batch on `active` ended with Flush: the cycle continues there
    private boolean busy;          // routing or acquiring a backend asynchronously
    private long cycleStartNanos; // for the latency histogram: one nanoTime at each end of a cycle
    private boolean discardUntilSync;
    private boolean closed;
    private char txStatus = 'I';
    private String txLost;
    private final ReadAgain readAgain = new ReadAgain(); // the cycle, kept to run elsewhere if its node dies before answering
    private final CopyInStream copyIn = new CopyInStream();
    private final ReplyRelay relay;
    private final SessionLanes lanes;

    ClientSession(PgProxy proxy, Channel client, String user, Map<String, String> startupParams, int cancelPid, int cancelKey) {
        super(cancelPid, cancelKey);
        this.proxy = proxy;
        this.client = client;
        this.router = proxy.router();
        this.session = router.newSession();
        this.state = new SessionState(startupParams);
        this.user = user;
        this.batches = new BatchBuilder(router, statements, portals);
        this.routing = new BatchRouting(router, session, user, proxy.logRoutes());
        this.replies = new PgReplyCache(router, session, user, state.startupSettings(), statements);
        this.held = new HeldBackends(state, replies, user);
        this.relay = new ReplyRelay(client, statements, readAgain, replies, copyIn);
        this.lanes = new SessionLanes(proxy, session, state, statements, client.eventLoop());
    }

    /** Authentication is done: tell the client the server's parameters, its cancel key, and that it may talk. */
    @Override
    public void start() {
        Map<String, String> params = proxy.serverParams();
        if (params != null) {
            welcome(params);
            return;
        }
        // nobody has logged in to a backend yet: do so now, and keep that connection for this session
        busy = true;
        proxy.acquireAny(client.eventLoop(), (c, err) -> onLoop(() -> {
            busy = false;
            if (err != null) {
                fatal(Pg.CANNOT_CONNECT, err.getMessage());
            } else if (closed) {
                c.resetAndRelease(true);
            } else {
                attach(c);
                proxy.rememberServerParams(c.params);
                welcome(c.params);
            }
        }));
    }

    private void welcome(Map<String, String> serverParams) {
        relay.writeOut();
        state.reported(serverParams).forEach((k, v) -> client.write(Pg.parameterStatus(client.alloc(), k, v)));
        client.write(Pg.backendKeyData(client.alloc(), cancelPid, cancelKey));
        client.writeAndFlush(Pg.readyForQuery(client.alloc(), 'I'));
        drain();
    }

    // ---- client → proxy ----

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf frame = (ByteBuf) msg;
        if (closed) {
            frame.release();
            return;
        }
        byte t = frame.getByte(frame.readerIndex());
        if (copyIn.copying() && active != null && (t == 'd' || t == 'c' || t == 'f')) {
            if (copyIn.forward(active.channel(), frame, t)) {
                updateAutoRead();
            }
            return;
        }
        switch (t) {
            case 'X' -> {
                frame.release();
                client.close();
                return;
            }
            case 'd', 'c', 'f' -> { // after a failed COPY the client may still stream: ignored, as PostgreSQL does
                frame.release();
                return;
            }
            default -> { }
        }
        Batch done;
        try {
            done = batches.accept(frame, t);
        } catch (RuntimeException e) {
            frame.release();
            protocolError(e instanceof BatchBuilder.UnknownMessage ? e.getMessage() : "malformed message '" + (char) t + "': " + e.getMessage());
            return;
        }
        if (done != null) {
            queue.add(done);
            drain();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        copyIn.readComplete(active);
    }

    /** Sends queued batches while the backend side allows; pauses reading from the client when it does not. */
    private void drain() {
        while (!busy && !closed && !queue.isEmpty()) {
            if (active != null && !openCycle) {
                break; // wait for ReadyForQuery
            }
            Batch b = queue.poll();
            if (discardUntilSync) {
                b.release();
                if (b.endsCycle) {
                    discardUntilSync = false;
                    relay.writeOut();
                    client.writeAndFlush(Pg.readyForQuery(client.alloc(), txStatus));
                }
                continue;
            }
            if (active != null) {
                try {
                    routing.decide(b, held.nodes()); // the session still sees each statement (BEGIN, SET …); the node is the cycle's
                } catch (NoRouteException ignored) {
                    // the cycle continues on its backend regardless
                }
                send(b, active);
            } else if (txLost != null) {
                String why = txLost;
                txLost = null;
                fail(b, Pg.CONNECTION_FAILURE, why);
            } else {
                route(b);
            }
        }
        updateAutoRead();
    }

    /** Reads from the client while neither the queue is full nor a COPY's backend is behind. */
    private void updateAutoRead() {
        client.config().setAutoRead(queue.size() < MAX_QUEUED && !copyIn.paused());
    }

    /** The backend's socket took its pending bytes (writability changed): a paused COPY reads the client again. */
    void backendWritable(BackendConnection be) {
        if (!client.eventLoop().inEventLoop()) {
            client.eventLoop().execute(() -> backendWritable(be));
            return;
        }
        if (copyIn.backendWritable(be, active)) {
            updateAutoRead();
        }
    }

    private void route(Batch b) {
        relay.writeOut(); // a cached answer must not overtake what was relayed before it
        if (!b.retried && replies.serve(b, client)) {
            return; // answered from the read cache
        }
        if (router.writesHeld()) {
            // a switchover holds writes: routing may block until it ends, which an event loop must never do
            busy = true;
            routing.decideOffLoop(b, held.nodes(), proxy.blocking(), (n, err) -> onLoop(() -> {
                busy = false;
                if (err != null) {
                    fail(b, Pg.CANNOT_CONNECT, err.getMessage());
                } else {
                    routed(b, n);
                }
                drain();
            }));
            return;
        }
        String node;
        try {
            node = routing.decide(b, held.nodes());
        } catch (NoRouteException e) {
            fail(b, Pg.CANNOT_CONNECT, e.getMessage());
            return;
        }
        routed(b, node);
    }

    private void routed(Batch b, String routedTo) {
        String p = router.topology().primary();
        // routed back to where it just could not get a connection: the primary serves any read
        String node = routedTo.equals(b.failedOn) && p != null ? p : routedTo;
        ReadLane lane = lanes.take(b, node, txStatus);
        if (lane != null) {
            cycleStarts(b, lane.conn);
            active = lane.conn;
            lane.send(this, b, statements);
            return;
        }
        BackendConnection be = held.usable(node);
        if (be != null) {
            send(b, be);
            return;
        }
        busy = true;
        proxy.pool(node).acquire(client.eventLoop(), (c, err) -> onLoop(() -> {
            busy = false;
            if (closed) {
                b.release();
                if (c != null) {
                    c.resetAndRelease(true);
                }
                return;
            }
            if (err != null) {
                proxy.backendFailed(node, err);
                routing.clear();
                if (!b.retried && b.onlyReads() && !session.inTransaction()) {
                    b.retried = true; // a read may go elsewhere: a refused node is out of routing now, and a
                    b.failedOn = node; // slow or full one is avoided for this read (see routed)
                    route(b);
                } else {
                    fail(b, Pg.CONNECTION_FAILURE, err.getMessage());
                }
            } else {
                attach(c);
                send(b, c);
            }
            drain();
        }));
    }

    private void attach(BackendConnection c) {
        c.attach(this);
        held.add(c);
    }

    private void send(Batch b, BackendConnection be) {
        if (active == null) {
            cycleStarts(b, be);
        }
        active = be;
        openCycle = !b.endsCycle;
        WriteCoalescer out = be.out(); // the batch (Bind/Execute/Sync …) goes out as one write
        for (int i = 0; i < b.messages.size(); i++) {
            ByteBuf m = b.messages.get(i);
            statements.beforeRelay(be, m, b.decoded.get(i), out, portals);
            out.add(m);
        }
        b.messages.clear();
        b.decoded.clear();
        out.write();
        be.channel().flush();
    }

    private void cycleStarts(Batch b, BackendConnection be) {
        router.started(be.node);
        cycleStartNanos = System.nanoTime();
        relay.cycleStarts();
        readAgain.cycleStarts(b, be.node, txStatus, session.inTransaction(), router.topology().primary(), lanes.active(),
                log.isDebugEnabled());
    }

    /**
     * The read lane {@code be} skipped this session's cycle (another cycle sent with it failed, and the server skipped
     * the rest of the group): it runs again, as if it had just arrived.
     */
    void laneSkipped(BackendConnection be) {
        if (closed || active != be) {
            return;
        }
        Batch again = readAgain.take(); // always kept for a lane's cycle, and a skipped one got no answer yet
        if (again == null) {
            backendLost(be, new java.io.IOException("the read was skipped on its read lane and cannot run again"));
            return;
        }
        again.laneSkips++;
        runAgain(again, be);
    }

    /** The cycle on {@code be} is over without an answer: {@code again}, its copy, runs as if it had just arrived. */
    private void runAgain(Batch again, BackendConnection be) {
        active = null;
        lanes.ended();
        router.finished(be.node);
        routing.clear();
        queue.addFirst(again);
        drain();
    }

    /** The client's unnamed Parse failed on a read lane. */
    void unnamedFailed(Messages.Parse p) {
        statements.failed(p);
    }

    // ---- backend → client ----

    void fromBackend(BackendConnection be, ByteBuf frame) {
        if (!client.eventLoop().inEventLoop()) {
            client.eventLoop().execute(() -> fromBackend(be, frame));
            return;
        }
        byte t = frame.getByte(frame.readerIndex());
        if (closed) {
            frame.release();
            return;
        }
        if (be.silentCycles > 0) {
            be.silentReply(frame, t, user);
            return;
        }
        if (be != active) {
            relay.idle(be, frame, t);
            return;
        }
        char status = relay.relay(be, frame, t);
        if (status != 0) {
            cycleDone(be, status);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (client.isWritable()) {
            held.resumeReading();
            lanes.resume();
        }
        ctx.fireChannelWritabilityChanged();
    }

    void backendReadComplete(BackendConnection be) {
        if (!client.eventLoop().inEventLoop()) {
            client.eventLoop().execute(() -> backendReadComplete(be)); // behind the hopped fromBackend calls
            return;
        }
        relay.writeOut();
        client.flush();
    }

    private void cycleDone(BackendConnection be, char status) {
        active = null;
        lanes.ended();
        readAgain.drop();
        openCycle = false;
        copyIn.ended();
        router.finished(be.node);
        proxy.cycleTimer().record(be.node, System.nanoTime() - cycleStartNanos);
        boolean errorInCycle = relay.errorInCycle();
        if (!errorInCycle) {
            routing.ran(be, held);
        }
        replies.cycleDone(be.node, status, errorInCycle, routing.decisions, routing.texts);
        routing.clear();
        txStatus = status;
        if (status == 'I' && session.inTransaction()) {
            session.endTransaction(!errorInCycle);
        } else if (status != 'I' && !session.inTransaction()) {
            session.transactionStarted(be.node);
        }
        drain();
    }

    /** A backend connection of this session died (node down, killed, network). */
    void backendLost(BackendConnection be, Throwable cause) {
        if (!client.eventLoop().inEventLoop()) {
            client.eventLoop().execute(() -> backendLost(be, cause));
            return;
        }
        held.lost(be);
        proxy.backendLost(be, cause);
        if (closed) {
            return;
        }
        boolean txHere = be.node.equals(session.transactionNode());
        Batch again = be == active ? readAgain.take() : null;
        if (again != null) {
            // an autocommit read (or a prepare) whose node died before the client got any of its answer: run it
            // again wherever routing sends it now (the lost node is out of routing), as if it had just arrived
            log.debug("{}: connection to node {} lost before it answered a read; running the read again: {}", user, be.node,
                    cause.getMessage());
            runAgain(again, be);
            return;
        }
        if (be == active) {
            log.debug("{}: connection to node {} lost mid-cycle, not run again: {}", user, be.node, readAgain.whyNot());
            active = null;
            lanes.ended();
            copyIn.ended(); // the client's auto-read is updated by drain() below
            router.finished(be.node);
            routing.clear();
            String why = "connection to node " + be.node + " lost: " + cause.getMessage()
                    + (txHere || txStatus != 'I' ? "; the transaction was rolled back" : "");
            if (session.inTransaction()) {
                session.endTransaction(false);
            }
            txStatus = 'I';
            boolean cycleEnds = !openCycle; // else the client will still send Sync: answered then
            openCycle = false;
            error(Pg.CONNECTION_FAILURE, why, cycleEnds);
            drain();
        } else if (txHere) {
            session.endTransaction(false);
            txStatus = 'I';
            txLost = "connection to node " + be.node + " lost while a transaction was open on it; the transaction was rolled back";
        }
    }

    // ---- errors, cancel, close ----

    private void fail(Batch b, String sqlState, String message) {
        b.release();
        routing.clear();
        error(sqlState, message, b.endsCycle);
    }

    /** The cycle failed: the error, then ReadyForQuery now ({@code cycleEnds}) or at the client's Sync still to come. */
    private void error(String sqlState, String message, boolean cycleEnds) {
        relay.writeOut();
        client.write(Pg.error(client.alloc(), "ERROR", sqlState, message));
        if (cycleEnds) {
            client.writeAndFlush(Pg.readyForQuery(client.alloc(), txStatus));
        } else {
            discardUntilSync = true;
            client.flush();
        }
    }

    private void protocolError(String message) {
        log.info("{}: closing client {}: {}", user, client.remoteAddress(), message);
        fatal(Pg.PROTOCOL_VIOLATION, message);
    }

    private void fatal(String sqlState, String message) {
        relay.writeOut();
        client.writeAndFlush(Pg.error(client.alloc(), "FATAL", sqlState, message)).addListener(f -> client.close());
    }

    /** A CancelRequest with this session's key arrived (on another connection). */
    @Override
    public void cancel() {
        onLoop(() -> {
            BackendConnection be = active;
            if (be != null && lanes.mayCancel(this)) {
                proxy.cancel(be); // on a lane only while the server runs this session's read: never someone else's
            }
        });
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ClientErrors.exceptionCaught(ctx, cause, log, user, this::protocolError);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closed = true;
        proxy.sessionClosed(this);
        relay.release();
        batches.release();
        queue.forEach(Batch::release);
        queue.clear();
        readAgain.drop();
        if (active != null && lanes.mayCancel(this)) {
            // the client left mid-statement: stop the statement now rather than when it next writes a row, so
            // its locks go and its transaction rolls back at once (closing alone is seen only at the next write)
            proxy.cancel(active);
        }
        held.releaseAll(active, openCycle); // a lane is not held: its cycle runs on, the replies are dropped
        if (active != null) {
            router.finished(active.node);
            active = null;
        }
    }

    private void onLoop(Runnable r) {
        if (client.eventLoop().inEventLoop()) {
            r.run();
        } else {
            client.eventLoop().execute(r);
        }
    }
}
