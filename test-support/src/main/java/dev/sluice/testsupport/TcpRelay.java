package dev.sluice.testsupport;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP relay on 127.0.0.1 for fault injection: point a client at {@link #port()} instead of the target and
 * break the network between them at will.
 *
 * <ul>
 *   <li>{@link #blackhole()}: a network partition without RST. Existing connections stop passing bytes in both
 *       directions (bytes already read are held, not dropped, and nothing more is read, so the peers' buffers
 *       fill up); new connections are accepted but not forwarded. Clients see only timeouts.</li>
 *   <li>{@link #cut()}: every relayed connection is closed and the listening socket with it, so new
 *       connections are refused (RST) at once.</li>
 *   <li>{@link #heal()}: back to normal. Held bytes flow again, connections accepted during the blackhole are
 *       connected to the target now, and after a cut the same port listens again.</li>
 *   <li>{@link #setLatency(Duration)}: one-way delay added to every chunk in both directions (so a round trip
 *       costs twice that), without limiting throughput.</li>
 *   <li>{@link #injectAfter(byte[], byte[])}: a target that talks garbage. The next time a client sends bytes
 *       containing a marker, the given bytes reach that client as if the target had sent them, ahead of the
 *       target's own answer (which follows as usual).</li>
 * </ul>
 * All threads are daemons; {@link #close()} stops everything.
 */
public final class TcpRelay implements AutoCloseable {
    private enum Mode { NORMAL, BLACKHOLE, CUT, CLOSED }

    private static final AtomicInteger IDS = new AtomicInteger();
    private static final byte[] EOF = new byte[0];

    private final String targetHost;
    private final int targetPort;
    private final int port;
    private final int id = IDS.incrementAndGet();
    private final Object lock = new Object();
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private final AtomicInteger accepted = new AtomicInteger();
    private volatile Mode mode = Mode.NORMAL;
    private volatile long latencyNanos;
    private volatile Injection injection;
    private final Set<Pair> pairs = ConcurrentHashMap.newKeySet();
    private ServerSocket server; // guarded by lock
    private Thread acceptor; // guarded by lock

    private TcpRelay(String targetHost, int targetPort) throws IOException {
        this.targetHost = targetHost;
        this.targetPort = targetPort;
        ServerSocket ss = new ServerSocket();
        ss.setReuseAddress(true);
        ss.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 128);
        this.port = ss.getLocalPort();
        synchronized (lock) {
            server = ss;
            startAcceptor(ss);
        }
    }

    /** Listens on a free 127.0.0.1 port and relays every connection to {@code targetHost:targetPort}. */
    public static TcpRelay start(String targetHost, int targetPort) {
        try {
            return new TcpRelay(targetHost, targetPort);
        } catch (IOException e) {
            throw new ClusterException("cannot start a TCP relay to " + targetHost + ":" + targetPort, e);
        }
    }

    /** The local port clients connect to (stable across {@link #cut()} / {@link #heal()}). */
    public int port() {
        return port;
    }

    /** {@code 127.0.0.1}. */
    public String host() {
        return "127.0.0.1";
    }

    /** Connections accepted so far (including ones held by a blackhole or closed by a cut). */
    public int acceptedConnections() {
        return accepted.get();
    }

    /** Existing connections stop passing bytes; new ones are accepted but not forwarded. No RST. */
    public void blackhole() {
        synchronized (lock) {
            ensureOpen();
            if (mode == Mode.CUT) {
                rebind();
            }
            mode = Mode.BLACKHOLE;
            lock.notifyAll();
        }
    }

    /** Closes every relayed connection and stops listening: new connections are refused. */
    public void cut() {
        synchronized (lock) {
            ensureOpen();
            mode = Mode.CUT;
            stopListening();
            lock.notifyAll();
        }
        closeAllSockets();
    }

    /** Back to normal forwarding. */
    public void heal() {
        synchronized (lock) {
            ensureOpen();
            if (mode == Mode.CUT) {
                rebind();
            }
            mode = Mode.NORMAL;
            lock.notifyAll();
        }
    }

    /** One-way delay added to every chunk relayed in either direction ({@link Duration#ZERO} for none). */
    public void setLatency(Duration d) {
        if (d.isNegative()) {
            throw new IllegalArgumentException("negative latency " + d);
        }
        latencyNanos = d.toNanos();
    }

    /**
     * Once: the next chunk a client sends that contains {@code marker} makes the relay send {@code bytes} to that
     * client, as if from the target and ahead of the target's answer to it (the chunk itself is forwarded as usual).
     * The marker must arrive within one read (a short query text does).
     */
    public void injectAfter(byte[] marker, byte[] bytes) {
        if (marker.length == 0) {
            throw new IllegalArgumentException("empty marker");
        }
        injection = new Injection(marker.clone(), bytes.clone());
    }

    /** True while an {@link #injectAfter} waits for its marker. */
    public boolean injectionPending() {
        return injection != null;
    }

    /** Relayed connections currently open (both directions still up). */
    public int openConnections() {
        return pairs.size();
    }

    @Override
    public void close() {
        synchronized (lock) {
            if (mode == Mode.CLOSED) {
                return;
            }
            mode = Mode.CLOSED;
            stopListening();
            lock.notifyAll();
        }
        closeAllSockets();
    }

    @Override
    public String toString() {
        return "TcpRelay[127.0.0.1:" + port + " -> " + targetHost + ":" + targetPort + ", " + mode + "]";
    }

    private void ensureOpen() {
        if (mode == Mode.CLOSED) {
            throw new IllegalStateException("relay closed");
        }
    }

    /**
     * Closes the listening socket and waits for the accept thread to leave accept(): until then the kernel still
     * holds the listening socket (the blocked poll references it) and a connect could still succeed. Caller holds
     * the lock.
     */
    private void stopListening() {
        closeQuietly(server);
        server = null;
        Thread t = acceptor;
        acceptor = null;
        if (t != null && t != Thread.currentThread()) {
            try {
                t.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Caller holds the lock. */
    private void rebind() {
        try {
            ServerSocket ss = new ServerSocket();
            ss.setReuseAddress(true);
            ss.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 128);
            server = ss;
            startAcceptor(ss);
        } catch (IOException e) {
            throw new ClusterException("cannot listen on 127.0.0.1:" + port + " again", e);
        }
    }

    private void closeAllSockets() {
        for (Socket s : sockets) {
            try {
                s.setSoLinger(true, 0); // reset at once, no lingering FIN handshake
            } catch (SocketException ignored) {
                // already closed
            }
            closeQuietly(s);
        }
        sockets.clear();
    }

    /** Caller holds the lock. */
    private void startAcceptor(ServerSocket ss) {
        acceptor = daemon("accept", () -> {
            while (true) {
                Socket client;
                try {
                    client = ss.accept();
                } catch (IOException e) {
                    return; // closed by cut() or close()
                }
                accepted.incrementAndGet();
                sockets.add(client);
                if (mode == Mode.CUT || mode == Mode.CLOSED) {
                    sockets.remove(client);
                    closeQuietly(client);
                    continue;
                }
                daemon("connect", () -> connect(client));
            }
        });
    }

    /** Waits while blackholed; false when the relay was cut or closed meanwhile. */
    private boolean passable() throws InterruptedException {
        synchronized (lock) {
            while (mode == Mode.BLACKHOLE) {
                lock.wait();
            }
            return mode == Mode.NORMAL;
        }
    }

    private void connect(Socket client) {
        Socket upstream = null;
        try {
            if (!passable() || client.isClosed()) {
                closeQuietly(client);
                return;
            }
            upstream = new Socket();
            sockets.add(upstream);
            upstream.connect(new InetSocketAddress(targetHost, targetPort), 5000);
            upstream.setTcpNoDelay(true);
            client.setTcpNoDelay(true);
            if (client.isClosed()) { // cut while connecting
                closeQuietly(upstream);
                return;
            }
            Pair pair = new Pair(client, upstream);
            pairs.add(pair);
            pair.start(client, upstream, "c2s");
            pair.start(upstream, client, "s2c");
        } catch (IOException | InterruptedException e) {
            closeQuietly(client);
            closeQuietly(upstream);
        }
    }

    /** Both directions of one relayed connection. */
    private final class Pair {
        private final Socket a;
        private final Socket b;
        private final AtomicInteger open = new AtomicInteger(2);
        /** What is written to the client (a), in order: the target's chunks and injected ones. */
        private final BlockingQueue<Chunk> toClient = new LinkedBlockingQueue<>();

        Pair(Socket a, Socket b) {
            this.a = a;
            this.b = b;
        }

        /** A chunk from the client: when it carries the armed marker, the injection goes into the client's queue. */
        private void inspect(byte[] chunk) {
            Injection inj = injection;
            if (inj != null && indexOf(chunk, inj.marker) >= 0 && consume(inj)) {
                toClient.add(new Chunk(inj.bytes, System.nanoTime()));
            }
        }

        void start(Socket from, Socket to, String dir) throws IOException {
            boolean fromClient = from == a;
            BlockingQueue<Chunk> queue = fromClient ? new LinkedBlockingQueue<>() : toClient;
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            daemon(dir + "-read", () -> {
                byte[] buf = new byte[16 * 1024];
                try {
                    while (passable()) {
                        int n = in.read(buf);
                        if (n < 0) {
                            queue.add(new Chunk(EOF, System.nanoTime()));
                            return;
                        }
                        byte[] copy = new byte[n];
                        System.arraycopy(buf, 0, copy, 0, n);
                        if (fromClient) {
                            inspect(copy);
                        }
                        queue.add(new Chunk(copy, System.nanoTime()));
                    }
                    closeBoth();
                } catch (IOException | InterruptedException e) {
                    closeBoth();
                } finally {
                    queue.add(new Chunk(null, 0)); // wakes the writer if it is waiting for data
                }
            });
            daemon(dir + "-write", () -> {
                try {
                    while (true) {
                        Chunk c = queue.take();
                        if (c.data == null) {
                            return; // reader gone after an error: closeBoth() already ran
                        }
                        long due = c.readAt + latencyNanos;
                        long wait;
                        while ((wait = due - System.nanoTime()) > 0) {
                            Thread.sleep(Math.max(1, wait / 1_000_000), (int) (wait % 1_000_000));
                        }
                        if (!passable()) {
                            closeBoth();
                            return;
                        }
                        if (c.data == EOF) {
                            halfClose(to);
                            return;
                        }
                        out.write(c.data);
                        out.flush();
                    }
                } catch (IOException | InterruptedException e) {
                    closeBoth();
                }
            });
        }

        private void halfClose(Socket to) {
            try {
                to.shutdownOutput();
            } catch (IOException e) {
                closeBoth();
                return;
            }
            if (open.decrementAndGet() == 0) {
                closeBoth();
            }
        }

        private void closeBoth() {
            closeQuietly(a);
            closeQuietly(b);
            sockets.remove(a);
            sockets.remove(b);
            pairs.remove(this);
        }
    }

    private record Chunk(byte[] data, long readAt) {
    }

    private record Injection(byte[] marker, byte[] bytes) {
    }

    /** True for the one caller that disarms {@code inj}. */
    private boolean consume(Injection inj) {
        synchronized (lock) {
            if (injection != inj) {
                return false;
            }
            injection = null;
            return true;
        }
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private Thread daemon(String what, Runnable r) {
        Thread t = new Thread(r, "tcp-relay-" + id + "-" + what);
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception ignored) {
            // closing anyway
        }
    }
}
