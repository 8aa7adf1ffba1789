package dev.sluice.proxy.pg;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The start of every client connection: SSLRequest (TLS if configured), CancelRequest, StartupMessage and
 * authentication. On success it hands the channel to a {@link ClientSession} and leaves the pipeline.
 */
final class PgFrontend extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(PgFrontend.class);

    private final PgProxy proxy;
    private final PgFrameDecoder decoder;
    private ClientAuth auth;
    private String user;
    private java.util.Map<String, String> params;
    private boolean tls;
    private boolean admitted; // counted against max-client-connections until the session takes over
    private java.util.concurrent.ScheduledFuture<?> authTimeout;

    PgFrontend(PgProxy proxy, PgFrameDecoder decoder) {
        this.proxy = proxy;
        this.decoder = decoder;
    }

    /**
     * Starts the authentication clock: without it a client that connects (or sends its startup packet) and then
     * stalls would hold its socket, and its max-client-connections slot, for ever.
     */
    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        authTimeout = ctx.executor().schedule(() -> {
            if (ctx.channel().isActive() && !ctx.isRemoved()) {
                log.info("client {} did not finish authentication within {} ms: disconnected", ctx.channel().remoteAddress(),
                        proxy.authTimeoutMs());
                auth = null;
                // written and closed without waiting for the write: a stalled TLS handshake would never complete it
                ctx.writeAndFlush(Pg.error(ctx.alloc(), "FATAL", Pg.QUERY_CANCELED, "canceling authentication due to timeout"));
                ctx.close();
            }
        }, proxy.authTimeoutMs(), java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (authTimeout != null) {
            authTimeout.cancel(false);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf frame = (ByteBuf) msg;
        try {
            if (auth == null) {
                startup(ctx, frame);
            } else {
                password(ctx, frame);
            }
        } catch (RuntimeException e) {
            refuse(ctx, Pg.PROTOCOL_VIOLATION, "malformed startup: " + e.getMessage());
        } finally {
            frame.release();
        }
    }

    private void startup(ChannelHandlerContext ctx, ByteBuf frame) {
        Messages.Startup s = Messages.Startup.decode(frame);
        switch (s.code()) {
            case Pg.SSL_REQUEST -> {
                if (proxy.sslContext() == null || tls) {
                    ctx.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {'N'}));
                } else {
                    ctx.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {'S'}));
                    // the client sends nothing more until it gets the answer: TLS goes in before the next byte
                    ctx.pipeline().addFirst("tls", proxy.sslContext().newHandler(ctx.alloc()));
                    tls = true;
                }
            }
            case Pg.GSSENC_REQUEST -> ctx.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {'N'}));
            case Pg.CANCEL_REQUEST -> {
                proxy.cancelRequest(s.cancelPid(), s.cancelKey());
                ctx.close();
            }
            default -> {
                if (s.code() >>> 16 != 3) {
                    refuse(ctx, Pg.FEATURE_NOT_SUPPORTED, "unsupported frontend protocol " + (s.code() >>> 16) + "."
                            + (s.code() & 0xffff) + ": Sluice speaks 3.0");
                    return;
                }
                negotiate(ctx, s);
                login(ctx, s);
            }
        }
    }

    /**
     * As PostgreSQL does: a 3.x client newer than 3.0, or one asking for protocol options ({@code _pq_.*}), is told
     * with NegotiateProtocolVersion that this side speaks 3.0 and none of those options, and the login goes on in
     * 3.0 (the client decides whether that is enough for it).
     */
    private static void negotiate(ChannelHandlerContext ctx, Messages.Startup s) {
        java.util.List<String> options = s.params().keySet().stream().filter(k -> k.startsWith("_pq_.")).toList();
        if ((s.code() & 0xffff) == 0 && options.isEmpty()) {
            return;
        }
        ByteBuf b = ctx.alloc().buffer();
        int at = Pg.begin(b, 'v');
        b.writeInt(0); // newest minor version supported for major 3
        b.writeInt(options.size());
        options.forEach(o -> Pg.writeCString(b, o));
        ctx.write(Pg.end(b, at)); // flushed with the authentication request (or the refusal)
    }

    private void login(ChannelHandlerContext ctx, Messages.Startup s) {
        decoder.typed();
        params = s.params();
        user = params.get("user");
        if (user == null || user.isEmpty()) {
            refuse(ctx, Pg.INVALID_AUTHORIZATION, "no user name in the startup message");
            return;
        }
        if (params.containsKey("replication")) {
            refuse(ctx, Pg.FEATURE_NOT_SUPPORTED, "replication connections are not proxied; connect to the nodes directly");
            return;
        }
        String database = params.getOrDefault("database", user);
        if (!database.equals(proxy.database())) {
            refuse(ctx, Pg.INVALID_CATALOG, "database \"" + database + "\" does not exist (this proxy serves \"" + proxy.database() + "\")");
            return;
        }
        if (proxy.tlsRequired() && !tls) {
            refuse(ctx, Pg.INVALID_AUTHORIZATION, "TLS is required (connect with sslmode=require)");
            return;
        }
        long blocked = proxy.authFailures().blockedForMs(source(ctx));
        if (blocked > 0) {
            // checked before any password is looked at: a source that guessed wrong too often gets no more guesses
            // debug: under a password-guessing attack this line would repeat for every attempt (the lock-out itself is a WARN)
            log.debug("login of user {} from {} refused: locked out after failed logins", user, ctx.channel().remoteAddress());
            refuse(ctx, Pg.INVALID_AUTHORIZATION, "too many failed logins from this address; try again in "
                    + Math.max(1, (blocked + 999) / 1000) + " s (auth-failure-limit)");
            return;
        }
        if (!proxy.admission().admit()) {
            refuse(ctx, Pg.TOO_MANY_CONNECTIONS, "sorry, too many clients already (max-client-connections)");
            return;
        }
        admitted = true;
        auth = proxy.newAuth(user);
        ctx.writeAndFlush(auth.start(ctx.alloc()));
        if (auth.done()) {
            established(ctx);
        }
    }

    private void password(ChannelHandlerContext ctx, ByteBuf frame) {
        if (frame.getByte(frame.readerIndex()) != 'p') {
            refuse(ctx, Pg.PROTOCOL_VIOLATION, "expected a password message, got '" + (char) frame.getByte(frame.readerIndex()) + "'");
            return;
        }
        try {
            ctx.writeAndFlush(auth.onPassword(ctx.alloc(), Messages.body(frame)));
        } catch (ClientAuth.Failed e) {
            log.info("authentication failed for user {} from {}: {}", user, ctx.channel().remoteAddress(), e.getMessage());
            if (Pg.INVALID_PASSWORD.equals(e.sqlState) && proxy.authFailures().failed(source(ctx))) {
                log.warn("client address {} had {} failed logins within {} ms: its logins are refused until that window has passed "
                        + "(auth-failure-limit, auth-failure-window-ms)", source(ctx).getHostAddress(), proxy.authFailures().limit(),
                        proxy.authFailures().windowMs());
            }
            refuse(ctx, e.sqlState, e.getMessage());
            return;
        }
        if (auth.done()) {
            established(ctx);
        }
    }

    private static java.net.InetAddress source(ChannelHandlerContext ctx) {
        return ctx.channel().remoteAddress() instanceof java.net.InetSocketAddress a ? a.getAddress() : null;
    }

    private void established(ChannelHandlerContext ctx) {
        admitted = false; // the session counts itself from here
        FrontSession session = proxy.newSession(ctx.channel(), user, params);
        ctx.pipeline().replace(this, "session", session);
        session.start();
    }

    private void refuse(ChannelHandlerContext ctx, String sqlState, String message) {
        auth = null;
        ctx.writeAndFlush(Pg.error(ctx.alloc(), "FATAL", sqlState, message)).addListener(f -> ctx.close());
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof DecoderException && !(cause.getCause() instanceof javax.net.ssl.SSLException)) {
            refuse(ctx, Pg.PROTOCOL_VIOLATION, cause.getMessage());
        } else {
            log.debug("client {} during startup: {}", ctx.channel().remoteAddress(), cause.toString());
            ctx.close();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (admitted) {
            proxy.admission().release();
        }
        ctx.fireChannelInactive();
    }
}
