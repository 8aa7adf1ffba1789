package dev.sluice.proxy.net;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollMode;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;

/**
 * The socket transport a proxy runs on, whatever its protocol: epoll where the native library loads, else NIO. Event
 * loops, listening and connecting channels must all be of one transport, so they are all chosen here.
 */
public final class Transport {
    private final boolean epoll;

    private Transport(boolean epoll) {
        this.epoll = epoll;
    }

    /** Epoll where available (Linux with the native library), else NIO. */
    public static Transport detect() {
        return new Transport(Epoll.isAvailable());
    }

    /** NIO, whatever the platform offers. */
    public static Transport nio() {
        return new Transport(false);
    }

    /** "epoll" or "nio", for the listening log line. */
    public String name() {
        return epoll ? "epoll" : "nio";
    }

    /** Event loops of this transport, {@code threads} of them. */
    public EventLoopGroup newGroup(int threads) {
        return new MultiThreadIoEventLoopGroup(threads, epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
    }

    /** The socket channel class of this transport, for outgoing connections. */
    public Class<? extends Channel> channelType() {
        return epoll ? EpollSocketChannel.class : NioSocketChannel.class;
    }

    /** A server bootstrap on {@code group} whose accepted channels are set up as every proxy's client channels are. */
    public ServerBootstrap serverBootstrap(EventLoopGroup group) {
        Class<? extends ServerChannel> serverType = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        ServerBootstrap sb = new ServerBootstrap().group(group).channel(serverType);
        if (epoll) {
            // level-triggered: one read() per readable event; edge-triggered costs an extra read() that
            // returns EAGAIN every time, and a statement round trip is only a few small reads
            sb.childOption(EpollChannelOption.EPOLL_MODE, EpollMode.LEVEL_TRIGGERED);
        }
        return sb.childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true);
    }
}
