package dev.sluice.proxy.mysql;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connection phase with one client: greeting, optional TLS upgrade, authentication against the configured
 * users ({@link MyClientAuth}). On success it hands the channel to a {@link MySession} and leaves the pipeline.
 * The greeting shows the backends' own version string, since drivers choose dialect features by it.
 */
final class MyFrontend extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(MyFrontend.class);

    private final MySqlProxy proxy;
    private final MyFrameDecoder decoder;
    private final int id;
    private MyClientAuth auth;
    private Handshake.Response response;
    private boolean tls;
    private boolean admitted;
    private boolean done;
    private java.util.concurrent.ScheduledFuture<?> authTimeout;

    MyFrontend(MySqlProxy proxy, MyFrameDecoder decoder) {
        this.proxy = proxy;
        this.decoder = decoder;
        this.id = proxy.newConnectionId();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        authTimeout = ctx.executor().schedule(() -> {
            if (!done) {
                log.info("client {} did not finish authentication within {} ms: disconnected", ctx.channel().remoteAddress(),
                        proxy.authTimeoutMs());
                refuse(ctx, 0, My.ER_HANDSHAKE, "08S01", "Bad handshake: authentication timed out");
            }
        }, proxy.authTimeoutMs(), java.util.concurrent.TimeUnit.MILLISECONDS);
        if (!proxy.admission().admit()) {
            refuse(ctx, 0, My.ER_CON_COUNT, "08004", "Too many connections (max-client-connections)");
            return;
        }
        admitted = true;
        long blocked = proxy.authFailures().blockedForMs(source(ctx));
        if (blocked > 0) {
            // before any password is looked at: a source that guessed wrong too often gets no more guesses
            refuse(ctx, 0, My.ER_ACCESS_DENIED, "28000", "Too many failed logins from this address; try again in "
                    + Math.max(1, (blocked + 999) / 1000) + " s (auth-failure-limit)");
            return;
        }
        if (proxy.serverVersion() != null) {
            greet(ctx);
            return;
        }
        if (proxy.sessions() != null) {
            proxy.sessions().serverInfo(proxy, ctx.channel().eventLoop(), (version, caps) -> ctx.executor().execute(() -> {
                proxy.learned(version, caps);
                if (ctx.channel().isActive()) {
                    greet(ctx);
                }
            }), err -> ctx.executor().execute(() -> {
                if (ctx.channel().isActive()) {
                    refuse(ctx, 0, My.ER_CANNOT_CONNECT, "08001", "Sluice cannot reach any shard: " + err.getMessage());
                }
            }));
            return;
        }
        // no backend login yet: learn the server's version and capabilities first, so the greeting can show them
        proxy.acquireAny(new MySqlProxy.PoolKey(My.RELAY_CAPS & My.SERVER_CAPS, My.DEFAULT_COLLATION), ctx.channel().eventLoop(),
                (c, err) -> ctx.executor().execute(() -> {
                    if (c != null) {
                        c.resetAndRelease(true);
                    }
                    if (!ctx.channel().isActive()) {
                        return;
                    }
                    if (err != null) {
                        refuse(ctx, 0, My.ER_CANNOT_CONNECT, "08001", "Sluice cannot reach any node: " + err.getMessage());
                    } else {
                        greet(ctx);
                    }
                }));
    }

    /** The client's SSLRequest was taken and TLS put in front (MyTlsStart): the next packet comes encrypted. */
    void tlsStarted() {
        tls = true;
    }

    private void greet(ChannelHandlerContext ctx) {
        auth = proxy.newAuth(source(ctx) == null ? "unknown" : source(ctx).getHostAddress());
        int caps = (My.SERVER_CAPS & (proxy.serverCaps() | My.CONNECT_ATTRS | My.PLUGIN_AUTH_LENENC))
                | (proxy.sslContext() != null ? My.SSL : 0);
        ctx.writeAndFlush(new Handshake.Greeting(proxy.serverVersion(), id, auth.scramble(), caps, My.DEFAULT_COLLATION,
                My.STATUS_AUTOCOMMIT, auth.greetingPlugin()).encode(ctx.alloc()));
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf frame = (ByteBuf) msg;
        try {
            if (auth == null || done) {
                return; // refused or finishing: nothing more is read
            }
            int seq = My.seq(frame);
            MyClientAuth.Step step;
            if (response == null) {
                Handshake.Response r = Handshake.Response.decode(frame);
                if (r.sslRequest()) {
                    // with a certificate configured, MyTlsStart takes the request off the raw stream before this
                    refuse(ctx, seq + 1, My.ER_HANDSHAKE, "08S01", "Bad handshake: SSL requested but not offered");
                    return;
                }
                if (proxy.tlsRequired() && !tls) {
                    refuse(ctx, seq + 1, My.ER_ACCESS_DENIED, "28000", "Access denied for user '" + r.user()
                            + "': this proxy requires TLS (tls-required); connect with --ssl / sslMode=REQUIRED");
                    return;
                }
                if (r.database() != null && !r.database().equals(proxy.database())) {
                    // the session may USE another database later; the login one is checked by the backend at first use
                    log.debug("client {} logs in to database {}", ctx.channel().remoteAddress(), r.database());
                }
                response = r;
                step = auth.start(r.user(), (r.caps() & My.PLUGIN_AUTH) != 0 ? r.plugin() : null, r.authResponse(), tls);
            } else {
                step = auth.next(ByteBufUtil.getBytes(frame, frame.readerIndex() + 4, My.payloadLength(frame)));
            }
            next(ctx, step, seq + 1);
        } catch (RuntimeException e) {
            refuse(ctx, My.seq(frame) + 1, My.ER_HANDSHAKE, "08S01", "Bad handshake: " + e.getMessage());
        } finally {
            frame.release();
        }
    }

    private void next(ChannelHandlerContext ctx, MyClientAuth.Step step, int seq) {
        if (step instanceof MyClientAuth.Step.Send s) {
            ctx.writeAndFlush(My.packet(ctx.alloc(), seq, s.payload()));
        } else if (step instanceof MyClientAuth.Step.Fail f) {
            log.info("authentication failed for user {} from {}: {}", response.user(), ctx.channel().remoteAddress(), f.message());
            if (f.errno() == My.ER_ACCESS_DENIED && proxy.authFailures().failed(source(ctx))) {
                log.warn("client address {} had {} failed logins within {} ms: its logins are refused until that window has passed "
                        + "(auth-failure-limit, auth-failure-window-ms)", source(ctx).getHostAddress(), proxy.authFailures().limit(),
                        proxy.authFailures().windowMs());
            }
            refuse(ctx, seq, f.errno(), f.sqlState(), f.message());
        } else if (step instanceof MyClientAuth.Step.Ok ok) {
            if (ok.before() != null) {
                ctx.write(My.packet(ctx.alloc(), seq++, ok.before()));
            }
            established(ctx, ok.user(), seq);
        }
    }

    private void established(ChannelHandlerContext ctx, String user, int seq) {
        done = true;
        authTimeout.cancel(false);
        admitted = false; // the session counts itself from here
        decoder.handshakeDone();
        int caps = response.caps() & (My.SERVER_CAPS | My.SSL);
        if (proxy.sessions() != null) {
            ctx.pipeline().replace(this, "session", proxy.sessions().open(proxy, ctx.channel(), id, user, caps, response.collation(),
                    response.database() != null ? response.database() : proxy.database()));
            ctx.writeAndFlush(My.ok(ctx.alloc(), seq, 0, My.STATUS_AUTOCOMMIT));
            return;
        }
        MySession session = new MySession(proxy, ctx.channel(), id, user, caps, response.collation(),
                response.database() != null ? response.database() : proxy.database());
        proxy.register(session);
        ctx.pipeline().replace(this, "session", session);
        ctx.writeAndFlush(My.ok(ctx.alloc(), seq, 0, My.STATUS_AUTOCOMMIT));
    }

    private static InetAddress source(ChannelHandlerContext ctx) {
        return ctx.channel().remoteAddress() instanceof InetSocketAddress a ? a.getAddress() : null;
    }

    private void refuse(ChannelHandlerContext ctx, int seq, int code, String sqlState, String message) {
        done = true;
        if (authTimeout != null) {
            authTimeout.cancel(false);
        }
        ctx.writeAndFlush(My.err(ctx.alloc(), seq, code, sqlState, message)).addListener(f -> ctx.close());
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof DecoderException && !(cause.getCause() instanceof javax.net.ssl.SSLException)) {
            refuse(ctx, 0, My.ER_HANDSHAKE, "08S01", "Bad handshake: " + cause.getMessage());
        } else {
            log.debug("client {} during the handshake: {}", ctx.channel().remoteAddress(), cause.toString());
            ctx.close();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (authTimeout != null) {
            authTimeout.cancel(false);
        }
        if (admitted) {
            proxy.admission().release();
        }
        ctx.fireChannelInactive();
    }
}
