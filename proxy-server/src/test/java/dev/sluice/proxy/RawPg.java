package dev.sluice.proxy;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;

/**
 * A deliberately dumb PostgreSQL wire client over a plain socket, for what real drivers never send (protocol
 * garbage) and for looking at the raw authentication exchange. Only md5 login is implemented: it is the one
 * a test can compute by hand.
 */
final class RawPg implements AutoCloseable {
    record Msg(char type, byte[] body) {
        /** Fields of an ErrorResponse / NoticeResponse: 'S', 'C', 'M' … → value. */
        Map<Character, String> fields() {
            Map<Character, String> m = new HashMap<>();
            int i = 0;
            while (i < body.length && body[i] != 0) {
                char code = (char) body[i++];
                int end = i;
                while (body[end] != 0) {
                    end++;
                }
                m.put(code, new String(body, i, end - i, StandardCharsets.UTF_8));
                i = end + 1;
            }
            return m;
        }

        int authCode() {
            return ByteBuffer.wrap(body).getInt();
        }

        @Override
        public String toString() {
            return type == 'E' || type == 'N' ? type + fields().toString() : type + "(" + body.length + " bytes)";
        }
    }

    final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;

    RawPg(String host, int port) throws IOException {
        this(host, port, null);
    }

    /** From the local address {@code source} (another loopback address, say), or any when null. */
    RawPg(String host, int port, String source) throws IOException {
        socket = source == null ? new Socket(host, port) : new Socket(host, port, java.net.InetAddress.getByName(source), 0);
        // a proxy that neither answers nor closes must fail the test, not hang it
        socket.setSoTimeout(30_000);
        in = new DataInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    static byte[] startupPacket(Map<String, String> params) {
        return startupPacket(196608, params);
    }

    /** A startup packet with any protocol code (major << 16 | minor) and the v3 parameter layout. */
    static byte[] startupPacket(int code, Map<String, String> params) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        writeInt(b, 0);
        writeInt(b, code);
        params.forEach((k, v) -> {
            cstring(b, k);
            cstring(b, v);
        });
        b.write(0);
        byte[] p = b.toByteArray();
        ByteBuffer.wrap(p).putInt(p.length);
        return p;
    }

    static byte[] typed(char type, byte[] body) {
        ByteBuffer b = ByteBuffer.allocate(5 + body.length);
        b.put((byte) type).putInt(4 + body.length).put(body);
        return b.array();
    }

    static byte[] query(String sql) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        cstring(b, sql);
        return typed('Q', b.toByteArray());
    }

    void send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    Msg read() throws IOException {
        char type = (char) in.readUnsignedByte();
        int len = in.readInt();
        if (len < 4 || len > 1 << 24) {
            throw new IOException("implausible message length " + len + " for type '" + type + "'");
        }
        byte[] body = new byte[len - 4];
        in.readFully(body);
        return new Msg(type, body);
    }

    /** Reads messages until one of {@code type}; fails on an ErrorResponse unless 'E' is what is wanted. */
    Msg readUntil(char type) throws IOException {
        while (true) {
            Msg m = read();
            if (m.type == type) {
                return m;
            }
            if (m.type == 'E') {
                throw new AssertionError("unexpected error from the proxy: " + m);
            }
        }
    }

    /**
     * True when the proxy closed the connection (EOF or reset) within the socket timeout with nothing more sent
     * first: after a FATAL error nothing may follow it.
     */
    boolean closedByPeer() throws IOException {
        try {
            int b = in.read();
            if (b >= 0) {
                throw new AssertionError("after the FATAL error the proxy sent more: a message of type '" + (char) b + "'");
            }
            return true;
        } catch (java.net.SocketException e) {
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        }
    }

    /** Startup + md5 password exchange, up to the first ReadyForQuery. */
    void loginMd5(String database, String user, String password) throws IOException {
        send(startupPacket(Map.of("user", user, "database", database)));
        answerMd5(read(), user, password);
    }

    /** Answers the md5 password request {@code auth}, up to the first ReadyForQuery. */
    void answerMd5(Msg auth, String user, String password) throws IOException {
        if (auth.type != 'R' || auth.authCode() != 5) {
            throw new AssertionError("expected an md5 password request, got " + auth);
        }
        byte[] salt = java.util.Arrays.copyOfRange(auth.body, 4, 8);
        String inner = md5Hex((password + user).getBytes(StandardCharsets.UTF_8));
        byte[] innerSalted = new byte[32 + 4];
        System.arraycopy(inner.getBytes(StandardCharsets.US_ASCII), 0, innerSalted, 0, 32);
        System.arraycopy(salt, 0, innerSalted, 32, 4);
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        cstring(b, "md5" + md5Hex(innerSalted));
        send(typed('p', b.toByteArray()));
        readUntil('Z');
    }

    private static String md5Hex(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(b));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void writeInt(ByteArrayOutputStream b, int v) {
        b.write(v >>> 24);
        b.write(v >>> 16);
        b.write(v >>> 8);
        b.write(v);
    }

    private static void cstring(ByteArrayOutputStream b, String s) {
        b.writeBytes(s.getBytes(StandardCharsets.UTF_8));
        b.write(0);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
