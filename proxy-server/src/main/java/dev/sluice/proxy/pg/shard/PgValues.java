package dev.sluice.proxy.pg.shard;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.temporal.ChronoUnit;

/**
 * PostgreSQL wire values as Java values, for the few places the sharded session must look inside a value: a Bind
 * parameter that chooses a shard, and the columns a cross-shard merge orders, groups or aggregates by. Both
 * formats (text, binary) of the common types are understood; any other type is {@link Unsupported}, which the
 * caller turns into "no shard chosen by it" (a parameter) or a clear 0A000 error (a merge column) — never a guess.
 * The other way round, {@link #encode} writes the merged aggregates (COUNT, SUM, AVG) in the format the client asked.
 */
final class PgValues {
    static final int BOOL = 16;
    static final int NAME = 19;
    static final int INT8 = 20;
    static final int INT2 = 21;
    static final int INT4 = 23;
    static final int TEXT = 25;
    static final int OID = 26;
    static final int FLOAT4 = 700;
    static final int FLOAT8 = 701;
    static final int BPCHAR = 1042;
    static final int VARCHAR = 1043;
    static final int DATE = 1082;
    static final int TIME = 1083;
    static final int TIMESTAMP = 1114;
    static final int TIMESTAMPTZ = 1184;
    static final int NUMERIC = 1700;

    private static final LocalDate PG_EPOCH = LocalDate.of(2000, 1, 1);
    private static final LocalDateTime PG_EPOCH_TS = PG_EPOCH.atStartOfDay();
    private static final DateTimeFormatter TS_TEXT = new DateTimeFormatterBuilder().append(DateTimeFormatter.ISO_LOCAL_DATE).appendLiteral(' ')
            .append(DateTimeFormatter.ISO_LOCAL_TIME).toFormatter();
    private static final DateTimeFormatter TSTZ_TEXT = new DateTimeFormatterBuilder().append(TS_TEXT)
            .appendOffset("+HH:mm", "+00").optionalStart().appendOffset("+HH", "+00").optionalEnd().toFormatter();

    private PgValues() {
    }

    /** A value of a type (or format) this class does not read. */
    static final class Unsupported extends Exception {
        Unsupported(String message) {
            super(message, null, false, false);
        }
    }

    /** The name of a type OID for error messages. */
    static String typeName(int oid) {
        return switch (oid) {
            case BOOL -> "boolean";
            case NAME -> "name";
            case INT8 -> "bigint";
            case INT2 -> "smallint";
            case INT4 -> "integer";
            case TEXT -> "text";
            case OID -> "oid";
            case FLOAT4 -> "real";
            case FLOAT8 -> "double precision";
            case BPCHAR -> "character";
            case VARCHAR -> "character varying";
            case DATE -> "date";
            case TIME -> "time";
            case TIMESTAMP -> "timestamp";
            case TIMESTAMPTZ -> "timestamp with time zone";
            case NUMERIC -> "numeric";
            case 17 -> "bytea";
            case 2950 -> "uuid";
            case 114, 3802 -> "json";
            default -> "type oid " + oid;
        };
    }

    /**
     * The Java value of one wire value ({@code len} bytes of {@code b} from {@code off}); SQL NULL is the caller's.
     *
     * @param binary the value is in binary format (format code 1)
     */
    static Object decode(int oid, boolean binary, byte[] b, int off, int len) throws Unsupported {
        try {
            return binary ? binary(oid, ByteBuffer.wrap(b, off, len).slice(), len) : text(oid, new String(b, off, len, StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
            throw new Unsupported("cannot read a " + (binary ? "binary " : "") + typeName(oid) + " value: " + e.getMessage());
        }
    }

    private static Object text(int oid, String s) throws Unsupported {
        return switch (oid) {
            case INT2, INT4, INT8, OID -> Long.parseLong(s);
            case NUMERIC -> s.equals("NaN") ? Double.NaN : new BigDecimal(s);
            case FLOAT4, FLOAT8 -> parseFloat(s);
            case TEXT, VARCHAR, BPCHAR, NAME -> s;
            case BOOL -> s.equals("t");
            case DATE -> LocalDate.parse(s);
            case TIME -> LocalTime.parse(s);
            case TIMESTAMP -> LocalDateTime.parse(s, TS_TEXT);
            case TIMESTAMPTZ -> OffsetDateTime.parse(s, TSTZ_TEXT).withOffsetSameInstant(ZoneOffset.UTC);
            default -> throw new Unsupported(typeName(oid) + " values are not read by the merge");
        };
    }

    private static double parseFloat(String s) {
        return switch (s) {
            case "Infinity" -> Double.POSITIVE_INFINITY;
            case "-Infinity" -> Double.NEGATIVE_INFINITY;
            default -> Double.parseDouble(s);
        };
    }

    private static Object binary(int oid, ByteBuffer b, int len) throws Unsupported {
        return switch (oid) {
            case INT2 -> (long) b.getShort();
            case INT4 -> (long) b.getInt();
            case OID -> b.getInt() & 0xffffffffL;
            case INT8 -> b.getLong();
            case FLOAT4 -> (double) b.getFloat();
            case FLOAT8 -> b.getDouble();
            case NUMERIC -> numeric(b);
            case TEXT, VARCHAR, BPCHAR, NAME -> StandardCharsets.UTF_8.decode(b).toString();
            case BOOL -> b.get() != 0;
            case DATE -> date(b.getInt());
            case TIME -> LocalTime.ofNanoOfDay(b.getLong() * 1000);
            case TIMESTAMP -> timestamp(b.getLong());
            case TIMESTAMPTZ -> timestamp(b.getLong()).atOffset(ZoneOffset.UTC);
            default -> throw new Unsupported(typeName(oid) + " values are not read by the merge");
        };
    }

    private static LocalDate date(int days) throws Unsupported {
        if (days == Integer.MAX_VALUE || days == Integer.MIN_VALUE) {
            throw new Unsupported("date 'infinity' is not read by the merge");
        }
        return PG_EPOCH.plusDays(days);
    }

    private static LocalDateTime timestamp(long micros) throws Unsupported {
        if (micros == Long.MAX_VALUE || micros == Long.MIN_VALUE) {
            throw new Unsupported("timestamp 'infinity' is not read by the merge");
        }
        return PG_EPOCH_TS.plus(micros, ChronoUnit.MICROS);
    }

    /** numeric's binary form: ndigits, weight, sign, dscale (int16 each), then ndigits base-10000 digits. */
    static Object numeric(ByteBuffer b) {
        int ndigits = b.getShort();
        int weight = b.getShort();
        int sign = b.getShort() & 0xffff;
        int dscale = b.getShort();
        if (sign == 0xC000) {
            return Double.NaN;
        }
        if (sign == 0xD000 || sign == 0xF000) {
            return sign == 0xD000 ? Double.POSITIVE_INFINITY : Double.NEGATIVE_INFINITY;
        }
        BigInteger unscaled = BigInteger.ZERO;
        BigInteger base = BigInteger.valueOf(10000);
        for (int i = 0; i < ndigits; i++) {
            unscaled = unscaled.multiply(base).add(BigInteger.valueOf(b.getShort()));
        }
        // the digits stand for unscaled × 10000^(weight - ndigits + 1)
        BigDecimal v = new BigDecimal(unscaled).scaleByPowerOfTen(4 * (weight - ndigits + 1));
        v = v.setScale(dscale, java.math.RoundingMode.UNNECESSARY);
        return sign == 0x4000 ? v.negate() : v;
    }

    /** {@code v} in numeric's binary form (see {@link #numeric(ByteBuffer)}). */
    static byte[] numericBinary(BigDecimal v) {
        int dscale = Math.max(v.scale(), 0);
        BigDecimal abs = v.abs().setScale(dscale);
        // align to base-10000 digits: scale up to a multiple of 4 decimal places
        int fracGroups = (dscale + 3) / 4;
        BigInteger unscaled = abs.setScale(fracGroups * 4).unscaledValue();
        java.util.ArrayDeque<Short> digits = new java.util.ArrayDeque<>();
        BigInteger base = BigInteger.valueOf(10000);
        while (unscaled.signum() > 0) {
            BigInteger[] qr = unscaled.divideAndRemainder(base);
            digits.addFirst(qr[1].shortValue());
            unscaled = qr[0];
        }
        int weight = digits.size() - fracGroups - 1;
        // strip trailing zero digits (weight is fixed by the leading ones) and leading zeros
        java.util.ArrayList<Short> list = new java.util.ArrayList<>(digits);
        while (!list.isEmpty() && list.get(0) == 0) {
            list.remove(0);
            weight--;
        }
        while (!list.isEmpty() && list.get(list.size() - 1) == 0) {
            list.remove(list.size() - 1);
        }
        if (list.isEmpty()) {
            weight = 0;
        }
        ByteBuffer out = ByteBuffer.allocate(8 + 2 * list.size());
        out.putShort((short) list.size()).putShort((short) weight).putShort((short) (v.signum() < 0 ? 0x4000 : 0)).putShort((short) dscale);
        list.forEach(out::putShort);
        return out.array();
    }

    /**
     * A merged aggregate (COUNT, SUM, AVG: Long, BigDecimal or Double) as a wire value of type {@code oid} in the given
     * format; null for SQL NULL.
     */
    static byte[] encode(Object v, int oid, boolean binary) throws Unsupported {
        if (v == null) {
            return null;
        }
        if (!binary) {
            String s = v instanceof BigDecimal d ? d.toPlainString() : v instanceof Double d ? floatText(d) : v.toString();
            return s.getBytes(StandardCharsets.UTF_8);
        }
        try {
            return switch (oid) {
                case INT8 -> ByteBuffer.allocate(8).putLong(MergeCheck.exactLong(v)).array();
                case INT4 -> ByteBuffer.allocate(4).putInt(Math.toIntExact(MergeCheck.exactLong(v))).array();
                case INT2 -> ByteBuffer.allocate(2).putShort((short) Math.toIntExact(MergeCheck.exactLong(v))).array();
                case FLOAT8 -> ByteBuffer.allocate(8).putDouble(((Number) v).doubleValue()).array();
                case FLOAT4 -> ByteBuffer.allocate(4).putFloat(((Number) v).floatValue()).array();
                case NUMERIC -> numericBinary(v instanceof BigDecimal d ? d : new BigDecimal(v.toString()));
                default -> throw new Unsupported("a merged " + typeName(oid) + " aggregate cannot be sent in binary format");
            };
        } catch (ArithmeticException e) {
            throw new Unsupported("the merged value " + v + " does not fit " + typeName(oid));
        }
    }

    /** A double as PostgreSQL prints it (Infinity, NaN; otherwise a form that reads back to the same double). */
    static String floatText(double d) {
        if (Double.isNaN(d)) {
            return "NaN";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "Infinity" : "-Infinity";
        }
        if (d == Math.rint(d) && Math.abs(d) < 1e15) {
            return Long.toString((long) d);
        }
        return Double.toString(d).replace("E", "e");
    }

    /** Exact conversions of merged numbers. */
    static final class MergeCheck {
        private MergeCheck() {
        }

        static long exactLong(Object v) {
            return v instanceof Long l ? l : v instanceof BigDecimal d ? d.longValueExact() : ((Number) v).longValue();
        }
    }
}
