package dev.sluice.proxy.pg;

import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * An authenticated client's session, the handler {@link PgFrontend} hands the channel to after login: the
 * single-cluster {@link ClientSession}, or a sharded session (dev.sluice.proxy.pg.shard) that a
 * {@link PgProxy.SessionFactory} makes. Each has the cancel key the client was given.
 */
public abstract class FrontSession extends ChannelInboundHandlerAdapter {
    final int cancelPid;
    final int cancelKey;

    protected FrontSession(int cancelPid, int cancelKey) {
        this.cancelPid = cancelPid;
        this.cancelKey = cancelKey;
    }

    /** Authentication is done: welcome the client (ParameterStatus, BackendKeyData, ReadyForQuery). */
    public abstract void start();

    /** A CancelRequest with this session's key arrived (on another connection); may be called from any thread. */
    public abstract void cancel();

    public final int cancelPid() {
        return cancelPid;
    }

    public final int cancelKey() {
        return cancelKey;
    }
}
