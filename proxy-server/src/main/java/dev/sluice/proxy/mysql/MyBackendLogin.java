package dev.sluice.proxy.mysql;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import java.io.IOException;

/** The connection phase of one backend connection: greeting → handshake response → auth exchange → OK. */
final class MyBackendLogin {
    private final String node;
    private final String user;
    private final String password;
    private final String database;
    private final int caps;
    private final int collation;
    private MyBackendAuth auth;
    private boolean done;
    private int serverCaps;

    /** @param caps what the proxy asks for (intersected with the server's in the greeting) */
    MyBackendLogin(String node, String user, String password, String database, int caps, int collation) {
        this.node = node;
        this.user = user == null ? "root" : user;
        this.password = password == null ? "" : password;
        this.database = database;
        this.caps = caps | (database != null ? My.CONNECT_WITH_DB : 0);
        this.collation = collation;
    }

    String database() {
        return database;
    }

    boolean done() {
        return done;
    }

    /** The server's capability flags from its greeting. */
    int serverCaps() {
        return serverCaps;
    }

    /** Takes the server's next packet; returns the answer to send, or null. */
    ByteBuf step(ByteBufAllocator alloc, ByteBuf frame, MyBackend be) throws IOException {
        int seq = My.seq(frame);
        if (auth == null) {
            Handshake.Greeting g;
            try {
                g = Handshake.Greeting.decode(frame);
            } catch (IllegalArgumentException e) {
                throw new IOException("node " + node + ": " + e.getMessage(), e);
            }
            serverCaps = g.caps();
            int missing = (caps & ~My.CONNECT_ATTRS) & ~g.caps();
            if ((missing & (My.PROTOCOL_41 | My.SECURE_CONNECTION | My.PLUGIN_AUTH)) != 0) {
                throw new IOException("node " + node + ": server lacks protocol 4.1 / plugin authentication (capabilities 0x"
                        + Integer.toHexString(g.caps()) + ")");
            }
            be.threadId = g.connectionId();
            be.serverVersion = g.serverVersion();
            be.serverCaps = g.caps();
            auth = new MyBackendAuth(node, password, false);
            return auth.response(alloc, seq + 1, g, caps, collation, user, database);
        }
        int h = My.first(frame);
        if (h == 0x00) {
            done = true;
            return null;
        }
        if (h == 0xff) {
            throw new IOException("node " + node + " refused the login of user '" + user + "': " + My.Err.decode(frame));
        }
        byte[] payload = ByteBufUtil.getBytes(frame, frame.readerIndex() + 4, My.payloadLength(frame));
        byte[] reply = auth.next(payload);
        return reply == null ? null : My.packet(alloc, seq + 1, reply);
    }
}
