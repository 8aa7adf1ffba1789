package dev.sluice.proxy.mysql.shard;

import dev.sluice.core.shard.ValueRef;
import dev.sluice.proxy.mysql.My;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The parameters of a COM_STMT_EXECUTE, decoded for shard routing, and an execute rebuilt with another
 * parameter list (the scatter rewrite's, where parameter 0 is the computed row limit).
 *
 * <p>Layout: 0x17, statement id (4), flags (1), iteration count (4), then for n &gt; 0 parameters a NULL bitmap
 * of (n + 7) / 8 bytes, the new-params-bound flag (1), the types (2 bytes each: type, 0x80 when unsigned) when
 * it is 1, and each non-NULL value that did not come as long data. Values of the integer, decimal, string and
 * temporal types are decoded; any other (a blob, a parameter sent as long data) is {@link ValueRef#OPAQUE}:
 * it chooses no shard.
 */
final class ExecuteParams {
    /** One parameter: its type, where its value's bytes are in the execute packet, and the decoded value. */
    record Param(int type, int flags, boolean isNull, boolean longData, int start, int end, Object value) {
    }

    private ExecuteParams() {
    }

    static final int OFFSET_BITMAP = 4 + 10;

    /** The types the execute carries (2 bytes per parameter), or null when new-params-bound is 0. */
    static byte[] typesIn(ByteBuf exec, int numParams) {
        if (numParams == 0) {
            return null;
        }
        int bound = exec.readerIndex() + OFFSET_BITMAP + (numParams + 7) / 8;
        need(exec, bound + 1);
        if (exec.getByte(bound) != 1) {
            return null;
        }
        need(exec, bound + 1 + 2 * numParams);
        byte[] t = new byte[2 * numParams];
        exec.getBytes(bound + 1, t);
        return t;
    }

    /**
     * Decodes the parameters with {@code types} (this execute's own, or the statement's last); {@code longData}
     * marks the parameters that came as COM_STMT_SEND_LONG_DATA (their values are not in the execute).
     */
    static Param[] decode(ByteBuf exec, int numParams, byte[] types, boolean[] longData) {
        Param[] out = new Param[numParams];
        if (numParams == 0) {
            return out;
        }
        if (types == null) {
            throw new IllegalArgumentException("COM_STMT_EXECUTE without parameter types for a statement that was never sent any");
        }
        int bitmap = exec.readerIndex() + OFFSET_BITMAP;
        int bound = bitmap + (numParams + 7) / 8;
        need(exec, bound + 1);
        ByteBuf b = exec.duplicate();
        b.readerIndex(bound + 1 + (exec.getByte(bound) == 1 ? 2 * numParams : 0));
        for (int i = 0; i < numParams; i++) {
            int type = types[2 * i] & 0xff;
            int flags = types[2 * i + 1] & 0xff;
            boolean isNull = (exec.getUnsignedByte(bitmap + i / 8) & (1 << (i % 8))) != 0;
            boolean ld = longData != null && i < longData.length && longData[i];
            if (isNull || ld) {
                out[i] = new Param(type, flags, isNull, ld, b.readerIndex(), b.readerIndex(), isNull ? null : ValueRef.OPAQUE);
                continue;
            }
            int start = b.readerIndex();
            Object v = value(type, (flags & 0x80) != 0, b);
            out[i] = new Param(type, flags, false, false, start, b.readerIndex(), v);
        }
        return out;
    }

    /** Reads one value, moving past it. */
    private static Object value(int type, boolean unsigned, ByteBuf b) {
        ColumnDef c = new ColumnDef(33, type, unsigned ? ColumnDef.UNSIGNED_FLAG : 0, 0);
        switch (c.layout()) {
            case NONE:
                return null;
            case FIXED: {
                Object v = BinaryValues.fixed(type, unsigned, b, b.readerIndex());
                b.skipBytes(c.fixedWidth());
                return v;
            }
            case TEMPORAL: {
                Object v = BinaryValues.temporal(c.time(), c.date(), b, b.readerIndex());
                b.skipBytes(1 + b.getUnsignedByte(b.readerIndex()));
                return v;
            }
            default: {
                long n = My.readLenenc(b);
                if (n < 0 || n > b.readableBytes()) {
                    throw new IllegalArgumentException("COM_STMT_EXECUTE parameter of " + n + " bytes, " + b.readableBytes() + " left");
                }
                int at = b.readerIndex();
                b.skipBytes((int) n);
                if (c.decimal()) {
                    return new BigDecimal(b.toString(at, (int) n, java.nio.charset.StandardCharsets.US_ASCII));
                }
                if (type == 15 || type == 253 || type == 254 || type == 247 || type == 248 || type == 245) { // varchar, var_string, string, enum, set, json
                    return b.toString(at, (int) n, java.nio.charset.StandardCharsets.UTF_8);
                }
                return ValueRef.OPAQUE; // blobs, bit, geometry: no shard key
            }
        }
    }

    /** The decoded values, for {@code ShardPlan.targets} (index 0 = parameter 1). */
    static List<Object> values(Param[] params) {
        List<Object> out = new ArrayList<>(params.length);
        for (Param p : params) {
            out.add(p.value());
        }
        return Collections.unmodifiableList(out);
    }

    /**
     * An execute of statement {@code stmtId} whose parameter j is the original parameter {@code map[j]} (1-based),
     * or for 0 the row limit {@code rowLimit} as a BIGINT. Types are always sent. The original's long data
     * cannot be moved to other positions: the caller refuses such executes.
     */
    static ByteBuf rebuild(ByteBufAllocator alloc, long stmtId, ByteBuf exec, Param[] params, int[] map, long rowLimit) {
        int n = map.length;
        ByteBuf out = My.start(alloc, 0).writeByte(My.COM_STMT_EXECUTE).writeIntLE((int) stmtId).writeByte(0).writeIntLE(1);
        if (n > 0) {
            byte[] bitmap = new byte[(n + 7) / 8];
            for (int j = 0; j < n; j++) {
                if (map[j] != 0 && params[map[j] - 1].isNull()) {
                    bitmap[j / 8] |= (byte) (1 << (j % 8));
                }
            }
            out.writeBytes(bitmap).writeByte(1);
            for (int j = 0; j < n; j++) {
                if (map[j] == 0) {
                    out.writeByte(ColumnDef.LONGLONG).writeByte(0);
                } else {
                    Param p = params[map[j] - 1];
                    out.writeByte(p.type()).writeByte(p.flags());
                }
            }
            for (int j = 0; j < n; j++) {
                if (map[j] == 0) {
                    out.writeLongLE(rowLimit);
                } else {
                    Param p = params[map[j] - 1];
                    out.writeBytes(exec, p.start(), p.end() - p.start());
                }
            }
        }
        return My.seal(out);
    }

    /** A copy of an execute that carries no types with {@code types} added (for a connection that has none yet). */
    static ByteBuf withTypes(ByteBufAllocator alloc, ByteBuf exec, int numParams, byte[] types) {
        int bound = exec.readerIndex() + OFFSET_BITMAP + (numParams + 7) / 8;
        ByteBuf out = alloc.buffer(exec.readableBytes() + types.length);
        out.writeBytes(exec, exec.readerIndex(), bound - exec.readerIndex());
        out.writeByte(1).writeBytes(types);
        out.writeBytes(exec, bound + 1, exec.writerIndex() - bound - 1);
        exec.release();
        return My.seal(out);
    }

    private static void need(ByteBuf exec, int index) {
        if (exec.writerIndex() < index) {
            throw new IllegalArgumentException("COM_STMT_EXECUTE is shorter than its parameters need");
        }
    }
}
