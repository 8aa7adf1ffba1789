package dev.sluice.proxy.pg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.proxy.net.NodePool;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Storms of new backend connections against a fake server: at most {@link NodePool#MAX_CONCURRENT_LOGINS} logins
 * are in progress at once, the rest wait in line; the line may take longer than connect-timeout-ms as long as it
 * moves, and fails when the server answers no login at all.
 */
class NodePoolTest {
    final AtomicInteger pending = new AtomicInteger();
    final AtomicInteger maxPending = new AtomicInteger();
    final ConcurrentLinkedQueue<Socket> sockets = new ConcurrentLinkedQueue<>();
    final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    ServerSocket server;

    @AfterEach
    void stop() throws IOException {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        if (server != null) {
            server.close();
        }
        for (Socket s : sockets) {
            s.close();
        }
    }

    /** A fake server whose logins take {@code loginMs} each (answered with AuthenticationOk), or never (-1). */
    NodePool<BackendConnection> pool(long loginMs, int connectTimeoutMs) throws IOException {
        server = new ServerSocket(0, 500, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(() -> {
            while (true) {
                Socket s;
                try {
                    s = server.accept();
                } catch (IOException e) {
                    return;
                }
                sockets.add(s);
                Thread t = new Thread(() -> login(s, loginMs));
                t.setDaemon(true);
                t.start();
            }
        });
        acceptor.setDaemon(true);
        acceptor.start();
        NodePool.Connector<BackendConnection> connector = new NodePool.Connector<>() {
            @Override
            public BackendConnection newConnection(NodePool<BackendConnection> p, long generation) {
                return new BackendConnection(p, Map.of("user", "u", "database", "d"), new BackendLogin("u", null), generation);
            }

            @Override
            public void initChannel(io.netty.channel.Channel ch, BackendConnection c) {
                ch.pipeline().addLast(new PgFrameDecoder(1 << 20, false), c);
            }
        };
        return new NodePool<>("fake", "127.0.0.1", server.getLocalPort(), 200, connectTimeoutMs, connector, NioSocketChannel.class, () -> 0);
    }

    /** Acquires {@code n} connections at once; returns the errors once every callback ran. */
    List<Throwable> storm(NodePool<BackendConnection> pool, int n) throws InterruptedException {
        CountDownLatch done = new CountDownLatch(n);
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        for (int i = 0; i < n; i++) {
            pool.acquire(group.next(), (c, err) -> {
                if (err != null) {
                    errors.add(err);
                }
                done.countDown();
            });
        }
        assertTrue(done.await(50, TimeUnit.SECONDS), "every acquisition finished");
        return List.copyOf(errors);
    }

    @Test
    @Timeout(60)
    void aStormOfLoginsIsServedAFewAtATimeEvenPastTheConnectTimeout() throws Exception {
        // 100 logins of 200 ms, 16 at a time: about 1.4 s in all, past the 1 s connect timeout, but the line moves
        NodePool<BackendConnection> pool = pool(200, 1000);
        assertEquals(List.of(), storm(pool, 100));
        assertEquals(100, pool.open());
        assertTrue(maxPending.get() <= NodePool.MAX_CONCURRENT_LOGINS, "logins in progress at once: " + maxPending.get());
        assertTrue(maxPending.get() >= 2, "still several at once: " + maxPending.get());
        pool.closeAll();
    }

    @Test
    @Timeout(60)
    void aServerThatAnswersNoLoginFailsTheWholeLine() throws Exception {
        NodePool<BackendConnection> pool = pool(-1, 500);
        long t0 = System.nanoTime();
        List<Throwable> errors = storm(pool, 40);
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertEquals(40, errors.size());
        assertTrue(ms < 10_000, "the line fails in bounded time: " + ms + " ms");
        for (Throwable e : errors) {
            assertTrue(e.getMessage().contains("login took more than 500 ms") || e.getMessage().contains("no login finished for 500 ms"),
                    e.getMessage());
        }
    }

    /** Reads a startup packet, takes {@code loginMs} (-1: for ever), answers AuthenticationOk + ReadyForQuery, holds on. */
    void login(Socket s, long loginMs) {
        try {
            DataInputStream in = new DataInputStream(s.getInputStream());
            int len = in.readInt();
            in.readFully(new byte[len - 4]);
            maxPending.accumulateAndGet(pending.incrementAndGet(), Math::max);
            if (loginMs < 0) {
                while (in.read() >= 0) {
                    // never answers; counted as in progress until the pool gives up and closes
                }
                pending.decrementAndGet();
                return;
            }
            Thread.sleep(loginMs); // the server's work for one login
            pending.decrementAndGet();
            OutputStream out = s.getOutputStream();
            out.write(new byte[] {'R', 0, 0, 0, 8, 0, 0, 0, 0, 'Z', 0, 0, 0, 5, 'I'});
            out.flush();
            while (in.read() >= 0) {
                // held until the pool closes it (Terminate, then EOF)
            }
        } catch (IOException | InterruptedException e) {
            // closed
        }
    }
}
