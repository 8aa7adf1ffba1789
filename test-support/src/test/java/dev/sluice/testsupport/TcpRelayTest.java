package dev.sluice.testsupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class TcpRelayTest {
    private static final Duration BOUND = Duration.ofSeconds(10);

    private ServerSocket echo;
    private final Set<Socket> echoSockets = ConcurrentHashMap.newKeySet();
    private TcpRelay relay;

    @BeforeEach
    void startEcho() throws IOException {
        echo = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread t = new Thread(() -> {
            while (true) {
                Socket s;
                try {
                    s = echo.accept();
                } catch (IOException e) {
                    return;
                }
                echoSockets.add(s);
                Thread h = new Thread(() -> {
                    try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
                        byte[] b = new byte[4096];
                        int n;
                        while ((n = in.read(b)) >= 0) {
                            out.write(b, 0, n);
                            out.flush();
                        }
                    } catch (IOException ignored) {
                        // peer went away
                    }
                }, "echo-conn");
                h.setDaemon(true);
                h.start();
            }
        }, "echo-accept");
        t.setDaemon(true);
        t.start();
        relay = TcpRelay.start("127.0.0.1", echo.getLocalPort());
    }

    @AfterEach
    void stop() throws IOException {
        relay.close();
        echo.close();
        for (Socket s : echoSockets) {
            s.close();
        }
    }

    private Socket connect() throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", relay.port()), 1000);
        s.setSoTimeout(2000);
        s.setTcpNoDelay(true);
        return s;
    }

    private static String roundTrip(Socket s, String msg) throws IOException {
        s.getOutputStream().write(msg.getBytes(StandardCharsets.UTF_8));
        s.getOutputStream().flush();
        return read(s, msg.length());
    }

    private static String read(Socket s, int len) throws IOException {
        byte[] b = s.getInputStream().readNBytes(len);
        return new String(b, StandardCharsets.UTF_8);
    }

    @Test
    void forwardsBothDirectionsOnManyConnections() {
        assertTimeoutPreemptively(BOUND, () -> {
            try (Socket a = connect(); Socket b = connect()) {
                assertEquals("hello", roundTrip(a, "hello"));
                assertEquals("world", roundTrip(b, "world"));
                String big = "x".repeat(200_000);
                a.getOutputStream().write(big.getBytes(StandardCharsets.UTF_8));
                assertEquals(big, read(a, big.length()));
            }
            assertTrue(relay.acceptedConnections() >= 2);
        });
    }

    @Test
    void injectedBytesReachTheClientOnceAheadOfTheAnswer() {
        assertTimeoutPreemptively(BOUND, () -> {
            try (Socket a = connect(); Socket b = connect()) {
                assertEquals("plain", roundTrip(a, "plain"));
                assertEquals("plain", roundTrip(b, "plain"));
                assertEquals(2, relay.openConnections());
                relay.injectAfter("POISON".getBytes(StandardCharsets.UTF_8), "garbage!".getBytes(StandardCharsets.UTF_8));
                assertEquals("clean", roundTrip(b, "clean"), "no marker, nothing injected");
                assertTrue(relay.injectionPending());
                b.getOutputStream().write("xPOISONx".getBytes(StandardCharsets.UTF_8));
                assertEquals("garbage!xPOISONx", read(b, 16), "injected ahead of the echo");
                assertFalse(relay.injectionPending());
                assertEquals("POISON", roundTrip(a, "POISON"), "once only");
            }
            long deadline = System.nanoTime() + BOUND.toNanos();
            while (relay.openConnections() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(0, relay.openConnections(), "closed connections are no longer counted");
        });
    }

    @Test
    void latencyIsAddedEachWay() {
        assertTimeoutPreemptively(BOUND, () -> {
            try (Socket s = connect()) {
                assertEquals("warm", roundTrip(s, "warm"));
                relay.setLatency(Duration.ofMillis(100));
                long t0 = System.nanoTime();
                assertEquals("slow", roundTrip(s, "slow"));
                long ms = (System.nanoTime() - t0) / 1_000_000;
                assertTrue(ms >= 195 && ms < 1500, "round trip with 100 ms each way took " + ms + " ms");
                relay.setLatency(Duration.ZERO);
                t0 = System.nanoTime();
                assertEquals("fast", roundTrip(s, "fast"));
                ms = (System.nanoTime() - t0) / 1_000_000;
                assertTrue(ms < 100, "round trip without latency took " + ms + " ms");
            }
        });
    }

    @Test
    void blackholeStopsBytesWithoutResetAndHealResumes() {
        assertTimeoutPreemptively(BOUND, () -> {
            try (Socket old = connect()) {
                assertEquals("before", roundTrip(old, "before"));
                relay.blackhole();
                old.setSoTimeout(400);
                old.getOutputStream().write("held".getBytes(StandardCharsets.UTF_8));
                assertThrows(SocketTimeoutException.class, () -> old.getInputStream().read(),
                        "no byte passes a blackhole (and no RST/EOF either)");
                // a new connection is accepted (no refusal, no reset) but nothing is forwarded
                int acceptedBefore = relay.acceptedConnections();
                try (Socket fresh = connect()) {
                    fresh.setSoTimeout(400);
                    fresh.getOutputStream().write("new".getBytes(StandardCharsets.UTF_8));
                    assertThrows(SocketTimeoutException.class, () -> fresh.getInputStream().read());
                    assertTrue(relay.acceptedConnections() > acceptedBefore);
                    relay.heal();
                    fresh.setSoTimeout(2000);
                    assertEquals("new", read(fresh, 3), "held connection forwarded after heal");
                }
                old.setSoTimeout(2000);
                assertEquals("held", read(old, 4), "held bytes delivered after heal");
                assertEquals("after", roundTrip(old, "after"));
            }
        });
    }

    @Test
    void cutClosesConnectionsAndRefusesNewOnesUntilHeal() {
        assertTimeoutPreemptively(BOUND, () -> {
            try (Socket s = connect()) {
                assertEquals("ping", roundTrip(s, "ping"));
                long t0 = System.nanoTime();
                relay.cut();
                try {
                    int r = s.getInputStream().read();
                    assertEquals(-1, r, "a cut connection ends");
                } catch (IOException expected) {
                    // connection reset: also an end
                }
                long ms = (System.nanoTime() - t0) / 1_000_000;
                assertTrue(ms < 1000, "cut noticed after " + ms + " ms");
            }
            long t0 = System.nanoTime();
            assertThrows(ConnectException.class, this::connect, "new connections refused while cut");
            assertTrue((System.nanoTime() - t0) / 1_000_000 < 500, "refused at once");
            relay.heal();
            try (Socket s = connect()) {
                assertEquals("again", roundTrip(s, "again"));
            }
        });
    }

    @Test
    void cutWhileBlackholedAndBlackholeAfterCut() {
        assertTimeoutPreemptively(BOUND, () -> {
            relay.blackhole();
            relay.cut();
            assertThrows(ConnectException.class, this::connect);
            relay.blackhole(); // listening again, but nothing is forwarded
            try (Socket s = connect()) {
                s.setSoTimeout(300);
                s.getOutputStream().write(1);
                assertThrows(SocketTimeoutException.class, () -> s.getInputStream().read());
                relay.heal();
                s.setSoTimeout(2000);
                assertEquals(1, s.getInputStream().read());
            }
        });
    }

    @Test
    void closeStopsEverything() {
        assertTimeoutPreemptively(BOUND, () -> {
            Socket s = connect();
            assertEquals("x", roundTrip(s, "x"));
            relay.close();
            try {
                assertEquals(-1, s.getInputStream().read());
            } catch (IOException expected) {
                // reset
            } finally {
                s.close();
            }
            assertThrows(ConnectException.class, this::connect);
            assertThrows(IllegalStateException.class, relay::heal);
            relay.close(); // idempotent
            long deadline = System.nanoTime() + 2_000_000_000L;
            while (System.nanoTime() < deadline && relayThreads() > 0) {
                Thread.sleep(20);
            }
            if (relayThreads() > 0) {
                fail("relay threads still alive after close: " + relayThreads());
            }
        });
    }

    private static long relayThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("tcp-relay-") && t.isAlive())
                .peek(t -> assertTrue(t.isDaemon(), t.getName() + " is a daemon"))
                .count();
    }
}
