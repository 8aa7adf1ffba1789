package dev.sluice.proxy.mysql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.proxy.MyProxyFixture;
import dev.sluice.proxy.ProxyBuffers;
import dev.sluice.testsupport.DbNode;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The MySQL side of HostileClientIT's slow reader: a client that sends a big query and then reads nothing must
 * stall its backend (the proxy stops reading the server once the client's socket is full), not make the proxy
 * take in the whole result; it gets the whole result, in order, once it reads again; and when it leaves while
 * stalled, the server's statement is stopped rather than left blocked.
 */
class MySqlSlowReaderIT {
    static final int ROWS = 100_000;
    static final int WIDTH = 2000;
    /** 100,000 rows of 2,000 bytes (MariaDB's SEQUENCE engine): 200 MB the proxy must not take in. */
    static final String SQL = "SELECT REPEAT('x', " + WIDTH + ") FROM seq_1_to_" + ROWS + " /* stalled reader */";
    /**
     * What MariaDB 10.11's PROCESSLIST shows for a statement blocked writing its result to a peer that does not
     * read. It shows the same while writing freely, so it alone proves no stall: the bound on the proxy's buffers
     * while the statement stays there does (with the backpressure off, the proxy took in ~80 MB in that second).
     */
    static final String BLOCKED = "Writing to net";

    static MyProxyFixture f;
    static Connection bystander;

    @BeforeAll
    static void start() throws Exception {
        f = MyProxyFixture.start("myslowreader", 1);
        bystander = DriverManager.getConnection(f.jdbcUrl("mariadb", null), MyProxyFixture.USER, MyProxyFixture.PASSWORD);
    }

    @AfterAll
    static void stop() throws SQLException {
        if (bystander != null) {
            bystander.close();
        }
        if (f != null) {
            f.close();
        }
    }

    static void bystanderWorks() throws SQLException {
        try (Statement st = bystander.createStatement(); ResultSet rs = st.executeQuery("SELECT 40 + 2")) {
            assertTrue(rs.next());
            assertEquals(42, rs.getInt(1), "another client is served meanwhile");
        }
    }

    @Test
    @Timeout(180)
    void aClientThatStopsReadingALargeResultStallsItsBackendNotTheProxysMemory() throws Exception {
        try (RawMy raw = new RawMy(f.host(), f.port()).login(MyProxyFixture.USER, MyProxyFixture.PASSWORD, f.database())) {
            raw.command(My.COM_QUERY, SQL.getBytes(StandardCharsets.US_ASCII));
            // the client reads nothing. The proxy stops reading the backend once the client's socket is full, so
            // the server blocks writing to the proxy with most of the result unsent
            awaitServerBlockedWriting("stalled reader", 30);
            long max = 0;
            for (int i = 0; i < 10; i++) { // and stays there: nothing piles up in the proxy
                max = Math.max(max, ProxyBuffers.usedBytes());
                Thread.sleep(100);
            }
            awaitServerBlockedWriting("stalled reader", 1);
            assertTrue(max < 64L << 20, "proxy buffers while the client does not read: " + max + " bytes (result: 200 MB)");
            bystanderWorks();

            // the client reads again: the whole result arrives, in order, and the session goes on
            assertEquals(ROWS, readWideResult(raw));
            RawMy.Reply r = raw.query("SELECT 40 + 2");
            assertEquals("42", r.value(), r.toString());

            // stalled again, then gone: the backend statement is stopped, not left blocked
            raw.command(My.COM_QUERY, SQL.replace("stalled reader", "stalled and gone").getBytes(StandardCharsets.US_ASCII));
            awaitServerBlockedWriting("stalled and gone", 30);
        }
        long gone = System.nanoTime();
        long deadline = gone + TimeUnit.SECONDS.toNanos(20);
        while (!serverProcesses("stalled and gone").isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(List.of(), serverProcesses("stalled and gone"), "the statement of a client that left is stopped");
        System.out.printf("the left client's statement was gone from the PROCESSLIST after %d ms%n",
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - gone));
        bystanderWorks();
    }

    /**
     * Reads a result set of {@link #ROWS} rows of one {@link #WIDTH}-byte column, packet by packet without keeping
     * it (RawMy never negotiates DEPRECATE_EOF: column count, definition, EOF, rows, EOF); returns the row count.
     */
    static int readWideResult(RawMy raw) throws Exception {
        RawMy.Packet head = raw.read();
        assertEquals(1, head.first(), "one column: " + head);
        raw.read(); // its definition
        assertTrue(raw.read().isEof(), "the EOF after the column definitions");
        int n = 0;
        int seq = head.seq() + 3;
        while (true) {
            RawMy.Packet p = raw.read();
            assertEquals(seq++ & 0xff, p.seq(), "packets in order");
            if (p.isEof()) {
                return n;
            }
            // a text row: 0xfc, a 2-byte length, the value
            assertEquals(3 + WIDTH, p.payload().length, "row " + n + ": " + p);
            assertEquals(0xfc, p.first());
            assertEquals(WIDTH, (p.payload()[1] & 0xff) | (p.payload()[2] & 0xff) << 8);
            assertEquals('x', p.payload()[3]);
            assertEquals('x', p.payload()[2 + WIDTH]);
            n++;
        }
    }

    /** PROCESSLIST state of the server threads (any node) running a statement that contains {@code marker}. */
    static List<String> serverProcesses(String marker) throws SQLException {
        List<String> states = new ArrayList<>();
        for (DbNode n : f.cluster.nodes()) {
            try (Connection a = f.cluster.connectAdmin(n); PreparedStatement ps = a.prepareStatement(
                    "SELECT COALESCE(STATE, COMMAND) FROM information_schema.PROCESSLIST WHERE INFO LIKE ? AND ID <> CONNECTION_ID()")) {
                ps.setString(1, "%" + marker + "%");
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        states.add(rs.getString(1));
                    }
                }
            }
        }
        return states;
    }

    static void awaitServerBlockedWriting(String marker, int seconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        List<String> states;
        while (!(states = serverProcesses(marker)).equals(List.of(BLOCKED)) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(List.of(BLOCKED), states, "the server is blocked writing to the proxy (the proxy stopped reading it)");
    }
}
