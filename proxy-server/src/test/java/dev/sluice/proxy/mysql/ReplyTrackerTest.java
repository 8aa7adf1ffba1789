package dev.sluice.proxy.mysql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Where a backend reply ends, for every reply shape the proxy relays, from hand-built packets: the tracker
 * must say "last packet" on exactly one packet (the last one) and report the final status flags or error.
 * A wrong answer either hangs the client (end missed) or hands the next command's reply to the wrong one
 * (end too early), so every test feeds the whole reply and checks each packet's answer.
 */
class ReplyTrackerTest {
    static final int AC = My.STATUS_AUTOCOMMIT;
    static final int IN_TX = My.STATUS_IN_TRANS;
    static final int MORE = My.STATUS_MORE_RESULTS;
    static final int WITH_EOF = My.PROTOCOL_41;
    static final int NO_EOF = My.PROTOCOL_41 | My.DEPRECATE_EOF;

    // ---- packets ----

    static ByteBuf packet(byte[] payload) {
        ByteBuf b = Unpooled.buffer(4 + payload.length);
        b.writeMediumLE(payload.length).writeByte(0).writeBytes(payload);
        return b;
    }

    static ByteBuf packet(ByteBuf payload) {
        byte[] p = new byte[payload.readableBytes()];
        payload.readBytes(p);
        return packet(p);
    }

    /** OK (0x00 header) with affected rows, last insert id and status. */
    static ByteBuf ok(long affected, int status) {
        ByteBuf p = Unpooled.buffer().writeByte(0x00);
        My.writeLenenc(p, affected);
        My.writeLenenc(p, 0);
        p.writeShortLE(status).writeShortLE(0);
        return packet(p);
    }

    /** The OK that ends a result set under DEPRECATE_EOF: 0xFE header, OK body (at least 7 bytes). */
    static ByteBuf okFe(int status) {
        ByteBuf p = Unpooled.buffer().writeByte(0xfe);
        My.writeLenenc(p, 0);
        My.writeLenenc(p, 0);
        p.writeShortLE(status).writeShortLE(0);
        return packet(p);
    }

    static ByteBuf eof(int status) {
        return packet(Unpooled.buffer().writeByte(0xfe).writeShortLE(0).writeShortLE(status));
    }

    /** The terminator of a result set in the given mode. */
    static ByteBuf end(int caps, int status) {
        return (caps & My.DEPRECATE_EOF) != 0 ? okFe(status) : eof(status);
    }

    static ByteBuf err(int code, String state, String message) {
        ByteBuf p = Unpooled.buffer().writeByte(0xff).writeShortLE(code).writeByte('#');
        p.writeCharSequence(state, StandardCharsets.US_ASCII);
        p.writeCharSequence(message, StandardCharsets.UTF_8);
        return packet(p);
    }

    static ByteBuf columnCount(long n) {
        ByteBuf p = Unpooled.buffer();
        My.writeLenenc(p, n);
        return packet(p);
    }

    /** A ColumnDefinition41 (starts with lenenc "def"). */
    static ByteBuf column(String name) {
        ByteBuf p = Unpooled.buffer();
        for (String s : new String[] {"def", "sluice", "t", "t", name, name}) {
            byte[] v = s.getBytes(StandardCharsets.UTF_8);
            My.writeLenenc(p, v.length);
            p.writeBytes(v);
        }
        p.writeByte(0x0c).writeShortLE(45).writeIntLE(40).writeByte(0xfd).writeShortLE(0).writeByte(0).writeShortLE(0);
        return packet(p);
    }

    /** A text-protocol row of lenenc strings. */
    static ByteBuf textRow(String... values) {
        ByteBuf p = Unpooled.buffer();
        for (String s : values) {
            if (s == null) {
                p.writeByte(0xfb);
            } else {
                byte[] v = s.getBytes(StandardCharsets.UTF_8);
                My.writeLenenc(p, v.length);
                p.writeBytes(v);
            }
        }
        return packet(p);
    }

    /** A binary-protocol row: 0x00 header, NULL bitmap, values. */
    static ByteBuf binaryRow(int value) {
        return packet(Unpooled.buffer().writeByte(0x00).writeByte(0).writeIntLE(value));
    }

    static ByteBuf prepareOk(long id, int columns, int params) {
        return packet(Unpooled.buffer().writeByte(0x00).writeIntLE((int) id).writeShortLE(columns).writeShortLE(params)
                .writeByte(0).writeShortLE(0));
    }

    static ByteBuf infileRequest(String file) {
        ByteBuf p = Unpooled.buffer().writeByte(0xfb);
        p.writeCharSequence(file, StandardCharsets.UTF_8);
        return packet(p);
    }

    /** A full 16 MB packet (payload 0xFFFFFF bytes) starting with {@code first}, then filler. */
    static ByteBuf full(int... first) {
        return sized(My.MAX_PAYLOAD, first);
    }

    /** A packet of {@code length} bytes starting with {@code first}, then filler. */
    static ByteBuf sized(int length, int... first) {
        byte[] p = new byte[length];
        java.util.Arrays.fill(p, (byte) 'y');
        for (int i = 0; i < first.length; i++) {
            p[i] = (byte) first[i];
        }
        return packet(p);
    }

    // ---- driving ----

    /**
     * Feeds {@code packets} in order; asserts that only the last one ends the reply, and that the tracker is
     * idle afterwards. Each packet is released once fed (the tracker must not keep or release it).
     */
    static ReplyTracker feed(ReplyTracker t, ReplyTracker.Kind kind, ByteBuf... packets) {
        t.start(kind);
        return feedMore(t, packets);
    }

    static ReplyTracker feedMore(ReplyTracker t, ByteBuf... packets) {
        List<Integer> ends = new ArrayList<>();
        for (int i = 0; i < packets.length; i++) {
            assertTrue(t.busy(), "busy before packet " + i);
            int index = packets[i].readerIndex();
            if (t.accept(packets[i])) {
                ends.add(i);
            }
            assertEquals(index, packets[i].readerIndex(), "the tracker moved packet " + i + "'s reader index");
            assertEquals(1, packets[i].refCnt(), "the tracker released packet " + i);
            packets[i].release();
        }
        assertEquals(List.of(packets.length - 1), ends, "the packets that ended the reply");
        assertFalse(t.busy());
        return t;
    }

    static ByteBuf[] concat(ByteBuf[]... groups) {
        List<ByteBuf> all = new ArrayList<>();
        for (ByteBuf[] g : groups) {
            all.addAll(List.of(g));
        }
        return all.toArray(new ByteBuf[0]);
    }

    static ByteBuf[] p(ByteBuf... b) {
        return b;
    }

    /** Column count, {@code n} column definitions, and the EOF after them unless DEPRECATE_EOF. */
    static ByteBuf[] header(int caps, int n) {
        List<ByteBuf> l = new ArrayList<>();
        l.add(columnCount(n));
        for (int i = 0; i < n; i++) {
            l.add(column("c" + i));
        }
        if ((caps & My.DEPRECATE_EOF) == 0) {
            l.add(eof(AC));
        }
        return l.toArray(new ByteBuf[0]);
    }

    // ---- OK / ERR ----

    @Test
    void okEndsASimpleCommandAndAQuery() {
        for (ReplyTracker.Kind k : List.of(ReplyTracker.Kind.SIMPLE, ReplyTracker.Kind.RESULT)) {
            ReplyTracker t = feed(new ReplyTracker(NO_EOF), k, ok(3, IN_TX | AC));
            assertEquals(IN_TX | AC, t.status, k.name());
            assertNull(t.error);
        }
        // a large affected-row count (lenenc 0xFE, 8 bytes) does not confuse the status offset
        assertEquals(AC, feed(new ReplyTracker(NO_EOF), ReplyTracker.Kind.RESULT, ok(1L << 40, AC)).status);
    }

    @Test
    void errEndsAnyReplyWithItsCodeStateAndMessage() {
        for (ReplyTracker.Kind k : List.of(ReplyTracker.Kind.SIMPLE, ReplyTracker.Kind.RESULT, ReplyTracker.Kind.PREPARE)) {
            ReplyTracker t = feed(new ReplyTracker(WITH_EOF), k, err(1146, "42S02", "Table 'sluice.x' doesn't exist"));
            assertEquals(-1, t.status, k.name());
            assertEquals(new My.Err(1146, "42S02", "Table 'sluice.x' doesn't exist"), t.error, k.name());
        }
    }

    @Test
    void anEofAnswersCom_SET_OPTION() {
        // COM_SET_OPTION is answered with an EOF packet (5 bytes), not an OK
        assertEquals(AC | IN_TX, feed(new ReplyTracker(WITH_EOF), ReplyTracker.Kind.SIMPLE, eof(AC | IN_TX)).status);
    }

    @Test
    void theNextReplyStartsClean() {
        ReplyTracker t = feed(new ReplyTracker(NO_EOF), ReplyTracker.Kind.RESULT, err(1064, "42000", "syntax"));
        feed(t, ReplyTracker.Kind.RESULT, ok(0, AC));
        assertNull(t.error, "the error of the previous reply is gone");
        assertEquals(AC, t.status);
    }

    // ---- result sets ----

    @Test
    void resultSetWithEofs() {
        ReplyTracker t = feed(new ReplyTracker(WITH_EOF), ReplyTracker.Kind.RESULT,
                concat(header(WITH_EOF, 2), p(textRow("1", "a"), textRow(null, "b"), eof(IN_TX))));
        assertEquals(IN_TX, t.status);
        assertNull(t.error);
    }

    @Test
    void resultSetWithDeprecateEof() {
        ReplyTracker t = feed(new ReplyTracker(NO_EOF), ReplyTracker.Kind.RESULT,
                concat(header(NO_EOF, 2), p(textRow("1", "a"), textRow("2", "b"), okFe(AC))));
        assertEquals(AC, t.status);
    }

    @Test
    void anEmptyResultSet() {
        assertEquals(AC, feed(new ReplyTracker(WITH_EOF), ReplyTracker.Kind.RESULT, concat(header(WITH_EOF, 1), p(eof(AC)))).status);
        assertEquals(AC, feed(new ReplyTracker(NO_EOF), ReplyTracker.Kind.RESULT, concat(header(NO_EOF, 1), p(okFe(AC)))).status);
    }

    @Test
    void anErrorInsteadOfTheNextRowEndsTheResult() {
        for (int caps : new int[] {WITH_EOF, NO_EOF}) {
            ReplyTracker t = feed(new ReplyTracker(caps), ReplyTracker.Kind.RESULT,
                    concat(header(caps, 1), p(textRow("1"), err(1317, "70100", "Query execution was interrupted"))));
            assertEquals(1317, t.error.code());
            assertEquals(-1, t.status);
        }
    }

    @Test
    void aColumnCountOver250IsLengthEncoded() {
        ReplyTracker t = feed(new ReplyTracker(NO_EOF), ReplyTracker.Kind.RESULT, concat(header(NO_EOF, 300), p(textRow("v"), okFe(AC))));
        assertEquals(AC, t.status);
    }

    @Test
    void rowsStartingLikeTerminatorsAreRowsWhenLongEnough() {
        // a text row whose first value is 0xFB (NULL) or a short string, and a binary row (0x00 header)
        ReplyTracker t = feed(new ReplyTracker(NO_EOF), ReplyTracker.Kind.RESULT,
                concat(header(NO_EOF, 2), p(textRow(null, null), binaryRow(7), okFe(AC))));
        assertEquals(AC, t.status);
    }

    // ---- multi-results ----

    @Test
    void multiResultsEndingInOk() {
        for (int caps : new int[] {WITH_EOF, NO_EOF}) {
            ReplyTracker t = feed(new ReplyTracker(caps | My.MULTI_RESULTS), ReplyTracker.Kind.RESULT, concat(
                    header(caps, 1), p(textRow("1"), end(caps, AC | MORE)),
                    p(ok(1, AC | IN_TX | MORE)),
                    header(caps, 1), p(textRow("2"), textRow("3"), end(caps, AC | IN_TX | MORE)),
                    p(ok(0, AC))));
            assertEquals(AC, t.status, "the last OK's status (COMMIT ended the transaction)");
            assertNull(t.error);
        }
    }

    @Test
    void multiResultsEndingInErr() {
        for (int caps : new int[] {WITH_EOF, NO_EOF}) {
            ReplyTracker t = feed(new ReplyTracker(caps | My.MULTI_RESULTS), ReplyTracker.Kind.RESULT, concat(
                    p(ok(0, AC | IN_TX | MORE)),
                    header(caps, 1), p(textRow("1"), end(caps, AC | IN_TX | MORE)),
                    p(err(1064, "42000", "You have an error in your SQL syntax"))));
            assertEquals(1064, t.error.code());
            assertEquals(-1, t.status);
        }
    }

    @Test
    void moreResultsOnASimpleCommandDoNotExtendIt() {
        // only query-like commands have further results; the flag elsewhere must not make the proxy wait
        assertEquals(AC | MORE, feed(new ReplyTracker(NO_EOF), ReplyTracker.Kind.SIMPLE, ok(0, AC | MORE)).status);
    }

    // ---- LOCAL INFILE ----

    @Test
    void localInfileRequestThenContentsThenOk() {
        ReplyTracker t = new ReplyTracker(NO_EOF | My.LOCAL_FILES);
        t.start(ReplyTracker.Kind.RESULT);
        ByteBuf req = infileRequest("/tmp/data.csv");
        assertFalse(t.accept(req), "the request does not end the reply");
        req.release();
        assertTrue(t.busy());
        assertTrue(t.awaitingInfile(), "the client's turn: the file's contents");
        ByteBuf early = ok(0, AC);
        assertThrows(IllegalStateException.class, () -> t.accept(early), "a server packet while the client sends the file");
        early.release();
        t.infileSent();
        assertFalse(t.awaitingInfile());
        feedMore(t, ok(5, AC));
        assertEquals(AC, t.status);
    }

    @Test
    void localInfileRefusedAfterTheContents() {
        ReplyTracker t = new ReplyTracker(NO_EOF | My.LOCAL_FILES);
        t.start(ReplyTracker.Kind.RESULT);
        ByteBuf req = infileRequest("x");
        t.accept(req);
        req.release();
        t.infileSent();
        feedMore(t, err(1148, "42000", "The used command is not allowed with this MariaDB version"));
        assertEquals(1148, t.error.code());
    }

    // ---- COM_STMT_PREPARE ----

    record Prep(int columns, int params) {
    }

    static ByteBuf[] prepareReply(int caps, long id, int columns, int params) {
        List<ByteBuf> l = new ArrayList<>();
        l.add(prepareOk(id, columns, params));
        for (int i = 0; i < params; i++) {
            l.add(column("?"));
        }
        if (params > 0 && (caps & My.DEPRECATE_EOF) == 0) {
            l.add(eof(AC));
        }
        for (int i = 0; i < columns; i++) {
            l.add(column("c" + i));
        }
        if (columns > 0 && (caps & My.DEPRECATE_EOF) == 0) {
            l.add(eof(AC));
        }
        return l.toArray(new ByteBuf[0]);
    }

    @Test
    void prepareReplies() {
        for (int caps : new int[] {WITH_EOF, NO_EOF}) {
            for (Prep shape : List.of(new Prep(3, 2), new Prep(0, 2), new Prep(3, 0), new Prep(0, 0), new Prep(1, 1), new Prep(300, 260))) {
                String what = shape + ((caps & My.DEPRECATE_EOF) != 0 ? " DEPRECATE_EOF" : " with EOFs");
                ReplyTracker t = new ReplyTracker(caps);
                ByteBuf[] reply = prepareReply(caps, 0x80000007L, shape.columns(), shape.params());
                assertEquals(1 + shape.params() + shape.columns() + ((caps & My.DEPRECATE_EOF) != 0 ? 0
                        : (shape.params() > 0 ? 1 : 0) + (shape.columns() > 0 ? 1 : 0)), reply.length, what);
                feed(t, ReplyTracker.Kind.PREPARE, reply);
                ReplyTracker.Outcome o = t.outcome();
                assertEquals(new ReplyTracker.Outcome(-1, null, 0x80000007L, shape.params(), shape.columns()), o, what);
            }
        }
    }

    @Test
    void aPrepareReplyEndsBeforeTheNextReply() {
        // two replies back to back on one connection: the second must start where the first ended
        ReplyTracker t = feed(new ReplyTracker(WITH_EOF), ReplyTracker.Kind.PREPARE, prepareReply(WITH_EOF, 1, 0, 1));
        assertEquals(1, t.numParams);
        feed(t, ReplyTracker.Kind.RESULT, concat(header(WITH_EOF, 1), p(binaryRow(1), eof(AC))));
    }

    // ---- cursors ----

    @Test
    void executeWithACursorEndsAfterTheColumns() {
        ReplyTracker t = feed(new ReplyTracker(WITH_EOF), ReplyTracker.Kind.RESULT,
                columnCount(2), column("a"), column("b"), eof(AC | IN_TX | My.STATUS_CURSOR_EXISTS));
        assertEquals(AC | IN_TX | My.STATUS_CURSOR_EXISTS, t.status, "the rows come with COM_STMT_FETCH");
    }

    @Test
    void executeWithACursorUnderDeprecateEof() {
        // no EOF after the columns in this mode: the server ends the reply with an OK (0xFE) carrying the flag
        ReplyTracker t = feed(new ReplyTracker(NO_EOF), ReplyTracker.Kind.RESULT,
                columnCount(1), column("a"), okFe(AC | My.STATUS_CURSOR_EXISTS));
        assertEquals(AC | My.STATUS_CURSOR_EXISTS, t.status);
    }

    @Test
    void fetchRowsThenEof() {
        int lastRowSent = 0x80;
        ReplyTracker t = feed(new ReplyTracker(WITH_EOF), ReplyTracker.Kind.FETCH, binaryRow(1), binaryRow(2), eof(AC | My.STATUS_CURSOR_EXISTS));
        assertEquals(AC | My.STATUS_CURSOR_EXISTS, t.status);
        t = feed(t, ReplyTracker.Kind.FETCH, binaryRow(3), eof(AC | lastRowSent));
        assertEquals(AC | lastRowSent, t.status);
        assertEquals(AC, feed(t, ReplyTracker.Kind.FETCH, eof(AC)).status, "a fetch past the end: only the EOF");
        assertEquals(1421, feed(t, ReplyTracker.Kind.FETCH, err(1421, "HY000", "no cursor")).error.code());
        assertEquals(AC, feed(new ReplyTracker(NO_EOF), ReplyTracker.Kind.FETCH, binaryRow(1), okFe(AC)).status);
    }

    // ---- COM_FIELD_LIST, COM_STATISTICS ----

    @Test
    void fieldListColumnsThenEof() {
        for (int caps : new int[] {WITH_EOF, NO_EOF}) {
            ReplyTracker t = feed(new ReplyTracker(caps), ReplyTracker.Kind.FIELD_LIST, column("id"), column("v"), end(caps, AC));
            assertEquals(AC, t.status);
            assertEquals(1146, feed(t, ReplyTracker.Kind.FIELD_LIST, err(1146, "42S02", "no table")).error.code());
            assertEquals(AC, feed(t, ReplyTracker.Kind.FIELD_LIST, end(caps, AC)).status, "a table without columns");
        }
    }

    @Test
    void statisticsIsOneRawPacket() {
        ByteBuf text = packet("Uptime: 5  Threads: 1".getBytes(StandardCharsets.US_ASCII));
        assertEquals(-1, feed(new ReplyTracker(NO_EOF), ReplyTracker.Kind.RAW_ONE, text).status);
    }

    // ---- 16 MB packets ----

    @Test
    void aRowOver16MbContinuesWhateverTheContinuationStartsWith() {
        for (int first : new int[] {0xfe, 0xff, 0x00}) {
            for (int caps : new int[] {WITH_EOF, NO_EOF}) {
                String what = String.format("continuation starting 0x%02X, caps 0x%x", first, caps);
                // a text row of two values: 0xFFFFF0 bytes (lenenc 0xFD + 3 bytes), then 15 bytes (lenenc 0x0F),
                // 0xFFFFFF + 5 bytes in all: a full packet, then a 5-byte continuation holding the last 5 bytes of
                // the second value, which may be anything, such as an EOF's or an ERR's header
                byte[] row = new byte[My.MAX_PAYLOAD];
                java.util.Arrays.fill(row, (byte) 'x');
                row[0] = (byte) 0xfd;
                row[1] = (byte) 0xf0;
                row[2] = (byte) 0xff;
                row[3] = (byte) 0xff;
                row[4 + 0xfffff0] = 0x0f;
                ReplyTracker t = feed(new ReplyTracker(caps), ReplyTracker.Kind.RESULT, concat(header(caps, 2), p(
                        packet(row),
                        sized(5, first, 0xfe, 0, 0, 0),
                        textRow("after", "row"),
                        end(caps, AC | IN_TX))));
                assertEquals(AC | IN_TX, t.status, what);
                assertNull(t.error, what);
            }
        }
    }

    @Test
    void aContinuationOfExactly16MbIsFollowedByAnotherOne() {
        // one value of 2 * 0xFFFFFF - 9 bytes (0xFE + 8-byte length): exactly two full packets, then an empty one
        ReplyTracker t = feed(new ReplyTracker(NO_EOF), ReplyTracker.Kind.RESULT, concat(header(NO_EOF, 1), p(
                full(0xfe, 0xf5, 0xff, 0xff, 0x01, 0, 0, 0, 0),
                full(0xff),
                packet(new byte[0]),
                okFe(AC))));
        assertEquals(AC, t.status);
    }

    @Test
    void aRowStartingWith0xFeAndAnEightByteLengthIsARow() {
        // a value of 2^24 bytes or more is announced as 0xFE + 8-byte length: the packet is a full 16 MB one
        for (int caps : new int[] {WITH_EOF, NO_EOF}) {
            ReplyTracker t = feed(new ReplyTracker(caps), ReplyTracker.Kind.RESULT, concat(header(caps, 1), p(
                    full(0xfe, 0x10, 0, 0, 1, 0, 0, 0, 0),  // 0x1000010 bytes: 16 MB + 16
                    sized(0x1000010 - (My.MAX_PAYLOAD - 9)),
                    end(caps, AC))));
            assertEquals(AC, t.status);
        }
    }

    @Test
    void aFetchedRowOver16Mb() {
        // a binary row (0x00 header) of 0xFFFFFF + 3 bytes
        ReplyTracker t = feed(new ReplyTracker(WITH_EOF), ReplyTracker.Kind.FETCH, full(0x00), sized(3, 0xfe, 0, 0), eof(AC));
        assertEquals(AC, t.status);
    }

    // ---- after the end ----

    @Test
    void aPacketAfterTheEndThrows() {
        ReplyTracker t = feed(new ReplyTracker(NO_EOF), ReplyTracker.Kind.RESULT, ok(0, AC));
        ByteBuf extra = ok(0, AC);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> t.accept(extra));
        assertTrue(e.getMessage().contains("no reply was expected"), e.getMessage());
        extra.release();

        ReplyTracker fresh = new ReplyTracker(NO_EOF);
        ByteBuf first = err(1, "HY000", "x");
        assertThrows(IllegalStateException.class, () -> fresh.accept(first), "nothing started yet");
        first.release();
    }

    @Test
    void aPacketAfterAPrepareReplyThrows() {
        ReplyTracker t = feed(new ReplyTracker(WITH_EOF), ReplyTracker.Kind.PREPARE, prepareReply(WITH_EOF, 9, 1, 1));
        ByteBuf extra = eof(AC);
        assertThrows(IllegalStateException.class, () -> t.accept(extra));
        extra.release();
    }
}
