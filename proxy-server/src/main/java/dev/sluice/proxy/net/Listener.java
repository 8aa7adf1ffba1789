package dev.sluice.proxy.net;

import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A proxy's listening socket and the event loops it serves clients on: its own, or a group shared with other proxies
 * (which it then leaves running when it stops).
 */
public final class Listener {
    private final Transport transport;
    private final EventLoopGroup group;
    private final boolean ownGroup;
    private final Channel server;

    /**
     * Binds {@code address}; every accepted channel gets its pipeline from {@code initClient}.
     *
     * @param sharedGroup event loops to run on (from {@link Transport#newGroup}, not shut down here), or null for
     *                    {@code threads} loops of this listener's own
     */
    public Listener(Transport transport, EventLoopGroup sharedGroup, int threads, InetSocketAddress address,
                    Consumer<SocketChannel> initClient) throws InterruptedException {
        this.transport = transport;
        this.ownGroup = sharedGroup == null;
        this.group = ownGroup ? transport.newGroup(threads) : sharedGroup;
        try {
            this.server = transport.serverBootstrap(group)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            initClient.accept(ch);
                        }
                    })
                    .bind(address).sync().channel();
        } catch (RuntimeException | InterruptedException e) {
            if (ownGroup) {
                group.shutdownGracefully();
            }
            throw e;
        }
    }

    public Transport transport() {
        return transport;
    }

    public EventLoopGroup group() {
        return group;
    }

    /** The address actually bound (port 0 in tests becomes a real port). */
    public InetSocketAddress address() {
        return (InetSocketAddress) server.localAddress();
    }

    /** Closes the listening socket; connections already accepted stay. */
    public void stopAccepting() {
        server.close().syncUninterruptibly();
    }

    /** Shuts the event loops down if they are this listener's own (after {@link #stopAccepting}). */
    public void stopLoops() {
        if (ownGroup) {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
