package dev.sluice.proxy.pg;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;

/** PostgreSQL v3 protocol constants and the few server messages the proxy writes itself. */
public final class Pg {
    private Pg() {
    }

    public static final int PROTOCOL_3_0 = 196608;
    public static final int SSL_REQUEST = 80877103;
    public static final int GSSENC_REQUEST = 80877104;
    public static final int CANCEL_REQUEST = 80877102;

    // SQLSTATEs the proxy itself raises
    public static final String CONNECTION_FAILURE = "08006";
    public static final String CANNOT_CONNECT = "08001";
    public static final String PROTOCOL_VIOLATION = "08P01";
    public static final String INVALID_PASSWORD = "28P01";
    public static final String INVALID_AUTHORIZATION = "28000";
    public static final String INVALID_CATALOG = "3D000";
    public static final String TOO_MANY_CONNECTIONS = "53300";
    public static final String FEATURE_NOT_SUPPORTED = "0A000";
    public static final String QUERY_CANCELED = "57014";
    public static final String ADMIN_SHUTDOWN = "57P01";

    /** Reads a NUL-terminated UTF-8 string at the reader index and moves past it. */
    public static String cstring(ByteBuf b) {
        int end = b.indexOf(b.readerIndex(), b.writerIndex(), (byte) 0);
        if (end < 0) {
            throw new IllegalArgumentException("string not terminated");
        }
        String s = b.toString(b.readerIndex(), end - b.readerIndex(), StandardCharsets.UTF_8);
        b.readerIndex(end + 1);
        return s;
    }

    public static void writeCString(ByteBuf b, String s) {
        b.writeCharSequence(s, StandardCharsets.UTF_8);
        b.writeByte(0);
    }

    /** Starts a typed message; finish with {@link #end}. */
    public static int begin(ByteBuf b, char type) {
        b.writeByte(type);
        int at = b.writerIndex();
        b.writeInt(0);
        return at;
    }

    public static ByteBuf end(ByteBuf b, int lengthAt) {
        b.setInt(lengthAt, b.writerIndex() - lengthAt);
        return b;
    }

    public static ByteBuf error(ByteBufAllocator a, String severity, String sqlState, String message) {
        ByteBuf b = a.buffer(32 + message.length() * 2);
        int at = begin(b, 'E');
        b.writeByte('S');
        writeCString(b, severity);
        b.writeByte('V');
        writeCString(b, severity);
        b.writeByte('C');
        writeCString(b, sqlState);
        b.writeByte('M');
        writeCString(b, message);
        b.writeByte(0);
        return end(b, at);
    }

    public static ByteBuf readyForQuery(ByteBufAllocator a, char status) {
        ByteBuf b = a.buffer(6);
        int at = begin(b, 'Z');
        b.writeByte(status);
        return end(b, at);
    }

    public static ByteBuf parameterStatus(ByteBufAllocator a, String name, String value) {
        ByteBuf b = a.buffer(8 + name.length() + value.length() * 2);
        int at = begin(b, 'S');
        writeCString(b, name);
        writeCString(b, value);
        return end(b, at);
    }

    public static ByteBuf backendKeyData(ByteBufAllocator a, int pid, int key) {
        ByteBuf b = a.buffer(13);
        int at = begin(b, 'K');
        b.writeInt(pid);
        b.writeInt(key);
        return end(b, at);
    }

    /** AuthenticationOk (0), cleartext (3), SASL (10), continue (11), final (12) with optional data. */
    public static ByteBuf authentication(ByteBufAllocator a, int code, byte[] data) {
        ByteBuf b = a.buffer(9 + (data == null ? 0 : data.length));
        int at = begin(b, 'R');
        b.writeInt(code);
        if (data != null) {
            b.writeBytes(data);
        }
        return end(b, at);
    }

    /** A simple Query message. */
    public static ByteBuf query(ByteBufAllocator a, String sql) {
        ByteBuf b = a.buffer(6 + sql.length() * 2);
        int at = begin(b, 'Q');
        writeCString(b, sql);
        return end(b, at);
    }

    /** Parse, as a backend needs it to re-create a client's prepared statement: same name, text, types. */
    public static ByteBuf parse(ByteBufAllocator a, String name, String sql, int[] paramTypes) {
        ByteBuf b = a.buffer(16 + name.length() + sql.length() * 2 + paramTypes.length * 4);
        int at = begin(b, 'P');
        writeCString(b, name);
        writeCString(b, sql);
        b.writeShort(paramTypes.length);
        for (int t : paramTypes) {
            b.writeInt(t);
        }
        return end(b, at);
    }

    public static ByteBuf closeStatement(ByteBufAllocator a, String name) {
        ByteBuf b = a.buffer(8 + name.length());
        int at = begin(b, 'C');
        b.writeByte('S');
        writeCString(b, name);
        return end(b, at);
    }

    public static ByteBuf terminate(ByteBufAllocator a) {
        ByteBuf b = a.buffer(5);
        int at = begin(b, 'X');
        return end(b, at);
    }

    /** An untyped startup packet: protocol 3.0 and name/value pairs. */
    public static ByteBuf startup(ByteBufAllocator a, java.util.Map<String, String> params) {
        ByteBuf b = a.buffer(128);
        b.writeInt(0);
        b.writeInt(PROTOCOL_3_0);
        params.forEach((k, v) -> {
            writeCString(b, k);
            writeCString(b, v);
        });
        b.writeByte(0);
        b.setInt(0, b.writerIndex());
        return b;
    }

    /** A typed message whose body is {@code body} (password, SASL responses). */
    public static ByteBuf message(ByteBufAllocator a, char type, byte[] body) {
        ByteBuf b = a.buffer(5 + body.length);
        int at = begin(b, type);
        b.writeBytes(body);
        return end(b, at);
    }

    public static ByteBuf cancelRequest(ByteBufAllocator a, int pid, int key) {
        ByteBuf b = a.buffer(16);
        b.writeInt(16);
        b.writeInt(CANCEL_REQUEST);
        b.writeInt(pid);
        b.writeInt(key);
        return b;
    }
}
