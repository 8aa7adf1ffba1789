package dev.sluice.proxy.mysql;

import dev.sluice.core.sql.Classification;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A client's prepared statements. The client sees the proxy's own statement ids; each backend connection maps
 * them to its own ({@link MyBackend#statements}), re-preparing the text on a connection the first time an
 * execute is routed there. Parameter types are sent with an execute only when they change, so the proxy
 * keeps the last ones and adds them to an execute bound for a connection that has not seen them; long data
 * is kept until the execute, since the node the execute goes to is only known then.
 */
final class MyStatements {
    /** The statement id MariaDB clients use for "the statement prepared just before" when pipelining. */
    static final long LAST_PREPARED = 0xffffffffL;

    static final class Stmt {
        final int id;
        final String sql;
        final Classification classification;
        final int numParams;
        final int numColumns;
        byte[] types;
        final List<ByteBuf> longData = new ArrayList<>();
        long longDataBytes;
        /** The connection its last execute ran on: a cursor lives there (COM_STMT_FETCH / RESET go to it). */
        MyBackend lastOn;

        Stmt(int id, String sql, Classification classification, int numParams, int numColumns) {
            this.id = id;
            this.sql = sql;
            this.classification = classification;
            this.numParams = numParams;
            this.numColumns = numColumns;
        }

        void releaseLongData() {
            longData.forEach(ByteBuf::release);
            longData.clear();
            longDataBytes = 0;
        }
    }

    private final Map<Integer, Stmt> byId = new HashMap<>();
    private int nextId = 1;
    int lastPrepared;

    int newId() {
        int id = nextId++;
        if (nextId <= 0) {
            nextId = 1;
        }
        return id;
    }

    Stmt add(int id, String sql, Classification c, int numParams, int numColumns) {
        Stmt s = new Stmt(id, sql, c, numParams, numColumns);
        byId.put(id, s);
        lastPrepared = id;
        return s;
    }

    /** The statement a command names (offset 5 of the packet: right after the command byte). */
    Stmt of(ByteBuf frame) {
        long id = frame.getUnsignedIntLE(frame.readerIndex() + 5);
        return byId.get(id == LAST_PREPARED ? lastPrepared : (int) id);
    }

    static long idIn(ByteBuf frame) {
        return frame.getUnsignedIntLE(frame.readerIndex() + 5);
    }

    /** Long data held for all statements (until their executes). */
    long longDataBytes() {
        long n = 0;
        for (Stmt s : byId.values()) {
            n += s.longDataBytes;
        }
        return n;
    }

    Stmt remove(int id) {
        Stmt s = byId.remove(id);
        if (s != null) {
            s.releaseLongData();
        }
        return s;
    }

    void clear() {
        byId.values().forEach(Stmt::releaseLongData);
        byId.clear();
    }

    /** Writes the backend's statement id over the client's, in place (the frame is ours to change). */
    static ByteBuf withId(ByteBuf frame, long backendId) {
        frame.setIntLE(frame.readerIndex() + 5, (int) backendId);
        return frame;
    }

    /**
     * Notes the parameter types an execute carries (new-params-bound = 1). Returns true when it carries them.
     * Layout: command, id(4), flags(1), iterations(4), NULL bitmap ((n+7)/8), new-params-bound(1), types(2n), values.
     */
    static boolean carriesTypes(Stmt s, ByteBuf exec) {
        return readTypes(s, exec) >= 0;
    }

    /**
     * As {@link #carriesTypes}: -1 when the execute carries no types, 0 when it carries the ones noted last
     * (drivers send them with every execute: compared in place, nothing allocated), 1 when they are new.
     */
    static int readTypes(Stmt s, ByteBuf exec) {
        if (s.numParams == 0) {
            return -1;
        }
        int bound = exec.readerIndex() + 4 + 10 + (s.numParams + 7) / 8;
        if (My.payloadLength(exec) < bound - exec.readerIndex() - 4 + 1) {
            throw new IllegalArgumentException("COM_STMT_EXECUTE too short for " + s.numParams + " parameters");
        }
        if (exec.getByte(bound) != 1) {
            return -1;
        }
        if (My.payloadLength(exec) < bound - exec.readerIndex() - 4 + 1 + 2 * s.numParams) {
            throw new IllegalArgumentException("COM_STMT_EXECUTE too short for the types of " + s.numParams + " parameters");
        }
        byte[] t = s.types;
        if (t != null && t.length == 2 * s.numParams && sameBytes(exec, bound + 1, t)) {
            return 0;
        }
        t = new byte[2 * s.numParams];
        exec.getBytes(bound + 1, t);
        s.types = t;
        return 1;
    }

    private static boolean sameBytes(ByteBuf b, int at, byte[] expected) {
        for (int i = 0; i < expected.length; i++) {
            if (b.getByte(at + i) != expected[i]) {
                return false;
            }
        }
        return true;
    }

    /** A copy of an execute without types, with the statement's last types added (for a connection that lacks them). */
    static ByteBuf addTypes(ByteBufAllocator alloc, Stmt s, ByteBuf exec) {
        int bound = exec.readerIndex() + 4 + 10 + (s.numParams + 7) / 8;
        ByteBuf out = alloc.buffer(exec.readableBytes() + s.types.length);
        out.writeBytes(exec, exec.readerIndex(), bound - exec.readerIndex());
        out.writeByte(1).writeBytes(s.types);
        out.writeBytes(exec, bound + 1, exec.writerIndex() - bound - 1);
        exec.release();
        return My.seal(out);
    }
}
