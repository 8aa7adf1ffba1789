package dev.sluice.proxy.mysql;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;

/** The two packets of the connection phase: the server's greeting and the client's answer. */
public final class Handshake {
    private Handshake() {
    }

    /** HandshakeV10: sent by a server (a backend to the proxy, the proxy to a client). */
    public record Greeting(String serverVersion, long connectionId, byte[] scramble, int caps, int collation, int status,
                    String plugin) {
        public static Greeting decode(ByteBuf frame) {
            ByteBuf b = frame.duplicate().skipBytes(4);
            int protocol = b.readUnsignedByte();
            if (protocol == 0xff) {
                throw new IllegalArgumentException("server refused the connection: " + My.Err.decode(frame));
            }
            if (protocol != 10) {
                throw new IllegalArgumentException("unsupported handshake protocol version " + protocol);
            }
            String version = My.readNulString(b);
            long id = b.readUnsignedIntLE();
            byte[] part1 = new byte[8];
            b.readBytes(part1).skipBytes(1);
            int caps = b.readUnsignedShortLE();
            int collation = b.readUnsignedByte();
            int status = b.readUnsignedShortLE();
            caps |= b.readUnsignedShortLE() << 16;
            int dataLen = b.readUnsignedByte();
            b.skipBytes(10);
            byte[] scramble = part1;
            if ((caps & My.SECURE_CONNECTION) != 0) {
                int n = Math.max(13, dataLen - 8);
                byte[] part2 = new byte[n];
                b.readBytes(part2);
                int keep = part2[n - 1] == 0 ? n - 1 : n; // the scramble is NUL-terminated on the wire
                scramble = new byte[8 + keep];
                System.arraycopy(part1, 0, scramble, 0, 8);
                System.arraycopy(part2, 0, scramble, 8, keep);
            }
            String plugin = (caps & My.PLUGIN_AUTH) != 0 && b.isReadable() ? My.readNulString(b) : "mysql_native_password";
            return new Greeting(version, id, scramble, caps, collation, status, plugin);
        }

        ByteBuf encode(ByteBufAllocator alloc) {
            ByteBuf b = My.start(alloc, 0).writeByte(10);
            My.writeNulString(b, serverVersion);
            b.writeIntLE((int) connectionId).writeBytes(scramble, 0, 8).writeByte(0);
            b.writeShortLE(caps & 0xffff).writeByte(collation).writeShortLE(status).writeShortLE(caps >>> 16);
            b.writeByte(scramble.length + 1).writeZero(10);
            b.writeBytes(scramble, 8, scramble.length - 8).writeByte(0);
            My.writeNulString(b, plugin);
            return My.seal(b);
        }
    }

    /** HandshakeResponse41 (or, when only the first 32 bytes came and SSL is set, an SSLRequest). */
    record Response(int caps, int maxPacket, int collation, String user, byte[] authResponse, String database,
                    String plugin, byte[] attrs, boolean sslRequest) {
        static Response decode(ByteBuf frame) {
            int len = My.payloadLength(frame);
            ByteBuf b = frame.duplicate().skipBytes(4);
            if (len < 32) {
                throw new IllegalArgumentException("handshake response of " + len + " bytes (at least 32 expected; "
                        + "pre-4.1 clients are not supported)");
            }
            int caps = b.readIntLE();
            if ((caps & My.PROTOCOL_41) == 0) {
                throw new IllegalArgumentException("client does not speak protocol 4.1 (CLIENT_PROTOCOL_41 not set)");
            }
            int maxPacket = b.readIntLE();
            int collation = b.readUnsignedByte();
            b.skipBytes(23);
            if (!b.isReadable()) {
                if ((caps & My.SSL) == 0) {
                    throw new IllegalArgumentException("handshake response without a user name");
                }
                return new Response(caps, maxPacket, collation, null, null, null, null, null, true);
            }
            String user = My.readNulString(b);
            byte[] auth;
            if ((caps & My.PLUGIN_AUTH_LENENC) != 0) {
                auth = My.readLenencBytes(b);
            } else if ((caps & My.SECURE_CONNECTION) != 0) {
                auth = new byte[b.readUnsignedByte()];
                b.readBytes(auth);
            } else {
                auth = My.readNulString(b).getBytes(StandardCharsets.UTF_8);
            }
            String db = (caps & My.CONNECT_WITH_DB) != 0 && b.isReadable() ? My.readNulString(b) : null;
            String plugin = (caps & My.PLUGIN_AUTH) != 0 && b.isReadable() ? My.readNulString(b) : "mysql_native_password";
            byte[] attrs = null;
            if ((caps & My.CONNECT_ATTRS) != 0 && b.isReadable()) {
                attrs = My.readLenencBytes(b);
            }
            return new Response(caps, maxPacket, collation, user, auth, db == null || db.isEmpty() ? null : db, plugin, attrs, false);
        }

        ByteBuf encode(ByteBufAllocator alloc, int seq) {
            ByteBuf b = My.start(alloc, seq).writeIntLE(caps).writeIntLE(maxPacket).writeByte(collation).writeZero(23);
            My.writeNulString(b, user);
            My.writeLenenc(b, authResponse.length);
            b.writeBytes(authResponse);
            if ((caps & My.CONNECT_WITH_DB) != 0) {
                My.writeNulString(b, database == null ? "" : database);
            }
            My.writeNulString(b, plugin);
            if ((caps & My.CONNECT_ATTRS) != 0) {
                byte[] a = attrs == null ? new byte[0] : attrs;
                My.writeLenenc(b, a.length);
                b.writeBytes(a);
            }
            return My.seal(b);
        }
    }

    /** COM_CHANGE_USER: the new user, its token, database and collation. */
    record ChangeUser(String user, byte[] authResponse, String database, int collation, String plugin) {
        static ChangeUser decode(ByteBuf frame, int caps) {
            ByteBuf b = frame.duplicate().skipBytes(5);
            String user = My.readNulString(b);
            byte[] auth;
            if ((caps & My.SECURE_CONNECTION) != 0) {
                auth = new byte[b.readUnsignedByte()];
                b.readBytes(auth);
            } else {
                auth = My.readNulString(b).getBytes(StandardCharsets.UTF_8);
            }
            String db = b.isReadable() ? My.readNulString(b) : null;
            int collation = b.readableBytes() >= 2 ? b.readUnsignedShortLE() : -1;
            String plugin = (caps & My.PLUGIN_AUTH) != 0 && b.isReadable() ? My.readNulString(b) : null;
            return new ChangeUser(user, auth, db == null || db.isEmpty() ? null : db, collation, plugin);
        }
    }

    /** Connection attributes naming the proxy, for the backend's performance_schema / processlist. */
    static byte[] proxyAttrs() {
        io.netty.buffer.ByteBuf b = io.netty.buffer.Unpooled.buffer();
        for (String s : new String[] {"_client_name", "sluice", "program_name", "sluice-proxy"}) {
            byte[] v = s.getBytes(StandardCharsets.UTF_8);
            My.writeLenenc(b, v.length);
            b.writeBytes(v);
        }
        byte[] out = new byte[b.readableBytes()];
        b.readBytes(out);
        return out;
    }
}
