package dev.sluice.proxy.pg.shard;

import dev.sluice.proxy.pg.BackendLogin;
import dev.sluice.proxy.pg.Messages;
import dev.sluice.proxy.pg.Pg;
import dev.sluice.proxy.pg.PgFrameDecoder;
import dev.sluice.proxy.shard.ShardEndpoints;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One sharded session's connection to one shard's inner proxy, as a PostgreSQL client: it logs in with the internal
 * credentials and the client's own startup settings, then hands every message to its {@link PgShardedSession}. It
 * runs on the client's event loop, so the session never crosses threads. It remembers which of the session's
 * prepared statements it has been sent (a Bind there needs its Parse first), and swallows the replies to what the
 * session sent on its own (session-state replay, a held BEGIN).
 */
final class ShardLink extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(ShardLink.class);

    interface Owner {
        void fromShard(ShardLink link, ByteBuf frame);

        void shardLost(ShardLink link, Throwable cause);

        /** The shard connection's read burst is over: one flush of what went to the client. */
        void shardReadComplete(ShardLink link);
    }

    final int shard;
    final String name;
    private final ShardEndpoints.Shard endpoint;
    private final Map<String, String> startup;
    private final BackendLogin login;
    private final Owner owner;
    /** statement name → the definition this connection was sent (identity tells a redefined name) */
    final Map<String, StatementDef> parsed = new HashMap<>();
    final Map<String, String> params = new HashMap<>();
    /** Replies still to swallow: one per ReadyForQuery of a query the session sent itself. */
    int silentCycles;
    /** ParseComplete / CloseComplete replies still to swallow, in order (the session's own Parse/Close). */
    int swallowParse;
    int swallowClose;
    char txStatus = 'I';
    private int pid;
    private int key;
    private Channel channel;
    private boolean ready;
    private boolean closing;
    private BiConsumer<ShardLink, Throwable> onReady;

    ShardLink(ShardEndpoints endpoints, int shard, Map<String, String> clientStartup, Owner owner) {
        this.shard = shard;
        this.endpoint = endpoints.shard(shard);
        this.name = endpoint.name();
        this.owner = owner;
        Map<String, String> p = new HashMap<>(clientStartup);
        p.remove("replication");
        p.put("user", endpoints.internalUser());
        p.put("database", endpoint.database());
        this.startup = p;
        this.login = new BackendLogin(endpoints.internalUser(), endpoints.internalSecret());
    }

    /** Connects and logs in on {@code loop}; {@code done} is called there with this link or the failure. */
    void connect(EventLoop loop, Class<? extends Channel> type, int maxMessageBytes, BiConsumer<ShardLink, Throwable> done) {
        this.onReady = done;
        new Bootstrap().group(loop).channel(type)
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new PgFrameDecoder(maxMessageBytes, false), ShardLink.this);
                    }
                })
                .connect(endpoint.address()).addListener((ChannelFutureListener) f -> {
                    if (!f.isSuccess()) {
                        fail(new IOException("shard " + name + ": cannot connect to its inner proxy: " + f.cause().getMessage(), f.cause()));
                    }
                });
    }

    private void fail(Throwable t) {
        BiConsumer<ShardLink, Throwable> cb = onReady;
        onReady = null;
        if (cb != null) {
            cb.accept(null, t);
        }
    }

    boolean usable() {
        return ready && channel != null && channel.isActive() && !closing;
    }

    Channel channel() {
        return channel;
    }

    /** Writes without flushing. */
    void write(ByteBuf m) {
        channel.write(m);
    }

    void flush() {
        channel.flush();
    }

    /** Sends a simple query whose replies are swallowed (session-state replay, a held BEGIN); the unnamed statement is gone. */
    void silentQuery(String sql) {
        silentCycles++;
        parsed.remove("");
        channel.write(Pg.query(channel.alloc(), sql));
    }

    void pause(boolean paused) {
        if (channel != null) {
            channel.config().setAutoRead(!paused);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        ctx.writeAndFlush(Pg.startup(ctx.alloc(), startup));
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf frame = (ByteBuf) msg;
        byte t = frame.getByte(frame.readerIndex());
        if (!ready) {
            try {
                loginStep(ctx, frame, t);
            } catch (Exception e) {
                fail(e);
                ctx.close();
            } finally {
                frame.release();
            }
            return;
        }
        if (t == 'S') {
            ByteBuf b = frame.duplicate().skipBytes(5);
            params.put(Pg.cstring(b), Pg.cstring(b));
        }
        if (silentCycles > 0) {
            silent(frame, t);
            return;
        }
        if (t == '1' && swallowParse > 0) {
            swallowParse--;
            frame.release();
            return;
        }
        if (t == '3' && swallowClose > 0) {
            swallowClose--;
            frame.release();
            return;
        }
        if (t == 'Z') {
            txStatus = (char) frame.getByte(frame.readerIndex() + 5);
        }
        owner.fromShard(this, frame);
    }

    private void silent(ByteBuf frame, byte t) {
        try {
            if (t == 'E') {
                Messages.ErrorFields e = Messages.ErrorFields.decode(frame);
                log.warn("shard {}: a statement the sharded session sent itself failed: {} {}", name, e.sqlState(), e.message());
            } else if (t == 'Z') {
                silentCycles--;
                txStatus = (char) frame.getByte(frame.readerIndex() + 5);
            }
        } finally {
            frame.release();
        }
    }

    private void loginStep(ChannelHandlerContext ctx, ByteBuf frame, byte t) throws Exception {
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
                throw new IOException("shard " + name + " refused the session: " + e.sqlState() + " " + e.message());
            }
            case 'Z' -> {
                ready = true;
                BiConsumer<ShardLink, Throwable> cb = onReady;
                onReady = null;
                if (cb != null) {
                    cb.accept(this, null);
                }
            }
            default -> { } // NoticeResponse, NegotiateProtocolVersion
        }
    }

    /** Sends this connection's cancel key to the inner proxy, which cancels what runs for it on the shard's node. */
    void cancel(EventLoop loop, Class<? extends Channel> type) {
        if (!ready) {
            return;
        }
        new Bootstrap().group(loop).channel(type).handler(new ChannelInboundHandlerAdapter())
                .connect(endpoint.address()).addListener((ChannelFutureListener) f -> {
                    if (f.isSuccess()) {
                        f.channel().writeAndFlush(Pg.cancelRequest(f.channel().alloc(), pid, key)).addListener(w -> f.channel().close());
                    } else {
                        log.debug("shard {}: could not send a cancel request: {}", name, f.cause().toString());
                    }
                });
    }

    void close() {
        closing = true;
        if (channel != null && channel.isActive()) {
            channel.writeAndFlush(Pg.terminate(channel.alloc())).addListener(f -> channel.close());
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (ready) {
            owner.shardReadComplete(this);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        IOException cause = new IOException("connection to shard " + name + " closed");
        if (!ready) {
            fail(cause);
            return;
        }
        ready = false;
        if (!closing) {
            owner.shardLost(this, cause);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("shard {}: link error: {}", name, cause.toString());
        if (!ready) {
            fail(cause);
        }
        ctx.close();
    }

    @Override
    public String toString() {
        return "ShardLink[" + name + "]";
    }
}
