package dev.sluice.proxy.mysql.shard;

import dev.sluice.proxy.mysql.My;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalDateTime;

/**
 * Result rows as the merge sees them. A row is decoded only in the columns the merge compares or combines
 * ({@code needed}); everything else stays bytes, relayed as it came. Rows lose the hidden trailing columns the
 * scatter rewrite added, and a merged group gets its aggregate columns re-encoded in place.
 *
 * <p>Text protocol (COM_QUERY): each value is a length-encoded string, 0xFB for NULL. Binary protocol
 * (COM_STMT_EXECUTE): 0x00, a NULL bitmap of (columns + 7 + 2) / 8 bytes (bit offset 2), then each non-NULL
 * value laid out by its column type (fixed-width little-endian numbers, length-prefixed temporal values,
 * length-encoded strings and decimals).
 */
final class RowCodec {
    private RowCodec() {
    }

    static int bitmapBytes(int columns) {
        return (columns + 7 + 2) / 8;
    }

    // ---- decoding ----

    /** Values of the needed columns (others null); {@code needed[i]} for 0-based column i. */
    static Object[] decodeText(ByteBuf frame, ColumnDef[] cols, boolean[] needed) {
        Object[] out = new Object[cols.length];
        int last = lastNeeded(needed);
        ByteBuf b = frame.duplicate().skipBytes(4);
        for (int i = 0; i <= last; i++) {
            long n = My.readLenenc(b);
            if (n < 0) {
                continue; // NULL
            }
            if (needed[i]) {
                out[i] = TextValues.decode(cols[i], b, (int) n);
            }
            b.skipBytes((int) n);
        }
        return out;
    }

    static Object[] decodeBinary(ByteBuf frame, ColumnDef[] cols, boolean[] needed) {
        Object[] out = new Object[cols.length];
        int last = lastNeeded(needed);
        int base = frame.readerIndex() + 5; // header + 0x00
        ByteBuf b = frame.duplicate();
        b.readerIndex(base + bitmapBytes(cols.length));
        for (int i = 0; i <= last; i++) {
            if (isNullBinary(frame, base, i)) {
                continue;
            }
            int start = b.readerIndex();
            int end = skipBinary(b, cols[i]);
            if (needed[i]) {
                out[i] = BinaryValues.decode(cols[i], frame, start, end);
            }
        }
        return out;
    }

    private static int lastNeeded(boolean[] needed) {
        for (int i = needed.length - 1; i >= 0; i--) {
            if (needed[i]) {
                return i;
            }
        }
        return -1;
    }

    private static boolean isNullBinary(ByteBuf frame, int bitmapStart, int column) {
        int bit = column + 2;
        return (frame.getUnsignedByte(bitmapStart + bit / 8) & (1 << (bit % 8))) != 0;
    }

    /** Moves past one non-NULL binary value; returns its end offset. */
    private static int skipBinary(ByteBuf b, ColumnDef c) {
        switch (c.layout()) {
            case NONE -> { }
            case FIXED -> b.skipBytes(c.fixedWidth());
            case TEMPORAL -> b.skipBytes(b.readUnsignedByte());
            case LENENC -> {
                long n = My.readLenenc(b);
                b.skipBytes((int) n);
            }
            default -> throw new IllegalStateException();
        }
        return b.readerIndex();
    }

    // ---- dropping hidden columns ----

    /** A text row with only its first {@code visible} values (in place: the frame is ours). */
    static ByteBuf truncateText(ByteBuf frame, int visible, int width) {
        if (visible == width) {
            return frame;
        }
        ByteBuf b = frame.duplicate().skipBytes(4);
        for (int i = 0; i < visible; i++) {
            long n = My.readLenenc(b);
            if (n > 0) {
                b.skipBytes((int) n);
            }
        }
        frame.writerIndex(b.readerIndex());
        frame.setMediumLE(frame.readerIndex(), frame.readableBytes() - 4);
        return frame;
    }

    /** A binary row with only its first {@code visible} columns: a shorter NULL bitmap, the values' prefix. */
    static ByteBuf truncateBinary(ByteBufAllocator alloc, ByteBuf frame, ColumnDef[] cols, int visible) {
        if (visible == cols.length) {
            return frame;
        }
        int base = frame.readerIndex() + 5;
        ByteBuf b = frame.duplicate();
        int valuesStart = base + bitmapBytes(cols.length);
        b.readerIndex(valuesStart);
        for (int i = 0; i < visible; i++) {
            if (!isNullBinary(frame, base, i)) {
                skipBinary(b, cols[i]);
            }
        }
        int valuesEnd = b.readerIndex();
        ByteBuf out = My.start(alloc, My.seq(frame)).writeByte(0);
        int bm = bitmapBytes(visible);
        for (int k = 0; k < bm; k++) {
            int v = frame.getUnsignedByte(base + k);
            int firstBit = k * 8;
            for (int bit = 0; bit < 8; bit++) {
                if (firstBit + bit - 2 >= visible) {
                    v &= ~(1 << bit); // bits of dropped columns
                }
            }
            out.writeByte(v);
        }
        out.writeBytes(frame, valuesStart, valuesEnd - valuesStart);
        frame.release();
        return My.seal(out);
    }

    // ---- re-encoding merged groups ----

    /**
     * A text row of the first {@code visible} columns where each column with {@code replace[i]} gets
     * {@code values[i]} and the others keep their bytes from {@code frame} (released).
     */
    static ByteBuf reencodeText(ByteBufAllocator alloc, ByteBuf frame, ColumnDef[] cols, int visible, Object[] values, boolean[] replace) {
        ByteBuf out = My.start(alloc, My.seq(frame));
        ByteBuf b = frame.duplicate().skipBytes(4);
        for (int i = 0; i < visible; i++) {
            int start = b.readerIndex();
            long n = My.readLenenc(b);
            if (n > 0) {
                b.skipBytes((int) n);
            }
            if (replace[i]) {
                if (values[i] == null) {
                    out.writeByte(0xfb);
                } else {
                    byte[] v = TextValues.encode(cols[i], values[i]);
                    My.writeLenenc(out, v.length);
                    out.writeBytes(v);
                }
            } else {
                out.writeBytes(frame, start, b.readerIndex() - start);
            }
        }
        frame.release();
        return My.seal(out);
    }

    /** The binary counterpart of {@link #reencodeText}: NULL bitmap and values rebuilt, the rest copied. */
    static ByteBuf reencodeBinary(ByteBufAllocator alloc, ByteBuf frame, ColumnDef[] cols, int visible, Object[] values, boolean[] replace) {
        int base = frame.readerIndex() + 5;
        ByteBuf b = frame.duplicate();
        b.readerIndex(base + bitmapBytes(cols.length));
        byte[] bitmap = new byte[bitmapBytes(visible)];
        ByteBuf vals = alloc.buffer();
        try {
            for (int i = 0; i < visible; i++) {
                boolean wasNull = isNullBinary(frame, base, i);
                int start = b.readerIndex();
                if (!wasNull) {
                    skipBinary(b, cols[i]);
                }
                boolean isNull = replace[i] ? values[i] == null : wasNull;
                if (isNull) {
                    bitmap[(i + 2) / 8] |= (byte) (1 << ((i + 2) % 8));
                } else if (replace[i]) {
                    BinaryValues.encode(vals, cols[i], values[i]);
                } else {
                    vals.writeBytes(frame, start, b.readerIndex() - start);
                }
            }
            ByteBuf out = My.start(alloc, My.seq(frame)).writeByte(0).writeBytes(bitmap).writeBytes(vals);
            return My.seal(out);
        } finally {
            vals.release();
            frame.release();
        }
    }

    /** The text form MySQL gives a re-encoded value (aggregates, and MIN/MAX of any type). */
    static final class TextValues {
        private TextValues() {
        }

        static Object decode(ColumnDef c, ByteBuf b, int n) {
            int at = b.readerIndex();
            if (c.bytes()) {
                byte[] v = new byte[n];
                b.getBytes(at, v);
                return v;
            }
            String s = b.toString(at, n, c.javaCharset());
            if (c.integer()) {
                return c.unsigned() && c.type() == ColumnDef.LONGLONG && s.length() >= 19 ? new BigDecimal(s) : (Object) Long.parseLong(s);
            }
            if (c.decimal()) {
                return new BigDecimal(s);
            }
            if (c.floating()) {
                return Double.parseDouble(s);
            }
            if (c.date()) {
                return Temporal.parseDate(s);
            }
            if (c.dateTime()) {
                return Temporal.parseDateTime(s);
            }
            if (c.time()) {
                return Temporal.parseTime(s);
            }
            return s;
        }

        static byte[] encode(ColumnDef c, Object v) {
            String s;
            if (v instanceof byte[] bytes) {
                return bytes;
            } else if (v instanceof BigDecimal d) {
                s = c.integer() ? d.toBigIntegerExact().toString() : d.toPlainString();
            } else if (v instanceof Double || v instanceof Float) {
                s = c.floating() ? Temporal.formatDouble(((Number) v).doubleValue()) : BigDecimal.valueOf(((Number) v).doubleValue()).toPlainString();
            } else if (v instanceof LocalDate d) {
                s = Temporal.formatDate(d);
            } else if (v instanceof LocalDateTime t) {
                s = c.date() ? Temporal.formatDate(t.toLocalDate()) : Temporal.formatDateTime(t, c.decimals());
            } else if (v instanceof Duration d) {
                s = Temporal.formatTime(d, c.decimals());
            } else if (v instanceof Boolean x) {
                s = x ? "1" : "0";
            } else {
                s = v.toString();
            }
            return s.getBytes(c.javaCharset());
        }
    }
}
