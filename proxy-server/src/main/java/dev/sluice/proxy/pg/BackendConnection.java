package dev.sluice.proxy.pg;

import dev.sluice.proxy.net.WriteCoalescer;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One authenticated connection to one node. It belongs to its {@link NodePool} while idle and to one
 * {@link ClientSession} while attached; it remembers what the proxy needs to reuse it safely: the
 * server's parameters, the prepared statements created on it, and the responses the proxy itself asked
 * for and must not pass on (re-issued Parse/Close, replayed session state).
 */
final class BackendConnection extends dev.sluice.proxy.net.PooledConnection {
    private static final Logger log = LoggerFactory.getLogger(BackendConnection.class);

    final dev.sluice.proxy.net.NodePool<BackendConnection> pool;
    private final Map<String, String> startupParams;
    final Map<String, String> params = new HashMap<>();
    /** Statement name → the client's Parse it was created from (identity tells a stale definition). */
    final Map<String, Messages.Parse> prepared = new HashMap<>();
    /** One entry per Parse sent in the current cycle, in order: swallow its ParseComplete? */
    final ArrayDeque<PendingParse> parses = new ArrayDeque<>();
    /** One entry per Close sent in the current cycle: swallow its CloseComplete? */
    final ArrayDeque<Boolean> closes = new ArrayDeque<>();
    /** Replies to queries the proxy sent itself (session-state replay), swallowed up to their ReadyForQuery. */
    int silentCycles;
    char txStatus = 'I';
    int pid;
    int key;

    private final BackendLogin login;
    private final CompletableFuture<BackendConnection> ready = new CompletableFuture<>();
    private Channel channel;
    private WriteCoalescer out;
    private volatile ClientSession owner;
    private ReadLane lane; // set once, on the channel's loop, when this connection becomes a read lane
    private boolean resetting;
    private boolean resetFailed;
    private String fatal;
    private boolean violated;

    record PendingParse(Messages.Parse def, boolean swallow) {
    }

    BackendConnection(dev.sluice.proxy.net.NodePool<BackendConnection> pool, Map<String, String> startupParams, BackendLogin login,
                      long generation) {
        super(pool.node, generation);
        this.pool = pool;
        this.startupParams = startupParams;
        this.login = login;
    }

    @Override
    public CompletableFuture<BackendConnection> ready() {
        return ready;
    }

    @Override
    public Channel channel() {
        return channel;
    }

    @Override
    public boolean usable() {
        return channel != null && channel.isActive() && fatal == null;
    }

    /** Where a session's batch is gathered into one write to this connection (event loop only). */
    WriteCoalescer out() {
        if (out == null) {
            out = new WriteCoalescer(channel);
        }
        return out;
    }

    /** This connection is a read lane from now on (never back in its pool: it closes when the lane retires). */
    ReadLane lane(ReadLanes lanes, int depth, String setup) {
        lane = new ReadLane(this, lanes, depth, setup);
        return lane;
    }

    void attach(ClientSession s) {
        owner = s;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        ctx.writeAndFlush(Pg.startup(ctx.alloc(), startupParams));
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf frame = (ByteBuf) msg;
        if (violated) {
            frame.release(); // what follows garbage in the same read is not to be believed either
            return;
        }
        String garbage = garbage(frame);
        if (garbage != null) {
            frame.release();
            protocolViolation(ctx, garbage);
            return;
        }
        if (!ready.isDone()) {
            try {
                loginStep(ctx, frame);
            } catch (Exception e) {
                ready.completeExceptionally(e);
                ctx.close();
            } finally {
                frame.release();
            }
            return;
        }
        if (lane != null) {
            lane.fromBackend(frame);
            return;
        }
        ClientSession s = owner;
        if (s != null) {
            s.fromBackend(this, frame);
            return;
        }
        try {
            idleMessage(frame);
        } finally {
            frame.release();
        }
    }

    /**
     * Why {@code frame} cannot be from a PostgreSQL server, or null: a type byte no server sends, or a message the
     * proxy reads (ReadyForQuery, BackendKeyData, ErrorResponse, ParameterStatus) too short for its fields. Checked
     * before anyone looks inside, so a broken or hostile server ends its own connection instead of throwing on
     * another thread (a session's event loop) or being relayed to the client as it is.
     */
    static String garbage(ByteBuf frame) {
        int at = frame.readerIndex();
        byte t = frame.getByte(at);
        int len = frame.readableBytes() - 1; // the length field's value (the decoder checked they agree)
        switch (t) {
            case 'Z' -> {
                byte status = len == 5 ? frame.getByte(at + 5) : 0;
                return status == 'I' || status == 'T' || status == 'E' ? null : "a malformed ReadyForQuery (length " + len + ")";
            }
            case 'K' -> {
                return len >= 12 ? null : "a malformed BackendKeyData (length " + len + ")";
            }
            case 'E', 'S' -> {
                try {
                    if (t == 'E') {
                        Messages.ErrorFields.decode(frame);
                    } else {
                        ByteBuf b = frame.duplicate().skipBytes(5);
                        Pg.cstring(b);
                        Pg.cstring(b);
                    }
                    return null;
                } catch (RuntimeException e) {
                    return "a malformed " + (t == 'E' ? "ErrorResponse" : "ParameterStatus") + " (" + e.getMessage() + ")";
                }
            }
            case 'R', 'T', 'D', 'C', 'I', 'N', 'A', '1', '2', '3', 'n', 's', 't', 'G', 'H', 'W', 'd', 'c', 'V', 'v' -> {
                return null;
            }
            default -> {
                return String.format("a message of unknown type 0x%02x", t & 0xff);
            }
        }
    }

    /**
     * The server sent something that is not PostgreSQL's protocol: this connection can never be trusted again (its
     * message boundaries are lost). Closed with the reason kept, which the session's client then sees in its 08006
     * error; a connection's garbage says nothing certain about the node, so it stays in routing (its probes decide).
     */
    private void protocolViolation(ChannelHandlerContext ctx, String what) {
        violated = true;
        String why = "protocol violation: node " + node + " sent " + what;
        log.warn("{}; closing that backend connection", why);
        if (fatal == null) {
            fatal = Pg.PROTOCOL_VIOLATION + " " + why;
        }
        if (!ready.isDone()) {
            ready.completeExceptionally(new IOException(why));
        }
        ctx.close();
    }

    private void loginStep(ChannelHandlerContext ctx, ByteBuf frame) throws Exception {
        byte t = frame.getByte(frame.readerIndex());
        switch (t) {
            case 'R' -> {
                ByteBuf reply = login.answer(ctx.alloc(), Messages.Auth.decode(frame));
                if (reply != null) {
                    ctx.writeAndFlush(reply);
                }
            }
            case 'S' -> {
                ByteBuf b = frame.duplicate().skipBytes(5);
                params.put(Pg.cstring(b), Pg.cstring(b));
            }
            case 'K' -> {
                pid = frame.getInt(frame.readerIndex() + 5);
                key = frame.getInt(frame.readerIndex() + 9);
            }
            case 'E' -> {
                Messages.ErrorFields e = Messages.ErrorFields.decode(frame);
                throw new IOException("node " + node + " refused the login: " + e.sqlState() + " " + e.message());
            }
            case 'Z' -> ready.complete(this);
            default -> { } // NoticeResponse, NegotiateProtocolVersion: nothing to do
        }
    }

    /** A message while nobody owns this connection: the reset's replies, or the server going away. */
    private void idleMessage(ByteBuf frame) {
        byte t = frame.getByte(frame.readerIndex());
        if (t == 'S') {
            parameter(frame);
        } else if (t == 'E') {
            Messages.ErrorFields e = Messages.ErrorFields.decode(frame);
            if (e.severity().equals("FATAL") || e.severity().equals("PANIC")) {
                fatal = e.sqlState() + " " + e.message();
            } else if (resetting) {
                resetFailed = true;
                log.warn("node {}: resetting a backend connection failed: {} {}", node, e.sqlState(), e.message());
            }
        } else if (t == 'Z' && resetting) {
            resetting = false;
            txStatus = (char) frame.getByte(frame.readerIndex() + 5);
            if (resetFailed || txStatus != 'I') {
                channel.close();
            } else {
                pool.release(this);
            }
        }
    }

    /**
     * The client is done with this connection: reset it (DISCARD ALL: session state, prepared statements,
     * temp tables, LISTENs) and give it back to the pool once the server confirms; close it when it is in
     * any state a reset cannot clean (mid-query, in a transaction).
     */
    void resetAndRelease(boolean clean) {
        owner = null;
        if (channel != null) {
            channel.config().setAutoRead(true); // a slow client's session may have paused it
        }
        if (!clean || !usable() || txStatus != 'I' || silentCycles > 0) {
            close();
            return;
        }
        prepared.clear();
        parses.clear();
        closes.clear();
        resetting = true;
        resetFailed = false;
        channel.writeAndFlush(Pg.query(channel.alloc(), "DISCARD ALL"));
    }

    /** A ParameterStatus: the server's current value, kept to decide what a replay must set. */
    void parameter(ByteBuf frame) {
        ByteBuf b = frame.duplicate().skipBytes(5);
        params.put(Pg.cstring(b), Pg.cstring(b));
    }

    /** A reply to what the proxy sent itself (session-state replay): swallowed, failures logged. Releases the frame. */
    void silentReply(ByteBuf frame, byte t, String user) {
        if (t == 'S') {
            parameter(frame);
        } else if (t == 'E') {
            Messages.ErrorFields e = Messages.ErrorFields.decode(frame);
            log.warn("{}: replaying session state on node {} failed: {} {}", user, node, e.sqlState(), e.message());
        } else if (t == 'Z') {
            silentCycles--;
            txStatus = (char) frame.getByte(frame.readerIndex() + 5);
        }
        frame.release();
    }

    /** A reply to a read lane's set-up query: swallowed, a failure logged. Releases the frame. */
    void silentSetupReply(ByteBuf frame, byte t) {
        if (t == 'S') {
            parameter(frame);
        } else if (t == 'E') {
            Messages.ErrorFields e = Messages.ErrorFields.decode(frame);
            log.warn("node {}: setting up a read lane failed: {} {}", node, e.sqlState(), e.message());
        }
        frame.release();
    }

    /** Anything else while attached but idle: parameters are kept, an error noted as fatal. Releases the frame. */
    void unsolicited(ByteBuf frame, byte t) {
        if (t == 'S') {
            parameter(frame);
        } else if (t == 'E') {
            Messages.ErrorFields e = Messages.ErrorFields.decode(frame);
            fatal = e.sqlState() + " " + e.message();
        }
        frame.release();
    }

    /** Records the response of a FATAL error seen while attached (the channel closes right after). */
    void fatal(String why) {
        fatal = why;
    }

    String fatalReason() {
        return fatal;
    }

    @Override
    public void close() {
        owner = null;
        if (channel != null && channel.isOpen()) {
            channel.writeAndFlush(Pg.terminate(channel.alloc())).addListener(f -> channel.close());
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (lane != null) {
            lane.readComplete();
            return;
        }
        ClientSession s = owner;
        if (s != null) {
            s.backendReadComplete(this);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        ClientSession s = owner;
        if (s != null && ctx.channel().isWritable()) {
            s.backendWritable(this);
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        IOException cause = new IOException("connection to node " + node + " closed"
                + (fatal != null ? " (" + fatal + ")" : ""));
        if (!ready.isDone()) {
            ready.completeExceptionally(cause);
        }
        pool.closed(this);
        if (lane != null) {
            lane.lost(cause);
            return;
        }
        ClientSession s = owner;
        owner = null;
        if (s != null) {
            s.backendLost(this, cause);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("node {}: backend connection error: {}", node, cause.toString());
        if (cause instanceof io.netty.handler.codec.TooLongFrameException && fatal == null) {
            // a result bigger than max-message-bytes (a client's SELECT of a huge value) ends this connection, but
            // says nothing about the node: recorded as the reason, so the node's breaker does not open for everyone
            fatal = "54000 " + cause.getMessage();
        } else if (cause instanceof io.netty.handler.codec.CorruptedFrameException && fatal == null) {
            // a length field below 4: protocol garbage (see protocolViolation)
            fatal = Pg.PROTOCOL_VIOLATION + " protocol violation: node " + node + " sent " + cause.getMessage();
            log.warn("{}; closing that backend connection", fatal.substring(6));
        }
        if (!ready.isDone()) {
            ready.completeExceptionally(cause);
        }
        ctx.close();
    }
}
