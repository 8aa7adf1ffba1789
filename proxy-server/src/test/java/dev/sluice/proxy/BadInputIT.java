package dev.sluice.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetric;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postgresql.copy.CopyManager;
import org.postgresql.core.BaseConnection;

/**
 * Entries of the bad-input catalogue: a client gone mid-query, a 10 MB statement, invalid UTF-8, a COPY FROM STDIN
 * sent faster than the server takes it.
 */
class BadInputIT {
    static ProxyFixture f;

    @BeforeAll
    static void start() throws Exception {
        f = ProxyFixture.start("bad-input-pg", 1, null, "  auth: md5\n"); // md5 for the raw-socket client
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE bad (id int PRIMARY KEY)");
        }
    }

    @AfterAll
    static void stop() {
        if (f != null) {
            f.close();
        }
    }

    static Connection connect() throws SQLException {
        return DriverManager.getConnection(f.jdbcUrl(), ProxyFixture.USER, ProxyFixture.PASSWORD);
    }

    static long sleepers() throws SQLException {
        try (Connection c = f.cluster.connectAdmin(f.cluster.primary()); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE usename = '" + f.cluster.user()
                     + "' AND query LIKE 'SELECT pg_sleep(30)%' AND state = 'active'")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    @Timeout(60)
    void aClientGoneMidQueryInATransactionIsCancelledAndRolledBack() throws Exception {
        Connection c = connect();
        c.setAutoCommit(false);
        try (Statement st = c.createStatement()) {
            st.executeUpdate("INSERT INTO bad VALUES (1)");
        }
        Thread sleeper = new Thread(() -> {
            try (Statement st = c.createStatement()) {
                st.executeQuery("SELECT pg_sleep(30)");
            } catch (SQLException expected) {
                // the connection is aborted under it
            }
        });
        sleeper.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (sleepers() == 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(1, sleepers(), "the statement runs on the primary");
        long gone = System.nanoTime();
        c.abort(Runnable::run); // the client's socket closes mid-statement
        while (sleepers() > 0 && System.nanoTime() - gone < TimeUnit.SECONDS.toNanos(20)) {
            Thread.sleep(20);
        }
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - gone);
        assertEquals(0, sleepers(), "the backend statement was stopped");
        assertTrue(ms < 10_000, "stopped by a cancel, not by running its 30 s out: " + ms + " ms");
        try (Connection a = f.cluster.connectAdmin(f.cluster.primary()); Statement st = a.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM bad")) {
            rs.next();
            assertEquals(0, rs.getLong(1), "the open transaction's insert was rolled back");
        }
        sleeper.join(10_000);
    }

    @Test
    @Timeout(60)
    void aTenMegabyteStatementIsRoutedAndAnswered() throws Exception {
        String big = "x".repeat(10_000_000);
        try (Connection c = connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT length('" + big + "'), inet_server_port()")) {
            rs.next();
            assertEquals(10_000_000, rs.getInt(1));
            assertEquals(f.replicaNames().get(0), f.node(rs.getInt(2)), "a read, routed to the replica");
        }
    }

    @Test
    @Timeout(60)
    void invalidUtf8GetsTheServersErrorAndTheSessionGoesOn() throws Exception {
        try (RawPg raw = new RawPg(f.host(), f.port())) {
            raw.loginMd5(f.cluster.database(), ProxyFixture.MD5_USER, ProxyFixture.MD5_PASSWORD);
            ByteArrayOutputStream sql = new ByteArrayOutputStream();
            sql.write("SELECT '".getBytes(StandardCharsets.US_ASCII));
            sql.write(new byte[] {(byte) 0xC3, (byte) 0x28}); // not UTF-8
            sql.write("'\0".getBytes(StandardCharsets.US_ASCII));
            raw.send(RawPg.typed('Q', sql.toByteArray()));
            RawPg.Msg err = raw.readUntil('E');
            assertEquals("22021", err.fields().get('C'), err.toString());
            raw.readUntil('Z');
            raw.send(RawPg.query("SELECT 1"));
            assertEquals('D', raw.readUntil('D').type());
            raw.readUntil('Z');
        }
    }

    /**
     * COPY FROM STDIN streams the client's data straight to the primary. When the server takes it slower than the
     * client sends it, the proxy must stop reading the client (not queue the stream for the backend): here every
     * row's trigger waits on an advisory lock the test holds, so the server stops reading after the first row.
     */
    @Test
    @Timeout(240)
    void aCopyFasterThanTheServerTakesItHoldsTheClientBackNotTheProxysMemory() throws Exception {
        int rows = 100_000;
        byte[] pad = "y".repeat(2000).getBytes(StandardCharsets.US_ASCII); // 100,000 rows of 2 kB: 200 MB of COPY data
        long total = rows * (pad.length + 9L); // "0000001\t" + pad + "\n"
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE copy_sink (id int, pad text)");
            st.execute("CREATE FUNCTION copy_gate() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    + "PERFORM pg_advisory_xact_lock_shared(4242); RETURN NEW; END $$");
            st.execute("CREATE TRIGGER copy_gate BEFORE INSERT ON copy_sink FOR EACH ROW EXECUTE FUNCTION copy_gate()");
        }
        AtomicLong sent = new AtomicLong();
        try (Connection gate = f.cluster.connectAdmin(f.cluster.primary()); Statement g = gate.createStatement();
             Connection copier = connect()) {
            g.execute("SELECT pg_advisory_lock(4242)"); // closed: the COPY's first row waits on it
            InputStream data = new InputStream() {
                int row;
                int pos;
                byte[] line = new byte[0];

                @Override
                public int read() {
                    byte[] one = new byte[1];
                    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
                }

                @Override
                public int read(byte[] b, int off, int len) {
                    if (pos == line.length) {
                        if (row == rows) {
                            return -1;
                        }
                        String id = String.format("%07d\t", ++row);
                        line = new byte[pad.length + 9];
                        System.arraycopy(id.getBytes(StandardCharsets.US_ASCII), 0, line, 0, 8);
                        System.arraycopy(pad, 0, line, 8, pad.length);
                        line[line.length - 1] = '\n';
                        pos = 0;
                    }
                    int n = Math.min(len, line.length - pos);
                    System.arraycopy(line, pos, b, off, n);
                    pos += n;
                    sent.addAndGet(n);
                    return n;
                }
            };
            CompletableFuture<Long> copy = CompletableFuture.supplyAsync(() -> {
                try {
                    return new CopyManager(copier.unwrap(BaseConnection.class)).copyIn("COPY copy_sink FROM STDIN", data);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            long held;
            long max = 0;
            boolean doneWhileHeld;
            try {
                // the client is held back: what it manages to send stops growing, far below the 200 MB
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                long before;
                do {
                    before = sent.get();
                    Thread.sleep(1000);
                } while ((sent.get() != before || before == 0) && System.nanoTime() < deadline && !copy.isDone());
                for (int i = 0; i < 20; i++) { // and nothing piles up in the proxy meanwhile
                    max = Math.max(max, proxyBufferBytes());
                    Thread.sleep(100);
                }
                held = sent.get();
                doneWhileHeld = copy.isDone();
            } finally {
                g.execute("SELECT pg_advisory_unlock(4242)"); // the server reads again: the whole stream arrives
            }
            long copied = copy.get(180, TimeUnit.SECONDS);
            assertTrue(!doneWhileHeld && held < total / 4,
                    "the client is held back while the server does not read: it sent " + held + " of " + total + " bytes");
            assertTrue(max < 64L << 20, "proxy buffers while the server does not read: " + max + " bytes (COPY: 200 MB)");
            assertEquals(rows, copied, "COPY's row count");
            assertEquals(total, sent.get(), "every byte sent");
        }
        try (Connection a = f.cluster.connectAdmin(f.cluster.primary()); Statement st = a.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*), count(DISTINCT id), min(length(pad)) FROM copy_sink")) {
            rs.next();
            assertEquals(rows, rs.getLong(1), "every row arrived");
            assertEquals(rows, rs.getLong(2), "each once");
            assertEquals(2000, rs.getInt(3), "whole");
        }
        try (Connection c = connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT 40 + 2")) {
            rs.next();
            assertEquals(42, rs.getInt(1), "the proxy serves on");
        }
    }

    /** Bytes in use in the proxy's buffers (Netty's default allocator, which the proxy's channels use). */
    static long proxyBufferBytes() {
        ByteBufAllocatorMetric m = ((ByteBufAllocatorMetricProvider) ByteBufAllocator.DEFAULT).metric();
        return m.usedDirectMemory() + m.usedHeapMemory();
    }
}
