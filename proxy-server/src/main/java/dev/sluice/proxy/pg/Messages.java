package dev.sluice.proxy.pg;

import io.netty.buffer.ByteBuf;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The protocol messages the proxy looks inside, one small immutable record each with a static
 * {@code decode}. Everything else is relayed as bytes. Each decode takes a whole frame from
 * {@link PgFrameDecoder} (type byte and length included) and leaves its reader index alone. A malformed
 * message (unterminated string, truncated field, bad value) is an {@link IllegalArgumentException}.
 */
public final class Messages {
    private Messages() {
    }

    /** StartupMessage, SSLRequest, GSSENCRequest or CancelRequest (untyped; {@code code} tells which). */
    public record Startup(int code, Map<String, String> params, int cancelPid, int cancelKey) {
        public static Startup decode(ByteBuf frame) {
            ByteBuf b = frame.duplicate();
            b.skipBytes(4);
            need(b, 4, "startup packet");
            int code = b.readInt();
            if (code == Pg.CANCEL_REQUEST) {
                if (b.readableBytes() < 8) {
                    throw new IllegalArgumentException("CancelRequest too short");
                }
                return new Startup(code, Map.of(), b.readInt(), b.readInt());
            }
            Map<String, String> params = new LinkedHashMap<>();
            if (code >>> 16 == 3) { // 3.x: the same layout (a newer minor is negotiated down to 3.0)
                while (b.isReadable() && b.getByte(b.readerIndex()) != 0) {
                    String k = Pg.cstring(b);
                    params.put(k, Pg.cstring(b));
                }
            }
            return new Startup(code, params, 0, 0);
        }
    }

    /** Query ('Q'): simple protocol, one or more statements. */
    public record Query(String sql) {
        public static Query decode(ByteBuf frame) {
            ByteBuf b = frame.duplicate();
            b.skipBytes(5);
            return new Query(Pg.cstring(b));
        }
    }

    /** Parse ('P'): a statement name ("" = unnamed), its text and declared parameter types. */
    public record Parse(String name, String sql, int[] paramTypes) {
        public static Parse decode(ByteBuf frame) {
            ByteBuf b = frame.duplicate();
            b.skipBytes(5);
            String name = Pg.cstring(b);
            String sql = Pg.cstring(b);
            need(b, 2, "Parse");
            int n = b.readUnsignedShort();
            need(b, 4 * n, "Parse"); // before allocating for a count the message does not hold
            int[] types = new int[n];
            for (int i = 0; i < n; i++) {
                types[i] = b.readInt();
            }
            return new Parse(name, sql, types);
        }
    }

    /** Bind ('B'): only the names matter for routing; parameter values are relayed untouched. */
    public record Bind(String portal, String statement) {
        public static Bind decode(ByteBuf frame) {
            ByteBuf b = frame.duplicate();
            b.skipBytes(5);
            String portal = Pg.cstring(b);
            return new Bind(portal, Pg.cstring(b));
        }
    }

    /** Describe ('D') or Close ('C'): 'S' for a statement, 'P' for a portal, and its name. */
    public record Target(char kind, String name) {
        public static Target decode(ByteBuf frame) {
            ByteBuf b = frame.duplicate();
            b.skipBytes(5);
            need(b, 1, "Describe/Close");
            char kind = (char) b.readByte();
            if (kind != 'S' && kind != 'P') {
                throw new IllegalArgumentException("expected 'S' or 'P', got '" + kind + "'");
            }
            return new Target(kind, Pg.cstring(b));
        }
    }

    /** Execute ('E'): the portal to run. */
    public record Execute(String portal) {
        public static Execute decode(ByteBuf frame) {
            ByteBuf b = frame.duplicate();
            b.skipBytes(5);
            return new Execute(Pg.cstring(b));
        }
    }

    /** ErrorResponse / NoticeResponse from a backend: the fields the proxy logs and counts. */
    public record ErrorFields(String severity, String sqlState, String message) {
        public static ErrorFields decode(ByteBuf frame) {
            ByteBuf b = frame.duplicate();
            b.skipBytes(5);
            String severity = "";
            String state = "";
            String message = "";
            while (b.isReadable()) {
                byte f = b.readByte();
                if (f == 0) {
                    break;
                }
                String v = Pg.cstring(b);
                switch (f) {
                    case 'S' -> severity = v;
                    case 'C' -> state = v;
                    case 'M' -> message = v;
                    default -> { }
                }
            }
            return new ErrorFields(severity, state, message);
        }
    }

    /** Authentication request ('R') from a backend: the code and what follows it. */
    public record Auth(int code, byte[] data) {
        public static Auth decode(ByteBuf frame) {
            ByteBuf b = frame.duplicate();
            b.skipBytes(5);
            need(b, 4, "Authentication request");
            int code = b.readInt();
            byte[] data = new byte[b.readableBytes()];
            b.readBytes(data);
            return new Auth(code, data);
        }
    }

    /**
     * A message shorter than its fields is malformed: the same {@link IllegalArgumentException} as every other
     * malformed message (what the callers turn into a protocol error), not an IndexOutOfBoundsException.
     */
    private static void need(ByteBuf b, int bytes, String message) {
        if (b.readableBytes() < bytes) {
            throw new IllegalArgumentException(message + " message truncated: " + b.readableBytes() + " bytes left, "
                    + bytes + " needed");
        }
    }

    /** PasswordMessage / SASLInitialResponse / SASLResponse ('p') from a client: its raw body. */
    public static byte[] body(ByteBuf frame) {
        byte[] data = new byte[frame.readableBytes() - 5];
        frame.getBytes(frame.readerIndex() + 5, data);
        return data;
    }
}
