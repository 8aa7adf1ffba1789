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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A storm of new backend connections against a fake server whose logins take 200 ms each: at most
 * {@link NodePool#MAX_CONCURRENT_LOGINS} are in progress at once, the rest wait in line, and every one is served.
 */
class NodePoolTest {

    @Test
    @Timeout(60)
    void aStormOfLoginsIsServedAFewAtATime() throws Exception {
        AtomicInteger pending = new AtomicInteger();
        AtomicInteger maxPending = new AtomicInteger();
        ConcurrentLinkedQueue<Socket> sockets = new ConcurrentLinkedQueue<>();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try (ServerSocket server = new ServerSocket(0, 500, InetAddress.getLoopbackAddress())) {
            Thread acceptor = new Thread(() -> {
                while (true) {
                    Socket s;
                    try {
                        s = server.accept();
                    } catch (IOException e) {
                        return;
                    }
                    sockets.add(s);
                    new Thread(() -> login(s, pending, maxPending)).start();
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();

            int n = 100;
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
            NodePool<BackendConnection> pool = new NodePool<>("fake", "127.0.0.1", server.getLocalPort(), 200, 20_000, connector,
                    NioSocketChannel.class, () -> 0);
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
            assertTrue(done.await(50, TimeUnit.SECONDS), "every login finished");
            assertEquals(List.of(), List.copyOf(errors));
            assertEquals(n, pool.open());
            assertTrue(maxPending.get() <= NodePool.MAX_CONCURRENT_LOGINS, "logins in progress at once: " + maxPending.get());
            assertTrue(maxPending.get() >= 2, "still several at once: " + maxPending.get());
            pool.closeAll();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            for (Socket s : sockets) {
                s.close();
            }
        }
    }

    /** Reads a startup packet, takes 200 ms, answers AuthenticationOk + ReadyForQuery, then holds the connection. */
    static void login(Socket s, AtomicInteger pending, AtomicInteger maxPending) {
        try {
            DataInputStream in = new DataInputStream(s.getInputStream());
            int len = in.readInt();
            in.readFully(new byte[len - 4]);
            maxPending.accumulateAndGet(pending.incrementAndGet(), Math::max);
            Thread.sleep(200); // the server's work for one login
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
