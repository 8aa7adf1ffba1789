package dev.sluice.proxy.mysql.shard;

import dev.sluice.proxy.mysql.My;
import io.netty.buffer.ByteBuf;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalDateTime;

/**
 * Values in the binary protocol (binary result rows and COM_STMT_EXECUTE parameters): integers little-endian
 * in the type's width, FLOAT/DOUBLE as IEEE 754, DATE/DATETIME/TIMESTAMP as a length byte and 0, 4, 7 or 11
 * bytes (year, month, day, hour, minute, second, microseconds), TIME as a length byte and 0, 8 or 12 bytes
 * (sign, days, hours, minutes, seconds, microseconds), everything else length-encoded.
 */
final class BinaryValues {
    private BinaryValues() {
    }

    /** The value of column {@code c} held in {@code frame[start, end)}. */
    static Object decode(ColumnDef c, ByteBuf frame, int start, int end) {
        switch (c.layout()) {
            case FIXED:
                return fixed(c.type(), c.unsigned(), frame, start);
            case TEMPORAL:
                return temporal(c.time(), c.date(), frame, start);
            case LENENC: {
                ByteBuf b = frame.duplicate();
                b.readerIndex(start);
                int n = (int) My.readLenenc(b);
                if (c.bytes()) {
                    byte[] v = new byte[n];
                    b.readBytes(v);
                    return v;
                }
                String s = b.toString(b.readerIndex(), n, c.javaCharset());
                return c.decimal() ? new BigDecimal(s) : s;
            }
            default:
                return null;
        }
    }

    /** A fixed-width number: Long for integers (BigDecimal above 2^63 unsigned), Double for FLOAT/DOUBLE. */
    static Object fixed(int type, boolean unsigned, ByteBuf b, int at) {
        return switch (type) {
            case ColumnDef.TINY -> unsigned ? (long) b.getUnsignedByte(at) : (long) b.getByte(at);
            case ColumnDef.SHORT, ColumnDef.YEAR -> unsigned || type == ColumnDef.YEAR ? (long) b.getUnsignedShortLE(at) : (long) b.getShortLE(at);
            case ColumnDef.LONG, ColumnDef.INT24 -> unsigned ? b.getUnsignedIntLE(at) : (long) b.getIntLE(at);
            case ColumnDef.LONGLONG -> {
                long v = b.getLongLE(at);
                yield unsigned && v < 0 ? (Object) new BigDecimal(new BigInteger(Long.toUnsignedString(v))) : (Object) v;
            }
            case ColumnDef.FLOAT -> (double) b.getFloatLE(at);
            case ColumnDef.DOUBLE -> b.getDoubleLE(at);
            default -> throw new IllegalArgumentException("not a fixed-width type: " + type);
        };
    }

    /** A length-prefixed temporal value at {@code at}: LocalDate, LocalDateTime or Duration. */
    static Object temporal(boolean time, boolean dateOnly, ByteBuf b, int at) {
        int n = b.getUnsignedByte(at);
        int p = at + 1;
        if (time) {
            if (n == 0) {
                return Duration.ZERO;
            }
            boolean neg = b.getByte(p) != 0;
            long days = b.getUnsignedIntLE(p + 1);
            long secs = days * 86400 + b.getUnsignedByte(p + 5) * 3600L + b.getUnsignedByte(p + 6) * 60L + b.getUnsignedByte(p + 7);
            long micros = n >= 12 ? b.getUnsignedIntLE(p + 8) : 0;
            Duration d = Duration.ofSeconds(secs, micros * 1000);
            return neg ? d.negated() : d;
        }
        if (n == 0) {
            return dateOnly ? LocalDate.MIN : LocalDateTime.MIN;
        }
        int year = b.getUnsignedShortLE(p);
        int month = b.getUnsignedByte(p + 2);
        int day = b.getUnsignedByte(p + 3);
        if (year == 0 && month == 0 && day == 0) {
            return dateOnly ? LocalDate.MIN : LocalDateTime.MIN;
        }
        LocalDate d = LocalDate.of(year, month, day);
        if (dateOnly) {
            return d;
        }
        int h = n >= 7 ? b.getUnsignedByte(p + 4) : 0;
        int mi = n >= 7 ? b.getUnsignedByte(p + 5) : 0;
        int s = n >= 7 ? b.getUnsignedByte(p + 6) : 0;
        long micros = n >= 11 ? b.getUnsignedIntLE(p + 7) : 0;
        return d.atTime(h, mi, s, (int) (micros * 1000));
    }

    /** Writes a non-NULL value of column {@code c}. */
    static void encode(ByteBuf out, ColumnDef c, Object v) {
        switch (c.layout()) {
            case FIXED -> {
                if (c.floating()) {
                    double d = ((Number) v).doubleValue();
                    if (c.type() == ColumnDef.FLOAT) {
                        out.writeFloatLE((float) d);
                    } else {
                        out.writeDoubleLE(d);
                    }
                    return;
                }
                long x = v instanceof BigDecimal d ? d.toBigIntegerExact().longValue() : ((Number) v).longValue();
                switch (c.fixedWidth()) {
                    case 1 -> out.writeByte((int) x);
                    case 2 -> out.writeShortLE((int) x);
                    case 4 -> out.writeIntLE((int) x);
                    default -> out.writeLongLE(x);
                }
            }
            case TEMPORAL -> {
                if (v instanceof Duration d) {
                    writeTime(out, d);
                } else if (v instanceof LocalDateTime t) {
                    writeDateTime(out, c.date() ? t.toLocalDate().atStartOfDay() : t, c.date());
                } else {
                    writeDateTime(out, ((LocalDate) v).atStartOfDay(), true);
                }
            }
            case LENENC -> {
                byte[] b = c.decimal() && v instanceof Number n ? plain(n).getBytes(StandardCharsets.US_ASCII)
                        : RowCodec.TextValues.encode(c, v);
                My.writeLenenc(out, b.length);
                out.writeBytes(b);
            }
            default -> { }
        }
    }

    private static String plain(Number n) {
        return n instanceof BigDecimal d ? d.toPlainString() : n instanceof Double || n instanceof Float
                ? BigDecimal.valueOf(n.doubleValue()).toPlainString() : n.toString();
    }

    static void writeDateTime(ByteBuf out, LocalDateTime t, boolean dateOnly) {
        if (t.equals(LocalDateTime.MIN) || t.toLocalDate().equals(LocalDate.MIN)) {
            out.writeByte(0);
            return;
        }
        int micros = t.getNano() / 1000;
        boolean time = !dateOnly && (t.getHour() != 0 || t.getMinute() != 0 || t.getSecond() != 0 || micros != 0);
        out.writeByte(dateOnly || !time ? 4 : micros != 0 ? 11 : 7);
        out.writeShortLE(t.getYear()).writeByte(t.getMonthValue()).writeByte(t.getDayOfMonth());
        if (time) {
            out.writeByte(t.getHour()).writeByte(t.getMinute()).writeByte(t.getSecond());
            if (micros != 0) {
                out.writeIntLE(micros);
            }
        }
    }

    static void writeTime(ByteBuf out, Duration d) {
        if (d.isZero()) {
            out.writeByte(0);
            return;
        }
        Duration a = d.abs();
        long s = a.getSeconds();
        int micros = a.getNano() / 1000;
        out.writeByte(micros != 0 ? 12 : 8).writeByte(d.isNegative() ? 1 : 0).writeIntLE((int) (s / 86400))
                .writeByte((int) (s / 3600 % 24)).writeByte((int) (s / 60 % 60)).writeByte((int) (s % 60));
        if (micros != 0) {
            out.writeIntLE(micros);
        }
    }
}
