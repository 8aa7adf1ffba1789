package dev.sluice.proxy.mysql;

import dev.sluice.proxy.net.NodePool;
import dev.sluice.proxy.net.PooledConnection;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One logged-in connection to one MySQL/MariaDB node, for clients that negotiated the same reply-shaping
 * flags ({@link My#RELAY_CAPS}) and collation. Replies are matched to the commands sent, in order: those of
 * commands the proxy sent itself (session-state replay, re-prepares, the reset before reuse) are swallowed
 * here; the rest go to the owning {@link MySession} packet by packet.
 */
final class MyBackend extends PooledConnection {
    private static final Logger log = LoggerFactory.getLogger(MyBackend.class);

    /** A command sent whose reply is still to come. {@code done} runs when a swallowed reply ends. */
    record Pending(ReplyTracker.Kind kind, boolean silent, Consumer<ReplyTracker> done) {
        /** One per kind for the client's own commands (relayed, no callback): nothing allocated per statement. */
        private static final Pending[] RELAYED = java.util.Arrays.stream(ReplyTracker.Kind.values())
                .map(k -> new Pending(k, false, null)).toArray(Pending[]::new);

        static Pending of(ReplyTracker.Kind kind, boolean silent, Consumer<ReplyTracker> done) {
            return !silent && done == null ? RELAYED[kind.ordinal()] : new Pending(kind, silent, done);
        }
    }

    final NodePool<MyBackend> pool;
    final int caps;
    final int collation;
    /** Client statement id → this connection's statement id. */
    final Map<Integer, Long> statements = new HashMap<>();
    /** Client statements whose parameter types this connection has been sent. */
    final Set<Integer> typesSent = new HashSet<>();
    final ReplyTracker tracker;
    String database;
    long threadId;
    String serverVersion;
    int serverCaps;
    int status = My.STATUS_AUTOCOMMIT;

    private final MyBackendLogin login;
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    private final CompletableFuture<MyBackend> ready = new CompletableFuture<>();
    private Channel channel;
    private volatile MySession owner;
    private String fatal;

    MyBackend(NodePool<MyBackend> pool, long generation, int caps, int collation, MyBackendLogin login) {
        super(pool.node, generation);
        this.pool = pool;
        this.caps = caps;
        this.collation = collation;
        this.login = login;
        this.tracker = new ReplyTracker(caps);
        this.database = login.database();
    }

    @Override
    public CompletableFuture<MyBackend> ready() {
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

    void attach(MySession s) {
        owner = s;
    }

    String fatalReason() {
        return fatal;
    }

    boolean idle() {
        return pending.isEmpty();
    }

    /**
     * Sends a command; its reply is relayed to the owner, or swallowed when {@code silent}. Does not flush (a
     * flush from the caller's thread runs after this write: Netty keeps one thread's tasks in order).
     */
    void send(ByteBuf command, ReplyTracker.Kind kind, boolean silent, Consumer<ReplyTracker> done) {
        if (!channel.eventLoop().inEventLoop()) {
            // the reply bookkeeping belongs to this connection's thread (a session on another loop got it from a full pool)
            channel.eventLoop().execute(() -> send(command, kind, silent, done));
            return;
        }
        if (kind != null) {
            boolean wasIdle = pending.isEmpty();
            pending.add(Pending.of(kind, silent, done));
            if (wasIdle) {
                tracker.start(kind);
            }
        }
        channel.write(command);
    }

    Pending head() {
        return pending.peek();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        channel = ctx.channel();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf frame = (ByteBuf) msg;
        if (!ready.isDone()) {
            try {
                ByteBuf reply = login.step(ctx.alloc(), frame, this);
                if (reply != null) {
                    ctx.writeAndFlush(reply);
                }
                if (login.done()) {
                    ready.complete(this);
                }
            } catch (Exception e) {
                ready.completeExceptionally(e instanceof IOException ? e : new IOException("node " + node + ": login failed: " + e.getMessage(), e));
                ctx.close();
            } finally {
                frame.release();
            }
            return;
        }
        Pending p = pending.peek();
        if (p == null) {
            unsolicited(frame);
            return;
        }
        boolean end;
        try {
            end = tracker.accept(frame);
        } catch (RuntimeException e) {
            frame.release();
            fatal = "protocol error from the node: " + e.getMessage();
            log.warn("node {}: {}", node, fatal);
            ctx.close();
            return;
        }
        if (end) {
            pending.poll();
            if (tracker.status >= 0) {
                status = tracker.status;
            }
        }
        if (p.silent()) {
            frame.release();
        } else {
            MySession s = owner;
            if (s == null) {
                frame.release();
            } else {
                s.fromBackend(this, frame, end);
            }
        }
        if (end) {
            if (p.silent() && p.done() != null) {
                p.done().accept(tracker);
            } else if (p.silent() && tracker.error != null) {
                MySession s = owner;
                log.warn("{}node {}: a command the proxy sent itself failed: {}", s == null ? "" : s.user + ": ", node, tracker.error);
            }
            Pending next = pending.peek();
            if (next != null) {
                tracker.start(next.kind());
            }
        }
    }

    /** A packet with no command outstanding: the server is closing this connection (an ERR before it goes). */
    private void unsolicited(ByteBuf frame) {
        try {
            if (My.first(frame) == 0xff) {
                fatal = My.Err.decode(frame).toString();
                log.info("node {}: server ended a backend connection: {}", node, fatal);
            } else {
                log.warn("node {}: unexpected packet with no command outstanding: {}", node,
                        ByteBufUtil.hexDump(frame, frame.readerIndex(), Math.min(32, frame.readableBytes())));
                fatal = "unexpected packet";
            }
        } finally {
            frame.release();
        }
        channel.close();
    }

    /**
     * The client is done with this connection: COM_RESET_CONNECTION (session variables, temporary tables,
     * prepared statements, user locks, an open transaction rolled back) and back to the pool once the server
     * confirms; closed instead when it is mid-reply or broken.
     */
    void resetAndRelease(boolean clean) {
        owner = null;
        if (channel != null && !channel.eventLoop().inEventLoop()) {
            channel.eventLoop().execute(() -> resetAndRelease(clean));
            return;
        }
        if (!clean || !usable() || !pending.isEmpty()) {
            close();
            return;
        }
        statements.clear();
        typesSent.clear();
        send(My.command(channel.alloc(), My.COM_RESET_CONNECTION), ReplyTracker.Kind.SIMPLE, true, t -> {
            if (t.error != null) {
                log.warn("node {}: resetting a backend connection failed: {}", node, t.error);
                channel.close();
            } else {
                pool.release(this);
            }
        });
        channel.flush();
    }

    @Override
    public void close() {
        owner = null;
        if (channel != null && channel.isOpen()) {
            channel.writeAndFlush(My.command(channel.alloc(), My.COM_QUIT)).addListener(f -> channel.close());
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        MySession s = owner;
        if (s != null) {
            s.backendReadComplete();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        IOException cause = new IOException("connection to node " + node + " closed" + (fatal != null ? " (" + fatal + ")" : ""));
        if (!ready.isDone()) {
            ready.completeExceptionally(cause);
        }
        pool.closed(this);
        MySession s = owner;
        owner = null;
        if (s != null) {
            s.backendLost(this, cause);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("node {}: backend connection error: {}", node, cause.toString());
        if (cause instanceof io.netty.handler.codec.TooLongFrameException && fatal == null) {
            fatal = "reply larger than max-message-bytes: " + cause.getMessage(); // says nothing about the node
        }
        if (!ready.isDone()) {
            ready.completeExceptionally(cause);
        }
        ctx.close();
    }
}
