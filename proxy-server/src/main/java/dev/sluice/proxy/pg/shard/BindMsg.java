package dev.sluice.proxy.pg.shard;

import dev.sluice.core.shard.ValueRef;
import dev.sluice.proxy.pg.Pg;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A client's Bind, decoded whole: the sharded session reads the parameter values (to choose shards) and may send
 * the shards a Bind of its own for a rewritten statement (the same values plus a computed row limit).
 *
 * @param paramFormats  0, 1 or one format code per parameter, as sent
 * @param values        each parameter's bytes, null for SQL NULL
 * @param resultFormats 0, 1 or one format code per result column, as sent
 */
record BindMsg(String portal, String statement, short[] paramFormats, byte[][] values, short[] resultFormats) {

    static BindMsg decode(ByteBuf frame) {
        ByteBuf b = frame.duplicate().skipBytes(5);
        String portal = Pg.cstring(b);
        String statement = Pg.cstring(b);
        short[] pf = new short[b.readUnsignedShort()];
        for (int i = 0; i < pf.length; i++) {
            pf[i] = b.readShort();
        }
        int n = b.readUnsignedShort();
        if (b.readableBytes() < 4L * n) {
            throw new IllegalArgumentException("Bind: " + n + " parameters announced, fewer sent");
        }
        byte[][] values = new byte[n][];
        for (int i = 0; i < n; i++) {
            int len = b.readInt();
            if (len >= 0) {
                values[i] = new byte[len];
                b.readBytes(values[i]);
            }
        }
        short[] rf = new short[b.readUnsignedShort()];
        for (int i = 0; i < rf.length; i++) {
            rf[i] = b.readShort();
        }
        return new BindMsg(portal, statement, pf, values, rf);
    }

    boolean paramBinary(int i) {
        return paramFormats.length == 1 ? paramFormats[0] == 1 : i < paramFormats.length && paramFormats[i] == 1;
    }

    /** The format code the client wants for result column {@code i} (0-based). */
    short resultFormat(int i) {
        return resultFormats.length == 0 ? 0 : resultFormats.length == 1 ? resultFormats[0] : i < resultFormats.length ? resultFormats[i] : 0;
    }

    /**
     * The parameter values as routing sees them (index 0 = $1): text values as strings (the key's type coerces them),
     * binary values of the common types decoded; anything unreadable is {@link ValueRef#OPAQUE}, which chooses no
     * shard (all shards for a read; a clear error for an INSERT).
     */
    List<Object> routingValues(StatementDef def) {
        List<Object> out = new ArrayList<>(values.length);
        for (int i = 0; i < values.length; i++) {
            byte[] v = values[i];
            if (v == null) {
                out.add(null);
            } else if (!paramBinary(i)) {
                out.add(new String(v, java.nio.charset.StandardCharsets.UTF_8));
            } else {
                try {
                    Object d = PgValues.decode(def.paramType(i), true, v, 0, v.length);
                    out.add(d instanceof Double || d instanceof Boolean ? ValueRef.OPAQUE : d);
                } catch (PgValues.Unsupported e) {
                    out.add(ValueRef.OPAQUE);
                }
            }
        }
        return out;
    }

    /**
     * A Bind of the unnamed statement into the unnamed portal with these values followed by {@code extra} text-format
     * values (a computed row limit), asking for the client's result formats plus text for {@code hidden} extra columns.
     */
    ByteBuf rebind(ByteBufAllocator a, int[] order, List<String> extraText, int visible, int hidden) {
        ByteBuf b = a.buffer(64);
        int at = Pg.begin(b, 'B');
        Pg.writeCString(b, "");
        Pg.writeCString(b, "");
        int n = order.length;
        b.writeShort(n);
        for (int i = 0; i < n; i++) {
            b.writeShort(order[i] > 0 ? (paramBinary(order[i] - 1) ? 1 : 0) : 0);
        }
        b.writeShort(n);
        int extra = 0;
        for (int i = 0; i < n; i++) {
            byte[] v = order[i] > 0 ? values[order[i] - 1] : extraText.get(extra++).getBytes(java.nio.charset.StandardCharsets.UTF_8);
            if (v == null) {
                b.writeInt(-1);
            } else {
                b.writeInt(v.length);
                b.writeBytes(v);
            }
        }
        if (resultFormats.length <= 1 || hidden == 0) {
            b.writeShort(resultFormats.length);
            for (short f : resultFormats) {
                b.writeShort(f);
            }
        } else {
            short[] rf = Arrays.copyOf(resultFormats, visible + hidden); // hidden columns: text
            b.writeShort(rf.length);
            for (short f : rf) {
                b.writeShort(f);
            }
        }
        return Pg.end(b, at);
    }
}
