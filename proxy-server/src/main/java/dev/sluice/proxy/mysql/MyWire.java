package dev.sluice.proxy.mysql;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandler;
import java.io.IOException;

/**
 * The package's MySQL codec as a public surface, for the sharded session ({@code dev.sluice.proxy.mysql.shard}),
 * which is a protocol client of the per-shard inner proxies: framing, the packets the proxy builds, the login
 * of a client, and reply tracking. Kept to delegation so the package's own classes stay as they are.
 */
public final class MyWire {
    private MyWire() {
    }

    public static final int PROTOCOL_41 = My.PROTOCOL_41;
    public static final int SECURE_CONNECTION = My.SECURE_CONNECTION;
    public static final int PLUGIN_AUTH = My.PLUGIN_AUTH;
    public static final int PLUGIN_AUTH_LENENC = My.PLUGIN_AUTH_LENENC;
    public static final int DEPRECATE_EOF = My.DEPRECATE_EOF;
    public static final int MULTI_STATEMENTS = My.MULTI_STATEMENTS;
    public static final int MULTI_RESULTS = My.MULTI_RESULTS;
    public static final int PS_MULTI_RESULTS = My.PS_MULTI_RESULTS;
    public static final int SESSION_TRACK = My.SESSION_TRACK;
    public static final int FOUND_ROWS = My.FOUND_ROWS;
    public static final int BACKEND_BASE_CAPS = My.BACKEND_BASE_CAPS;
    /** Client flags that shape replies: a connection to an inner proxy asks for the client's own. */
    public static final int RELAY_CAPS = My.RELAY_CAPS;
    public static final int MAX_PAYLOAD = My.MAX_PAYLOAD;

    public static final int STATUS_IN_TRANS = My.STATUS_IN_TRANS;
    public static final int STATUS_AUTOCOMMIT = My.STATUS_AUTOCOMMIT;
    public static final int STATUS_MORE_RESULTS = My.STATUS_MORE_RESULTS;

    public static final int COM_QUIT = My.COM_QUIT;
    public static final int COM_INIT_DB = My.COM_INIT_DB;
    public static final int COM_QUERY = My.COM_QUERY;
    public static final int COM_FIELD_LIST = My.COM_FIELD_LIST;
    public static final int COM_PROCESS_KILL = My.COM_PROCESS_KILL;
    public static final int COM_PING = My.COM_PING;
    public static final int COM_CHANGE_USER = My.COM_CHANGE_USER;
    public static final int COM_STMT_PREPARE = My.COM_STMT_PREPARE;
    public static final int COM_STMT_EXECUTE = My.COM_STMT_EXECUTE;
    public static final int COM_STMT_SEND_LONG_DATA = My.COM_STMT_SEND_LONG_DATA;
    public static final int COM_STMT_CLOSE = My.COM_STMT_CLOSE;
    public static final int COM_STMT_RESET = My.COM_STMT_RESET;
    public static final int COM_SET_OPTION = My.COM_SET_OPTION;
    public static final int COM_STMT_FETCH = My.COM_STMT_FETCH;
    public static final int COM_RESET_CONNECTION = My.COM_RESET_CONNECTION;

    public static final int ER_UNKNOWN_COM = My.ER_UNKNOWN_COM;
    public static final int ER_CONNECTION_LOST = My.ER_CONNECTION_LOST;
    public static final int ER_CANNOT_CONNECT = My.ER_CANNOT_CONNECT;
    public static final int ER_NO_SUCH_THREAD = My.ER_NO_SUCH_THREAD;
    public static final int ER_UNKNOWN_STMT = My.ER_UNKNOWN_STMT;
    public static final int ER_NOT_SUPPORTED = My.ER_NOT_SUPPORTED;
    public static final int ER_HANDSHAKE = My.ER_HANDSHAKE;

    /** Splits a byte stream into packets (header kept), each chain held to {@code maxMessageBytes}. */
    public static ChannelHandler frameDecoder(int maxMessageBytes) {
        return new MyFrameDecoder(maxMessageBytes, false);
    }

    public static int payloadLength(ByteBuf frame) {
        return My.payloadLength(frame);
    }

    public static int seq(ByteBuf frame) {
        return My.seq(frame);
    }

    /** First payload byte; -1 when the payload is empty. */
    public static int first(ByteBuf frame) {
        return My.first(frame);
    }

    /** The payload after the command byte, as UTF-8 text. */
    public static String text(ByteBuf frame) {
        return My.text(frame);
    }

    public static ByteBuf start(ByteBufAllocator alloc, int seq) {
        return My.start(alloc, seq);
    }

    public static ByteBuf seal(ByteBuf b) {
        return My.seal(b);
    }

    public static ByteBuf ok(ByteBufAllocator alloc, int seq, long affected, int status) {
        return My.ok(alloc, seq, affected, status);
    }

    public static ByteBuf err(ByteBufAllocator alloc, int seq, int code, String sqlState, String message) {
        return My.err(alloc, seq, code, sqlState, message);
    }

    public static ByteBuf command(ByteBufAllocator alloc, int command, String arg) {
        return My.command(alloc, command, arg);
    }

    public static ByteBuf command(ByteBufAllocator alloc, int command) {
        return My.command(alloc, command);
    }

    public static void writeLenenc(ByteBuf b, long v) {
        My.writeLenenc(b, v);
    }

    /** A length-encoded integer; -1 for the NULL marker 0xFB. */
    public static long readLenenc(ByteBuf b) {
        return My.readLenenc(b);
    }

    /** Status flags of an OK or EOF packet. */
    public static int okStatus(ByteBuf frame) {
        return My.okStatus(frame);
    }

    /** A decoded ERR packet. */
    public record Error(int code, String sqlState, String message) {
        public static Error decode(ByteBuf frame) {
            My.Err e = My.Err.decode(frame);
            return new Error(e.code(), e.sqlState(), e.message());
        }

        @Override
        public String toString() {
            return code + " (" + sqlState + ") " + message;
        }
    }

    // ---- a client's login (to an inner proxy) ----

    /** What a server's greeting says that a client needs. */
    public record Greeting(String serverVersion, long connectionId, byte[] scramble, int caps, String plugin) {
        public static Greeting decode(ByteBuf frame) {
            Handshake.Greeting g = Handshake.Greeting.decode(frame);
            return new Greeting(g.serverVersion(), g.connectionId(), g.scramble(), g.caps(), g.plugin());
        }
    }

    /** The client side of the authentication exchange (mysql_native_password or caching_sha2_password). */
    public static final class ClientAuth {
        private final MyBackendAuth auth;

        public ClientAuth(String peer, String password) {
            this.auth = new MyBackendAuth(peer, password, false);
        }

        /** The HandshakeResponse41 answering {@code g}; {@code database} may be null. */
        public ByteBuf response(ByteBufAllocator alloc, int seq, Greeting g, int caps, int collation, String user, String database) {
            byte[] token = auth.firstResponse(g.plugin(), g.scramble());
            int c = caps | (database != null ? My.CONNECT_WITH_DB : 0);
            return new Handshake.Response(c & g.caps(), My.MAX_PAYLOAD, collation, user, token, database, auth.plugin(),
                    Handshake.proxyAttrs(), false).encode(alloc, seq);
        }

        /** The next packet payload of the exchange that is neither OK nor ERR; null when nothing is to be sent. */
        public byte[] next(byte[] serverPayload) throws IOException {
            return auth.next(serverPayload);
        }
    }

    public static ByteBuf packet(ByteBufAllocator alloc, int seq, byte[] payload) {
        return My.packet(alloc, seq, payload);
    }

    // ---- replies ----

    /** Where one command's reply ends, and its final status (see {@link ReplyTracker}). */
    public static final class Replies {
        public enum Kind { SIMPLE, RESULT, PREPARE }

        private final ReplyTracker tracker;

        public Replies(int caps) {
            this.tracker = new ReplyTracker(caps);
        }

        public void start(Kind k) {
            tracker.start(switch (k) {
                case SIMPLE -> ReplyTracker.Kind.SIMPLE;
                case RESULT -> ReplyTracker.Kind.RESULT;
                case PREPARE -> ReplyTracker.Kind.PREPARE;
            });
        }

        /** True when {@code frame} was the reply's last packet. */
        public boolean accept(ByteBuf frame) {
            return tracker.accept(frame);
        }

        public boolean busy() {
            return tracker.busy();
        }

        public boolean awaitingInfile() {
            return tracker.awaitingInfile();
        }

        /** Final status flags, -1 when the reply carried none. */
        public int status() {
            return tracker.outcome().status();
        }

        public Error error() {
            My.Err e = tracker.outcome().error();
            return e == null ? null : new Error(e.code(), e.sqlState(), e.message());
        }

        public long stmtId() {
            return tracker.outcome().stmtId();
        }

        public int numParams() {
            return tracker.outcome().numParams();
        }

        public int numColumns() {
            return tracker.outcome().numColumns();
        }
    }
}
