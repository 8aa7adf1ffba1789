package dev.sluice.proxy.net;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;
import java.util.function.LongSupplier;

/**
 * Backend connections of one protocol to one node, at most {@code maxSize}. Idle ones are handed out newest first and,
 * when possible, from the caller's own event loop, so a session and its backends run on one thread.
 * A connection opened before the node last went DOWN is never reused: the server may have restarted.
 */
public final class NodePool<C extends PooledConnection> {
    /**
     * Logins in progress at once per node; more wait in line. A thousand clients arriving together would otherwise
     * fork a thousand server processes at once: every login then takes seconds and many time out, where one at a
     * time in order they take milliseconds each (HikariCP opens its connections one by one for the same reason).
     */
    public static final int MAX_CONCURRENT_LOGINS = 16;

    /** Makes the protocol's connections and their channel pipelines. */
    public interface Connector<C extends PooledConnection> {
        C newConnection(NodePool<C> pool, long generation);

        /** Adds the frame decoder and {@code c} (last) to a new channel. */
        void initChannel(Channel ch, C c);
    }

    public final String node;
    private final String host;
    private final int port;
    private final int maxSize;
    private final int connectTimeoutMs;
    private final Connector<C> connector;
    private final Class<? extends Channel> channelType;
    private final LongSupplier generation;

    private final ArrayDeque<C> idle = new ArrayDeque<>();
    private final ArrayDeque<Waiter<C>> waiters = new ArrayDeque<>();
    private int open;
    private int connecting;
    private long lastLoginNanos; // System.nanoTime() of the last successful login, 0 before the first

    private record Waiter<C>(EventLoop loop, BiConsumer<C, Throwable> callback, ScheduledFuture<?> timeout) {
    }

    public NodePool(String node, String host, int port, int maxSize, int connectTimeoutMs, Connector<C> connector,
                    Class<? extends Channel> channelType, LongSupplier generation) {
        this.node = node;
        this.host = host;
        this.port = port;
        this.maxSize = maxSize;
        this.connectTimeoutMs = connectTimeoutMs;
        this.connector = connector;
        this.channelType = channelType;
        this.generation = generation;
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    /**
     * Hands a ready connection to {@code callback} (on any thread; the caller hops to its own), or an
     * error naming the node: connect failure, login failure, or the pool staying full past the timeout.
     */
    public void acquire(EventLoop loop, BiConsumer<C, Throwable> callback) {
        C c;
        synchronized (this) {
            c = takeIdle(loop);
            if (c == null) {
                if (open >= maxSize || connecting >= MAX_CONCURRENT_LOGINS) {
                    ScheduledFuture<?> t = loop.schedule(() -> timeout(loop, callback), connectTimeoutMs, TimeUnit.MILLISECONDS);
                    waiters.add(new Waiter<>(loop, callback, t));
                    return;
                }
                open++;
                connecting++;
            }
        }
        if (c != null) {
            callback.accept(c, null);
        } else {
            connect(loop, callback);
        }
    }

    private C takeIdle(EventLoop loop) {
        long gen = generation.getAsLong();
        C other = null;
        for (Iterator<C> it = idle.descendingIterator(); it.hasNext(); ) {
            C c = it.next();
            if (!c.usable() || c.generation < gen) {
                it.remove();
                c.close(); // its slot frees when the channel closes
                continue;
            }
            if (c.channel().eventLoop() == loop) {
                it.remove();
                return c;
            }
            if (other == null) {
                other = c;
            }
        }
        if (other != null && open >= maxSize) {
            idle.remove(other); // full: a connection on another thread beats waiting
            return other;
        }
        return null;
    }

    /** Opens a connection; the caller counted it in {@code open} and {@code connecting}. */
    private void connect(EventLoop loop, BiConsumer<C, Throwable> callback) {
        C c = connector.newConnection(this, generation.getAsLong());
        java.util.concurrent.atomic.AtomicBoolean loginOver = new java.util.concurrent.atomic.AtomicBoolean();
        Runnable loginDone = () -> {
            if (loginOver.compareAndSet(false, true)) {
                synchronized (this) {
                    connecting--;
                }
                serveWaiter();
            }
        };
        Bootstrap b = new Bootstrap().group(loop).channel(channelType);
        if (channelType == io.netty.channel.epoll.EpollSocketChannel.class) {
            // level-triggered: see Transport#serverBootstrap
            b.option(io.netty.channel.epoll.EpollChannelOption.EPOLL_MODE, io.netty.channel.epoll.EpollMode.LEVEL_TRIGGERED);
        }
        b.option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMs)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        connector.initChannel(ch, c);
                    }
                })
                .connect(host, port).addListener(f -> {
                    if (!f.isSuccess()) {
                        loginDone.run();
                        slotFree(c);
                        callback.accept(null, new java.io.IOException("cannot connect to node " + node + " at " + host + ":" + port
                                + ": " + f.cause().getMessage(), f.cause()));
                    }
                });
        ScheduledFuture<?> loginTimeout = loop.schedule(() -> {
            if (c.ready().completeExceptionally(new TimeoutException("node " + node + ": login took more than "
                    + connectTimeoutMs + " ms")) && c.channel() != null) {
                c.channel().close();
            }
        }, connectTimeoutMs, TimeUnit.MILLISECONDS);
        c.ready().whenComplete((ok, err) -> {
            loginTimeout.cancel(false);
            if (err == null) {
                synchronized (this) {
                    lastLoginNanos = System.nanoTime();
                }
            }
            loginDone.run();
            if (err != null) {
                if (c.channel() == null) {
                    return; // the connect listener reported it
                }
                callback.accept(null, err);
            } else {
                callback.accept(c, null);
            }
        });
    }

    /** Frees {@code c}'s slot, once, however it ended (connect failure, login failure, closed). */
    private void slotFree(C c) {
        synchronized (this) {
            if (c.slotFreed) {
                return;
            }
            c.slotFreed = true;
            open--;
            idle.remove(c);
        }
        serveWaiter();
    }

    /**
     * A waiter's connect-timeout-ms is up. One waiting for a free connection (the pool full) fails. One waiting in
     * the login line waits on while the line moves (a login succeeded within connect-timeout-ms): a thousand
     * clients arriving together wait their turn instead of failing behind logins that are all going fine; a line
     * that has not moved for connect-timeout-ms (the node stuck) fails it.
     */
    private void timeout(EventLoop loop, BiConsumer<C, Throwable> callback) {
        boolean removed;
        synchronized (this) {
            if (waiters.stream().noneMatch(w -> w.callback == callback)) {
                return; // served meanwhile
            }
            long sinceLoginMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lastLoginNanos);
            if (open < maxSize && lastLoginNanos != 0 && sinceLoginMs < connectTimeoutMs) {
                loop.schedule(() -> timeout(loop, callback), connectTimeoutMs - sinceLoginMs, TimeUnit.MILLISECONDS);
                return;
            }
            removed = waiters.removeIf(w -> w.callback == callback);
        }
        if (removed) {
            int o = open();
            callback.accept(null, new TimeoutException(o >= maxSize
                    ? "node " + node + ": all " + maxSize + " backend connections busy for " + connectTimeoutMs + " ms (pool-max-size)"
                    : "node " + node + ": all " + MAX_CONCURRENT_LOGINS + " login slots busy and no login finished for "
                    + connectTimeoutMs + " ms (connect-timeout-ms)"));
        }
    }

    /** A reset connection is free again: the oldest waiter gets it, else it goes idle. */
    public void release(C c) {
        Waiter<C> w;
        synchronized (this) {
            w = waiters.poll();
            if (w == null) {
                idle.addLast(c);
                return;
            }
        }
        w.timeout.cancel(false);
        w.callback.accept(c, null);
    }

    /** A connection's channel closed: its slot is free. */
    public void closed(C c) {
        slotFree(c);
    }

    private void serveWaiter() {
        Waiter<C> w;
        synchronized (this) {
            if (open >= maxSize || connecting >= MAX_CONCURRENT_LOGINS || (w = waiters.poll()) == null) {
                return;
            }
            open++;
            connecting++;
        }
        w.timeout.cancel(false);
        connect(w.loop, w.callback);
    }

    public synchronized int open() {
        return open;
    }

    public synchronized int idle() {
        return idle.size();
    }

    public void closeAll() {
        synchronized (this) {
            idle.forEach(PooledConnection::close);
            idle.clear();
        }
    }
}
