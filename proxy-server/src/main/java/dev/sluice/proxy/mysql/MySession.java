package dev.sluice.proxy.mysql;

import dev.sluice.core.route.NoRouteException;
import dev.sluice.core.route.RouteDecision;
import dev.sluice.core.route.Router;
import dev.sluice.core.route.Session;
import dev.sluice.core.sql.Classification;
import dev.sluice.core.sql.StatementKind;
import dev.sluice.proxy.net.ClientErrors;
import dev.sluice.proxy.net.WriteCoalescer;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One authenticated MySQL client. Its commands run one at a time (the protocol has no pipelining a server
 * promises to keep apart): each is routed by router-core's {@link Session} — the same rules as the driver —
 * and relayed to one backend connection, whose reply packets are relayed back untouched except for prepared
 * statement ids. The reply's final status flags say whether a transaction is open, which keeps it on its
 * node. Everything runs on the client channel's event loop; backend events from another loop hop over first.
 * Relayed packets are gathered ({@link WriteCoalescer}) and reach the client's pipeline as one write at the end
 * of a backend read or of the reply; every other write to the client writes what is gathered first.
 */
final class MySession extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(MySession.class);
    private static final Logger routes = LoggerFactory.getLogger("dev.sluice.routes");
    private static final int MAX_QUEUED = 16;

    final int id;
    String user;
    private final MySqlProxy proxy;
    private final Channel client;
    /** The relayed reply packets not yet written to {@link #client}. */
    private final WriteCoalescer toClient;
    private final Router router;
    private final Session session;
    private final int caps;
    private MySqlProxy.PoolKey poolKey;
    private final MyState state;
    private final MyStatements statements = new MyStatements();
    private final Map<String, MyBackend> held = new HashMap<>(4);
    private final ArrayDeque<ByteBuf> queue = new ArrayDeque<>();
    private final MyCommands commands;

    /** The command whose reply is being relayed, and what to do when it ends. */
    private MyBackend active;
    private MyCommands.Running running;
    private boolean busy;     // routing or acquiring a backend asynchronously
    private boolean infile;   // the client is sending a LOAD DATA LOCAL file to `active`
    private boolean closed;
    private int lastSeq;
    private long cycleStart;
    private String txLost;
    /** The running command, when it is an autocommit read on a replica: run again elsewhere if the replica dies first. */
    private ByteBuf resend;
    /** The client's statement id of {@link #resend} when it is an execute (the id in the packet is rewritten on the way). */
    private int resendStmtId;

    MySession(MySqlProxy proxy, Channel client, int id, String user, int caps, int collation, String database) {
        this.proxy = proxy;
        this.client = client;
        this.toClient = new WriteCoalescer(client);
        this.id = id;
        this.user = user;
        this.router = proxy.router();
        this.session = router.newSession();
        this.caps = caps;
        this.poolKey = new MySqlProxy.PoolKey(caps & My.RELAY_CAPS, collation);
        this.state = new MyState(database);
        this.commands = new MyCommands(this, router, session, statements, state);
    }

    // ---- client → proxy ----

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf frame = (ByteBuf) msg;
        if (closed) {
            frame.release();
            return;
        }
        if (commands.changeUser.active()) {
            commands.changeUser.packet(frame);
            return;
        }
        if (infile && active != null) {
            boolean last = My.payloadLength(frame) == 0;
            active.channel().write(frame); // LOAD DATA LOCAL contents stream straight to the backend running it
            if (last) {
                infile = false;
                active.tracker.infileSent();
                active.channel().flush();
            }
            return;
        }
        queue.add(frame);
        drain();
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (infile && active != null) {
            active.channel().flush();
        }
    }

    /** Runs queued commands while no reply is outstanding; pauses reading from the client when many wait. */
    void drain() {
        while (!busy && !closed && active == null && !queue.isEmpty() && !commands.changeUser.active()) {
            ByteBuf cmd = queue.poll();
            if (My.payloadLength(cmd) == My.MAX_PAYLOAD) {
                cmd.release();
                protocolError("commands over 16 MB (split packets) are not supported by the proxy");
                return;
            }
            if (txLost != null && My.first(cmd) != My.COM_QUIT && My.first(cmd) != My.COM_STMT_CLOSE) {
                String why = txLost;
                txLost = null;
                cmd.release();
                error(1, My.ER_CONNECTION_LOST, "08S01", why);
                continue;
            }
            try {
                commands.handle(cmd);
            } catch (NoRouteException e) {
                error(1, My.ER_CANNOT_CONNECT, "08001", e.getMessage());
            } catch (RuntimeException e) {
                log.info("{}: malformed command from {}: {}", user, client.remoteAddress(), e.toString());
                protocolError("malformed command: " + e.getMessage());
                return;
            }
        }
        boolean read = queue.size() < MAX_QUEUED;
        if (client.config().isAutoRead() != read) {
            client.config().setAutoRead(read); // only on a change: it is an atomic swap, and this runs for every command
        }
    }

    // ---- for MyCommands ----

    Channel client() {
        return client;
    }

    MySqlProxy proxy() {
        return proxy;
    }

    int caps() {
        return caps;
    }

    /** The client's connection is TLS. */
    boolean secure() {
        return (caps & My.SSL) != 0;
    }

    String clientHost() {
        return client.remoteAddress() instanceof java.net.InetSocketAddress a ? a.getAddress().getHostAddress() : "unknown";
    }

    /** COM_CHANGE_USER succeeded (the session was reset): another user, maybe another character set. */
    void changedUser(String newUser, int collation) {
        user = newUser;
        if (collation > 0) {
            poolKey = new MySqlProxy.PoolKey(poolKey.caps(), collation & 0xff);
        }
    }

    /** The reply-shaping capabilities and collation this client's backend connections are pooled by. */
    MySqlProxy.PoolKey poolKey() {
        return poolKey;
    }

    Map<String, MyBackend> held() {
        return held;
    }

    boolean closed() {
        return closed;
    }

    void setBusy(boolean b) {
        busy = b;
    }

    /** Logs a routing decision (every one at INFO when the demo asks for it). */
    void logRoute(RouteDecision d, String text) {
        if (proxy.logRoutes()) {
            routes.info("{} -> {}  [{}]  {}", user, d.node(), d.reason(), abbreviate(text));
        } else if (log.isDebugEnabled()) {
            log.debug("{}: {} -> {} ({})", user, text, d.node(), d.reason());
        }
    }

    /** The usable connection to {@code node} this session holds, or null. */
    MyBackend heldUsable(String node) {
        MyBackend be = held.get(node);
        return be != null && be.usable() ? be : null;
    }

    /**
     * Runs {@code then} with a logged-in connection to {@code node}: one the session holds, or a new one from the
     * pool brought up to the session's state (database, SETs). A failure goes to {@code failed}.
     */
    void withBackend(String node, java.util.function.Consumer<MyBackend> then, java.util.function.Consumer<Throwable> failed) {
        MyBackend be = held.get(node);
        if (be != null && be.usable()) {
            then.accept(be);
            return;
        }
        if (be != null) {
            held.remove(node);
            be.resetAndRelease(false);
        }
        busy = true;
        proxy.pool(poolKey, node).acquire(client.eventLoop(), (c, err) -> onLoop(() -> {
            busy = false;
            if (closed) {
                if (c != null) {
                    c.resetAndRelease(true);
                }
                return;
            }
            if (err != null) {
                proxy.backendFailed(node, err);
                failed.accept(err);
            } else {
                proxy.learned(c);
                c.attach(this);
                held.put(node, c);
                state.bringUp(c);
                then.accept(c);
            }
            drain();
        }));
    }

    /** Sends a client command whose reply is relayed; {@code r} says what to do when it ends. */
    void run(MyBackend be, ByteBuf cmd, ReplyTracker.Kind kind, MyCommands.Running r) {
        active = be;
        running = r;
        lastSeq = My.seq(cmd);
        if (r.startsCycle()) {
            router.started(be.node);
            cycleStart = System.nanoTime();
        }
        be.send(cmd, kind, false, null);
        be.channel().flush();
    }

    /** An ERR the proxy answers a command with itself. */
    void error(int seq, int code, String sqlState, String message) {
        writeAndFlush(My.err(client.alloc(), seq, code, sqlState, message));
    }

    /** An OK the proxy answers a command with itself, with the session's real status flags. */
    void ok(int seq) {
        writeAndFlush(My.ok(client.alloc(), seq, 0, statusFlags()));
    }

    /** Writes (no flush) a packet of the proxy's own after the relayed ones gathered so far: it overtakes none. */
    void write(ByteBuf packet) {
        toClient.write();
        client.write(packet);
    }

    /** {@link #write} and flush. */
    ChannelFuture writeAndFlush(ByteBuf packet) {
        toClient.write();
        return client.writeAndFlush(packet);
    }

    int statusFlags() {
        return (session.inTransaction() ? My.STATUS_IN_TRANS : 0) | (session.autoCommit() ? My.STATUS_AUTOCOMMIT : 0);
    }

    // ---- backend → client ----

    void fromBackend(MyBackend be, ByteBuf frame, boolean end) {
        if (!client.eventLoop().inEventLoop()) {
            ReplyTracker.Outcome o = end ? be.tracker.outcome() : null;
            client.eventLoop().execute(() -> relay(be, frame, o));
            return;
        }
        relay(be, frame, end ? be.tracker.outcome() : null);
    }

    private void relay(MyBackend be, ByteBuf frame, ReplyTracker.Outcome end) {
        if (closed || be != active) {
            frame.release();
            return;
        }
        dropResend(); // the server has started answering: no running it again from here on
        lastSeq = My.seq(frame);
        running.onPacket(frame);
        toClient.add(frame); // released here; a full gathered buffer is written, so the check below sees a big result
        if (!client.isWritable()) {
            // the client reads slower than the server sends (a big result): stop reading this backend until the
            // client's socket drains (channelWritabilityChanged), so the server waits instead of the proxy buffering
            be.channel().config().setAutoRead(false);
        }
        if (be.tracker.awaitingInfile()) {
            infile = true;
            toClient.write();
            client.flush();
        }
        if (end != null) {
            toClient.write();
            client.flush();
            active = null;
            MyCommands.Running r = running;
            running = null;
            if (r.startsCycle()) {
                router.finished(be.node);
                proxy.cycleTimer().record(be.node, System.nanoTime() - cycleStart);
            }
            r.done(be, end);
            drain();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (client.isWritable()) {
            held.values().forEach(be -> be.channel().config().setAutoRead(true));
        }
        ctx.fireChannelWritabilityChanged();
    }

    /**
     * Keeps the command about to run: an autocommit read on a replica, safe to run again. Not a copy: a second
     * reference to the same bytes, which nothing changes but an execute's statement id (put back on a resend).
     */
    void keepForResend(ByteBuf cmd) {
        dropResend();
        resend = cmd.retainedDuplicate();
        if (My.first(cmd) == My.COM_STMT_EXECUTE) {
            resendStmtId = cmd.getIntLE(cmd.readerIndex() + 5);
        }
    }

    private void dropResend() {
        if (resend != null) {
            resend.release();
            resend = null;
        }
    }

    void backendReadComplete() {
        if (!client.eventLoop().inEventLoop()) {
            client.eventLoop().execute(this::backendReadComplete); // behind the hopped fromBackend calls
            return;
        }
        toClient.write();
        client.flush();
    }

    /** A backend connection of this session died (node down, killed, network). */
    void backendLost(MyBackend be, Throwable cause) {
        if (!client.eventLoop().inEventLoop()) {
            client.eventLoop().execute(() -> backendLost(be, cause));
            return;
        }
        if (held.get(be.node) == be) {
            held.remove(be.node);
        }
        boolean nodeGone = proxy.backendLost(be, cause);
        if (closed) {
            return;
        }
        boolean txHere = be.node.equals(session.transactionNode());
        if (txHere) {
            session.endTransaction(false);
        }
        if (be == active && resend != null && !nodeGone) {
            // the node is still in routing (it sent garbage, or an ERR before closing): running the read again would
            // send it back there, and round again; the client gets the error instead
            dropResend();
        }
        if (be == active && resend != null) {
            // an autocommit read whose replica died before sending a byte of its answer: run it again wherever
            // routing sends it now (the lost node is out of routing), as if it had just arrived
            log.debug("{}: connection to node {} lost before it answered a read; running the read again", user, be.node);
            active = null;
            running = null;
            router.finished(be.node);
            if (My.first(resend) == My.COM_STMT_EXECUTE) {
                resend.setIntLE(resend.readerIndex() + 5, resendStmtId); // the backend's id was written over the client's
            }
            queue.addFirst(resend);
            resend = null;
            drain();
            return;
        }
        if (be == active) {
            active = null;
            infile = false;
            MyCommands.Running r = running;
            running = null;
            if (r != null && r.startsCycle()) {
                router.finished(be.node);
            }
            error(lastSeq + 1, My.ER_CONNECTION_LOST, "08S01", "Lost connection to node " + be.node + ": " + cause.getMessage()
                    + (txHere ? "; the transaction was rolled back" : ""));
            drain();
        } else if (txHere) {
            txLost = "Lost connection to node " + be.node + " while a transaction was open on it; the transaction was rolled back";
        }
    }

    // ---- errors, close ----

    void protocolError(String message) {
        protocolError(My.ER_HANDSHAKE, message);
    }

    void protocolError(int code, String message) {
        log.info("{}: closing client {}: {}", user, client.remoteAddress(), message);
        writeAndFlush(My.err(client.alloc(), lastSeq + 1, code, "08S01", message)).addListener(f -> client.close());
        closed = true;
    }

    /** KILL QUERY from another client: stop what this session runs now. */
    void killQuery() {
        onLoop(() -> {
            if (active != null) {
                proxy.killQuery(active);
            }
        });
    }

    /** KILL (CONNECTION) from another client. */
    void kill() {
        onLoop(() -> {
            killQuery();
            client.close();
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
        toClient.release();
        queue.forEach(ByteBuf::release);
        queue.clear();
        dropResend();
        statements.clear();
        if (active != null) {
            // the client left mid-statement: stop it now, so its locks go and its transaction rolls back at once
            proxy.killQuery(active);
            router.finished(active.node);
        }
        for (MyBackend be : held.values()) {
            be.resetAndRelease(be != active);
        }
        held.clear();
        active = null;
    }

    void onLoop(Runnable r) {
        if (client.eventLoop().inEventLoop()) {
            r.run();
        } else {
            client.eventLoop().execute(r);
        }
    }

    static String abbreviate(String sql) {
        if (sql == null) {
            return "(command)";
        }
        String s = sql.replaceAll("\\s+", " ").strip();
        return s.length() <= 90 ? s : s.substring(0, 87) + "...";
    }

    static boolean isRead(Classification c) {
        return c.kind() == StatementKind.READ;
    }
}
