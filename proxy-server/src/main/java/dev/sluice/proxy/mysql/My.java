package dev.sluice.proxy.mysql;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;

/**
 * MySQL client/server protocol constants and the few packets the proxy writes itself. A packet on the wire
 * is a 3-byte little-endian payload length, a 1-byte sequence number and the payload; frames in this
 * package keep that 4-byte header, so a relayed packet is passed on untouched. What the sharded session
 * ({@code dev.sluice.proxy.mysql.shard}, a protocol client of the inner proxies) needs is public; the rest is not.
 */
public final class My {
    private My() {
    }

    // capability flags
    static final int LONG_PASSWORD = 1;
    static final int FOUND_ROWS = 1 << 1;
    static final int LONG_FLAG = 1 << 2;
    static final int CONNECT_WITH_DB = 1 << 3;
    static final int NO_SCHEMA = 1 << 4;
    static final int COMPRESS = 1 << 5;
    static final int LOCAL_FILES = 1 << 7;
    static final int IGNORE_SPACE = 1 << 8;
    static final int PROTOCOL_41 = 1 << 9;
    static final int INTERACTIVE = 1 << 10;
    static final int SSL = 1 << 11;
    static final int TRANSACTIONS = 1 << 13;
    static final int SECURE_CONNECTION = 1 << 15;
    static final int MULTI_STATEMENTS = 1 << 16;
    static final int MULTI_RESULTS = 1 << 17;
    static final int PS_MULTI_RESULTS = 1 << 18;
    static final int PLUGIN_AUTH = 1 << 19;
    static final int CONNECT_ATTRS = 1 << 20;
    static final int PLUGIN_AUTH_LENENC = 1 << 21;
    static final int SESSION_TRACK = 1 << 23;
    public static final int DEPRECATE_EOF = 1 << 24;

    /** What the proxy offers clients. No COMPRESS (the relay does not decompress), no query attributes. */
    static final int SERVER_CAPS = LONG_PASSWORD | FOUND_ROWS | LONG_FLAG | CONNECT_WITH_DB | NO_SCHEMA | LOCAL_FILES
            | IGNORE_SPACE | PROTOCOL_41 | INTERACTIVE | TRANSACTIONS | SECURE_CONNECTION | MULTI_STATEMENTS
            | MULTI_RESULTS | PS_MULTI_RESULTS | PLUGIN_AUTH | CONNECT_ATTRS | PLUGIN_AUTH_LENENC | SESSION_TRACK
            | DEPRECATE_EOF;
    /**
     * Client flags that change what the server sends or how it behaves for the session. A backend connection is
     * only lent to clients that negotiated the same ones, since its replies are relayed byte for byte.
     */
    public static final int RELAY_CAPS = FOUND_ROWS | LOCAL_FILES | IGNORE_SPACE | INTERACTIVE | MULTI_STATEMENTS | MULTI_RESULTS
            | PS_MULTI_RESULTS | SESSION_TRACK | DEPRECATE_EOF;
    /** Always asked of backends, whatever the client negotiated. */
    public static final int BACKEND_BASE_CAPS = LONG_PASSWORD | LONG_FLAG | PROTOCOL_41 | TRANSACTIONS | SECURE_CONNECTION
            | PLUGIN_AUTH | PLUGIN_AUTH_LENENC | CONNECT_ATTRS;

    // status flags
    public static final int STATUS_IN_TRANS = 1;
    public static final int STATUS_AUTOCOMMIT = 2;
    public static final int STATUS_MORE_RESULTS = 8;
    static final int STATUS_CURSOR_EXISTS = 0x40;
    static final int STATUS_IN_TRANS_READONLY = 0x2000;

    // commands
    public static final int COM_QUIT = 0x01;
    public static final int COM_INIT_DB = 0x02;
    public static final int COM_QUERY = 0x03;
    static final int COM_FIELD_LIST = 0x04;
    static final int COM_STATISTICS = 0x09;
    public static final int COM_PROCESS_KILL = 0x0c;
    public static final int COM_PING = 0x0e;
    static final int COM_CHANGE_USER = 0x11;
    public static final int COM_STMT_PREPARE = 0x16;
    public static final int COM_STMT_EXECUTE = 0x17;
    public static final int COM_STMT_SEND_LONG_DATA = 0x18;
    public static final int COM_STMT_CLOSE = 0x19;
    public static final int COM_STMT_RESET = 0x1a;
    public static final int COM_SET_OPTION = 0x1b;
    static final int COM_STMT_FETCH = 0x1c;
    public static final int COM_RESET_CONNECTION = 0x1f;

    public static final int MAX_PAYLOAD = 0xffffff;
    /** utf8mb4_general_ci: the greeting's default collation. */
    static final int DEFAULT_COLLATION = 45;

    // errors the proxy raises itself (codes and states as MySQL uses them)
    static final int ER_ACCESS_DENIED = 1045;
    static final int ER_CON_COUNT = 1040;
    public static final int ER_HANDSHAKE = 1043;
    public static final int ER_UNKNOWN_COM = 1047;
    static final int ER_NET_PACKET_TOO_LARGE = 1153;
    public static final int ER_CONNECTION_LOST = 2013;
    public static final int ER_CANNOT_CONNECT = 2003;
    public static final int ER_NO_SUCH_THREAD = 1094;
    public static final int ER_UNKNOWN_STMT = 1243;
    public static final int ER_NOT_SUPPORTED = 1235;

    public static int payloadLength(ByteBuf frame) {
        return frame.getUnsignedMediumLE(frame.readerIndex());
    }

    public static int seq(ByteBuf frame) {
        return frame.getUnsignedByte(frame.readerIndex() + 3);
    }

    /** First payload byte (the command of a client packet, the header of a server packet); -1 when empty. */
    public static int first(ByteBuf frame) {
        return payloadLength(frame) == 0 ? -1 : frame.getUnsignedByte(frame.readerIndex() + 4);
    }

    /** A buffer with room for the header; finish it with {@link #seal}. */
    public static ByteBuf start(ByteBufAllocator alloc, int seq) {
        ByteBuf b = alloc.buffer();
        b.writeMediumLE(0).writeByte(seq);
        return b;
    }

    public static ByteBuf seal(ByteBuf b) {
        b.setMediumLE(b.readerIndex(), b.readableBytes() - 4);
        return b;
    }

    public static ByteBuf packet(ByteBufAllocator alloc, int seq, byte[] payload) {
        ByteBuf b = alloc.buffer(4 + payload.length);
        b.writeMediumLE(payload.length).writeByte(seq).writeBytes(payload);
        return b;
    }

    static ByteBuf ok(ByteBufAllocator alloc, int seq, long affected, int status) {
        ByteBuf b = start(alloc, seq).writeByte(0);
        writeLenenc(b, affected);
        writeLenenc(b, 0);
        b.writeShortLE(status).writeShortLE(0);
        return seal(b);
    }

    public static ByteBuf err(ByteBufAllocator alloc, int seq, int code, String sqlState, String message) {
        ByteBuf b = start(alloc, seq).writeByte(0xff).writeShortLE(code).writeByte('#');
        b.writeCharSequence(sqlState, StandardCharsets.US_ASCII);
        b.writeCharSequence(message, StandardCharsets.UTF_8);
        return seal(b);
    }

    public static ByteBuf command(ByteBufAllocator alloc, int command, String arg) {
        ByteBuf b = start(alloc, 0).writeByte(command);
        b.writeCharSequence(arg, StandardCharsets.UTF_8);
        return seal(b);
    }

    public static ByteBuf command(ByteBufAllocator alloc, int command) {
        return seal(start(alloc, 0).writeByte(command));
    }

    public static void writeLenenc(ByteBuf b, long v) {
        if (v < 251) {
            b.writeByte((int) v);
        } else if (v < 1 << 16) {
            b.writeByte(0xfc).writeShortLE((int) v);
        } else if (v < 1 << 24) {
            b.writeByte(0xfd).writeMediumLE((int) v);
        } else {
            b.writeByte(0xfe).writeLongLE(v);
        }
    }

    public static long readLenenc(ByteBuf b) {
        int f = b.readUnsignedByte();
        return switch (f) {
            case 0xfc -> b.readUnsignedShortLE();
            case 0xfd -> b.readUnsignedMediumLE();
            case 0xfe -> b.readLongLE();
            case 0xfb -> -1; // NULL in a row
            default -> f;
        };
    }

    static byte[] readLenencBytes(ByteBuf b) {
        long n = readLenenc(b);
        if (n < 0 || n > b.readableBytes()) {
            throw new IllegalArgumentException("length-encoded string of " + n + " bytes, " + b.readableBytes() + " left");
        }
        byte[] out = new byte[(int) n];
        b.readBytes(out);
        return out;
    }

    static String readNulString(ByteBuf b) {
        int end = b.indexOf(b.readerIndex(), b.writerIndex(), (byte) 0);
        if (end < 0) {
            throw new IllegalArgumentException("string without its terminating NUL");
        }
        String s = b.toString(b.readerIndex(), end - b.readerIndex(), StandardCharsets.UTF_8);
        b.readerIndex(end + 1);
        return s;
    }

    static void writeNulString(ByteBuf b, String s) {
        b.writeCharSequence(s, StandardCharsets.UTF_8);
        b.writeByte(0);
    }

    /** The payload of a client packet after its command byte, as text (COM_QUERY, COM_INIT_DB …). */
    public static String text(ByteBuf frame) {
        return frame.toString(frame.readerIndex() + 5, payloadLength(frame) - 1, StandardCharsets.UTF_8);
    }

    /**
     * Status flags of an OK (0x00 or 0xFE header) or EOF packet. An EOF is 5 bytes; an OK at least 7, whichever
     * header it has, so the length tells them apart.
     */
    public static int okStatus(ByteBuf frame) {
        ByteBuf b = frame.duplicate().skipBytes(4);
        int header = b.readUnsignedByte();
        if (header == 0xfe && payloadLength(frame) < 7) {
            b.skipBytes(2); // EOF: warnings, then status
            return b.readUnsignedShortLE();
        }
        readLenenc(b); // affected rows
        readLenenc(b); // last insert id
        return b.readUnsignedShortLE();
    }

    /** A decoded ERR packet. */
    public record Err(int code, String sqlState, String message) {
        public static Err decode(ByteBuf frame) {
            ByteBuf b = frame.duplicate().skipBytes(5);
            int code = b.readUnsignedShortLE();
            String state = "HY000";
            if (b.isReadable() && b.getByte(b.readerIndex()) == '#' && b.readableBytes() >= 6) {
                b.skipBytes(1);
                state = b.readCharSequence(5, StandardCharsets.US_ASCII).toString();
            }
            return new Err(code, state, b.toString(StandardCharsets.UTF_8));
        }

        @Override
        public String toString() {
            return code + " (" + sqlState + ") " + message;
        }
    }
}
