package dev.sluice.proxy.mysql;

import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * A MySQL client on a bare socket, for sending what no driver would: it frames packets, reads the greeting,
 * logs in with mysql_native_password and reads replies, and otherwise sends whatever bytes it is given. It
 * never negotiates DEPRECATE_EOF or MULTI_RESULTS, so a result set always ends with an EOF packet.
 */
final class RawMy implements AutoCloseable {
    static final int BASE_CAPS = My.LONG_PASSWORD | My.LONG_FLAG | My.PROTOCOL_41 | My.TRANSACTIONS | My.SECURE_CONNECTION
            | My.PLUGIN_AUTH;

    /** One packet as received: sequence number and payload. */
    record Packet(int seq, byte[] payload) {
        int first() {
            return payload.length == 0 ? -1 : payload[0] & 0xff;
        }

        boolean isErr() {
            return first() == 0xff;
        }

        boolean isOk() {
            return first() == 0x00;
        }

        boolean isEof() {
            return first() == 0xfe && payload.length < 9;
        }

        /** Code of an ERR packet. */
        int errCode() {
            return (payload[1] & 0xff) | (payload[2] & 0xff) << 8;
        }

        /** SQLSTATE of an ERR packet (after '#'). */
        String sqlState() {
            return new String(payload, 4, 5, StandardCharsets.US_ASCII);
        }

        /** Message of an ERR packet. */
        String message() {
            return new String(payload, 9, payload.length - 9, StandardCharsets.UTF_8);
        }

        @Override
        public String toString() {
            if (isErr() && payload.length >= 9) {
                return "ERR " + errCode() + " (" + sqlState() + ") " + message();
            }
            return "packet seq " + seq + ": " + HexFormat.of().formatHex(payload, 0, Math.min(64, payload.length))
                    + (payload.length > 64 ? "… (" + payload.length + " bytes)" : "");
        }
    }

    /** A command's reply: an OK, an ERR, or a result set's rows (text protocol, values as strings, null for NULL). */
    record Reply(Packet ok, Packet err, List<List<String>> rows) {
        String value() {
            if (err != null) {
                throw new AssertionError("expected a result, got " + err);
            }
            return rows.get(0).get(0);
        }

        @Override
        public String toString() {
            return err != null ? err.toString() : ok != null ? "OK" : "rows " + rows;
        }
    }

    final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    Handshake.Greeting greeting;

    RawMy(String host, int port) throws IOException {
        socket = new Socket(host, port);
        socket.setSoTimeout(20_000);
        socket.setTcpNoDelay(true);
        in = new DataInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    /** Reads the server's greeting. */
    Handshake.Greeting greeting() throws IOException {
        Packet p = read();
        if (p.isErr()) {
            throw new IOException("refused instead of greeted: " + p);
        }
        greeting = Handshake.Greeting.decode(Unpooled.wrappedBuffer(frame(p.seq(), p.payload())));
        return greeting;
    }

    /** A HandshakeResponse41 payload for mysql_native_password, database and all. */
    byte[] response(int caps, String user, String password, String database) {
        ByteBuffer b = ByteBuffer.allocate(512).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(caps | (database != null ? My.CONNECT_WITH_DB : 0)).putInt(16 << 20).put((byte) My.DEFAULT_COLLATION).put(new byte[23]);
        b.put(user.getBytes(StandardCharsets.UTF_8)).put((byte) 0);
        byte[] token = password.isEmpty() ? new byte[0] : MyAuth.nativeToken(password, greeting.scramble());
        b.put((byte) token.length).put(token);
        if (database != null) {
            b.put(database.getBytes(StandardCharsets.UTF_8)).put((byte) 0);
        }
        b.put(MyAuth.NATIVE.getBytes(StandardCharsets.US_ASCII)).put((byte) 0);
        byte[] out = new byte[b.position()];
        b.flip().get(out);
        return out;
    }

    /** Greeting, response, OK: a logged-in session. */
    RawMy login(String user, String password, String database) throws IOException {
        greeting();
        send(1, response(BASE_CAPS, user, password, database));
        Packet p = read();
        if (!p.isOk()) {
            throw new IOException("login failed: " + p);
        }
        return this;
    }

    static byte[] frame(int seq, byte[] payload) {
        byte[] f = new byte[4 + payload.length];
        f[0] = (byte) payload.length;
        f[1] = (byte) (payload.length >>> 8);
        f[2] = (byte) (payload.length >>> 16);
        f[3] = (byte) seq;
        System.arraycopy(payload, 0, f, 4, payload.length);
        return f;
    }

    void send(int seq, byte[] payload) throws IOException {
        sendRaw(frame(seq, payload));
    }

    void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** A command packet (sequence 0): the command byte and its argument bytes. */
    void command(int command, byte[] arg) throws IOException {
        byte[] p = new byte[1 + arg.length];
        p[0] = (byte) command;
        System.arraycopy(arg, 0, p, 1, arg.length);
        send(0, p);
    }

    Reply query(String sql) throws IOException {
        return query(sql.getBytes(StandardCharsets.UTF_8));
    }

    Reply query(byte[] sql) throws IOException {
        command(My.COM_QUERY, sql);
        return reply();
    }

    /** Reads a command's reply: OK, ERR, or a result set (text protocol) up to its final EOF. */
    Reply reply() throws IOException {
        Packet p = read();
        if (p.isErr()) {
            return new Reply(null, p, null);
        }
        if (p.isOk()) {
            return new Reply(p, null, null);
        }
        int columns = p.payload()[0] & 0xff;
        if (columns >= 251) {
            throw new IOException("more columns than this client reads: " + p);
        }
        for (int i = 0; i < columns; i++) {
            read();
        }
        Packet eof = read();
        if (!eof.isEof()) {
            throw new IOException("expected the EOF after the columns, got " + eof);
        }
        List<List<String>> rows = new ArrayList<>();
        while (true) {
            Packet r = read();
            if (r.isEof()) {
                return new Reply(null, null, rows);
            }
            if (r.isErr()) {
                return new Reply(null, r, rows);
            }
            rows.add(textRow(r.payload(), columns));
        }
    }

    static List<String> textRow(byte[] p, int columns) {
        List<String> row = new ArrayList<>();
        int i = 0;
        for (int c = 0; c < columns; c++) {
            int f = p[i++] & 0xff;
            if (f == 0xfb) {
                row.add(null);
                continue;
            }
            long n = f;
            if (f == 0xfc) {
                n = (p[i] & 0xff) | (p[i + 1] & 0xff) << 8;
                i += 2;
            } else if (f == 0xfd) {
                n = (p[i] & 0xff) | (p[i + 1] & 0xff) << 8 | (p[i + 2] & 0xff) << 16;
                i += 3;
            } else if (f == 0xfe) {
                n = ByteBuffer.wrap(p, i, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
                i += 8;
            }
            row.add(new String(p, i, (int) n, StandardCharsets.UTF_8));
            i += (int) n;
        }
        return row;
    }

    /** COM_STMT_PREPARE; returns the statement id, having read the whole reply (which must not be an ERR). */
    long prepare(String sql) throws IOException {
        command(My.COM_STMT_PREPARE, sql.getBytes(StandardCharsets.UTF_8));
        Packet ok = read();
        if (!ok.isOk()) {
            throw new IOException("prepare failed: " + ok);
        }
        ByteBuffer b = ByteBuffer.wrap(ok.payload()).order(ByteOrder.LITTLE_ENDIAN);
        long id = b.getInt(1) & 0xffffffffL;
        int columns = b.getShort(5) & 0xffff;
        int params = b.getShort(7) & 0xffff;
        for (int group : new int[] {params, columns}) {
            if (group > 0) {
                for (int i = 0; i <= group; i++) {
                    read(); // the definitions, then their EOF
                }
            }
        }
        return id;
    }

    /** The next packet; EOFException when the peer closed the connection. */
    Packet read() throws IOException {
        int b0 = in.read();
        if (b0 < 0) {
            throw new EOFException("connection closed by the peer");
        }
        int len = b0 | in.readUnsignedByte() << 8 | in.readUnsignedByte() << 16;
        int seq = in.readUnsignedByte();
        byte[] payload = new byte[len];
        in.readFully(payload);
        return new Packet(seq, payload);
    }

    /** Reads an ERR packet, failing on anything else. */
    Packet readErr() throws IOException {
        Packet p = read();
        if (!p.isErr()) {
            throw new AssertionError("expected an ERR packet, got " + p);
        }
        return p;
    }

    /** True when the peer closes the connection (reads until end of stream; false if data keeps coming for 10 s). */
    boolean closedByPeer() throws IOException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        byte[] buf = new byte[8192];
        socket.setSoTimeout(1_000);
        try {
            while (System.nanoTime() < deadline) {
                try {
                    if (in.read(buf) < 0) {
                        return true;
                    }
                } catch (SocketTimeoutException stillOpen) {
                    // poll again until the deadline
                } catch (SocketException reset) {
                    return true; // closed with RST
                }
            }
            return false;
        } finally {
            socket.setSoTimeout(20_000);
        }
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            o.writeBytes(p);
        }
        return o.toByteArray();
    }

    static byte[] le(long v, int bytes) {
        byte[] b = new byte[bytes];
        for (int i = 0; i < bytes; i++) {
            b[i] = (byte) (v >>> (8 * i));
        }
        return b;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
