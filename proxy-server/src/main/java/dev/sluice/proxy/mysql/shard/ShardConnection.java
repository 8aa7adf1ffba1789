package dev.sluice.proxy.mysql.shard;

import dev.sluice.proxy.mysql.Handshake;
import dev.sluice.proxy.mysql.My;
import dev.sluice.proxy.mysql.MyBackendAuth;
import dev.sluice.proxy.mysql.MyFrameDecoder;
import dev.sluice.proxy.mysql.ReplyTracker;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import java.io.IOException;
import java.net.InetSocketAddress;
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
 * One sharded session's connection to one shard's inner proxy: a MySQL protocol client on the session's own
 * event loop (so no state is shared across threads). It logs in with the internal user, then sends commands
 * and hands each reply's packets, in order, to the {@link Reply} given with the command.
 */
final class ShardConnection extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(ShardConnection.class);

    /** Takes the packets of one reply (it owns each frame); returns true at the reply's last packet. */
    interface Reply {
        boolean packet(ShardConnection c, ByteBuf frame);

        /** The connection died before the reply ended. */
        default void lost(ShardConnection c, Throwable cause) {
        }
    }

    final int shard;
    final String name;
    final int caps;
    /** Session statement id → this connection's statement id, for the statement's own text and its scatter text. */
    final Map<Integer, Long> statements = new HashMap<>();
    final Map<Integer, Long> scatterStatements = new HashMap<>();
    /** Statements this connection has been sent parameter types for. */
    final Set<Integer> typesSent = new HashSet<>();
    /** Status flags of the last reply that carried them. */
    int status = My.STATUS_AUTOCOMMIT;
    long connectionId;
    String serverVersion;
    int serverCaps;

    private final String user;
    private final String secret;
    private final int collation;
    private final CompletableFuture<ShardConnection> ready = new CompletableFuture<>();
    private final ArrayDeque<Reply> pending = new ArrayDeque<>();
    private final Consumer<ShardConnection> onLost;
    private MyBackendAuth auth;
    private Channel channel;
    private String fatal;

    private ShardConnection(int shard, String name, String user, String secret, int caps, int collation, Consumer<ShardConnection> onLost) {
        this.shard = shard;
        this.name = name;
        this.user = user;
        this.secret = secret;
        this.caps = caps;
        this.collation = collation;
        this.onLost = onLost;
    }

    /** Connects and logs in; the future completes on the loop once the inner proxy said OK. */
    static CompletableFuture<ShardConnection> open(EventLoop loop, Class<? extends Channel> type, InetSocketAddress address, int shard,
                                                   String name, String user, String secret, int caps, int collation,
                                                   int maxMessageBytes, int connectTimeoutMs, Consumer<ShardConnection> onLost) {
        ShardConnection c = new ShardConnection(shard, name, user, secret, caps, collation, onLost);
        new Bootstrap().group(loop).channel(type)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMs)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new MyFrameDecoder(maxMessageBytes), c);
                    }
                })
                .connect(address).addListener(f -> {
                    if (!f.isSuccess()) {
                        c.ready.completeExceptionally(new IOException("shard " + name + ": cannot connect to its proxy at " + address
                                + ": " + f.cause().getMessage(), f.cause()));
                    }
                });
        return c.ready;
    }

    Channel channel() {
        return channel;
    }

    boolean usable() {
        return channel != null && channel.isActive() && fatal == null && ready.isDone() && !ready.isCompletedExceptionally();
    }

    boolean idle() {
        return pending.isEmpty();
    }

    /** Sends a command whose reply goes to {@code reply} (null: the command has no reply). Does not flush. */
    void send(ByteBuf command, Reply reply) {
        if (reply != null) {
            pending.add(reply);
        }
        channel.write(command);
    }

    void flush() {
        channel.flush();
    }

    /** A reply that is read to its end and dropped; {@code done} gets what it said (status, error) at the end. */
    Reply swallow(ReplyTracker.Kind kind, Consumer<ReplyTracker.Outcome> done) {
        ReplyTracker t = new ReplyTracker(caps);
        t.start(kind);
        return new Reply() {
            @Override
            public boolean packet(ShardConnection c, ByteBuf frame) {
                boolean end;
                try {
                    end = t.accept(frame);
                } finally {
                    frame.release();
                }
                if (end) {
                    ReplyTracker.Outcome o = t.outcome();
                    if (o.status() >= 0) {
                        status = o.status();
                    }
                    if (done != null) {
                        done.accept(o);
                    } else if (o.error() != null) {
                        log.warn("shard {}: a command the sharded session sent itself failed: {}", name, o.error());
                    }
                }
                return end;
            }
        };
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
                login(ctx, frame);
            } catch (Exception e) {
                ready.completeExceptionally(e instanceof IOException ? e : new IOException("shard " + name + ": login to its proxy failed: "
                        + e.getMessage(), e));
                ctx.close();
            } finally {
                frame.release();
            }
            return;
        }
        Reply r = pending.peek();
        if (log.isTraceEnabled()) {
            log.trace("shard {}: packet seq {} header 0x{} length {}, {} replies pending", name, My.seq(frame),
                    Integer.toHexString(My.first(frame)), My.payloadLength(frame), pending.size());
        }
        if (r == null) {
            unsolicited(frame);
            return;
        }
        boolean end;
        try {
            end = r.packet(this, frame);
        } catch (RuntimeException e) {
            fatal = "protocol error from shard " + name + ": " + e.getMessage();
            log.warn("{}", fatal, e);
            ctx.close();
            return;
        }
        if (end) {
            pending.poll();
        }
    }

    private void login(ChannelHandlerContext ctx, ByteBuf frame) throws IOException {
        int seq = My.seq(frame);
        if (auth == null) {
            Handshake.Greeting g;
            try {
                g = Handshake.Greeting.decode(frame);
            } catch (IllegalArgumentException e) {
                throw new IOException("shard " + name + ": " + e.getMessage(), e);
            }
            connectionId = g.connectionId();
            serverVersion = g.serverVersion();
            serverCaps = g.caps();
            auth = new MyBackendAuth("shard " + name, secret, false);
            ctx.writeAndFlush(auth.response(ctx.alloc(), seq + 1, g, caps, collation, user, null));
            return;
        }
        int h = My.first(frame);
        if (h == 0x00) {
            ready.complete(this);
            return;
        }
        if (h == 0xff) {
            throw new IOException("shard " + name + ": its proxy refused the internal login: " + My.Err.decode(frame));
        }
        byte[] reply = auth.next(ByteBufUtil.getBytes(frame, frame.readerIndex() + 4, My.payloadLength(frame)));
        if (reply != null) {
            ctx.writeAndFlush(My.packet(ctx.alloc(), seq + 1, reply));
        }
    }

    private void unsolicited(ByteBuf frame) {
        try {
            fatal = My.first(frame) == 0xff ? My.Err.decode(frame).toString() : "unexpected packet";
            log.info("shard {}: its proxy ended the connection: {}", name, fatal);
        } finally {
            frame.release();
        }
        channel.close();
    }

    void close() {
        if (channel != null && channel.isOpen()) {
            channel.writeAndFlush(My.command(channel.alloc(), My.COM_QUIT)).addListener(f -> channel.close());
        }
    }

    /** Runs after each batch of packets read (the session flushes what it relayed to its client). */
    Runnable readComplete = () -> { };

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        readComplete.run();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        IOException cause = new IOException("connection to shard " + name + " closed" + (fatal != null ? " (" + fatal + ")" : ""));
        if (!ready.isDone()) {
            ready.completeExceptionally(cause);
            return;
        }
        Reply[] left = pending.toArray(new Reply[0]);
        pending.clear();
        for (Reply r : left) {
            r.lost(this, cause);
        }
        onLost.accept(this);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("shard {}: connection error: {}", name, cause.toString());
        if (!ready.isDone()) {
            ready.completeExceptionally(cause);
        }
        ctx.close();
    }

    @Override
    public String toString() {
        return "shard " + name + " (inner connection " + connectionId + ")";
    }
}
