package dev.sluice.proxy.net;

import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.util.concurrent.CompletableFuture;

/**
 * What a {@link NodePool} needs of a backend connection, whatever its protocol: its node, the node's
 * generation when it was opened (a connection older than the node's last DOWN is never reused), and
 * whether it is still fit to hand out. The protocol subclass is also the channel's last handler.
 */
public abstract class PooledConnection extends ChannelInboundHandlerAdapter {
    public final String node;
    public final long generation;
    /** Guarded by the pool's lock: the pool counted this connection's slot free already. */
    boolean slotFreed;

    protected PooledConnection(String node, long generation) {
        this.node = node;
        this.generation = generation;
    }

    /** Completes when the login is done (or failed); the pool hands the connection out then. */
    public abstract CompletableFuture<?> ready();

    /** Null until connected. */
    public abstract Channel channel();

    /** Open, logged in, and not known to be broken. */
    public abstract boolean usable();

    /** Ends the connection (politely where the protocol has a goodbye); its pool slot frees when the channel closes. */
    public abstract void close();
}
