package dev.sluice.core.shard;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.format.DateTimeParseException;
import java.util.Locale;

/**
 * The type of a shard key column. Values from SQL literals and bound parameters are brought to one canonical
 * Java value per type ({@link #coerce}) before they are compared with range boundaries or hashed, so
 * {@code id = 5}, {@code id = '5'} and {@code setLong(1, 5)} all find the same shard.
 *
 * <p>Canonical bytes for the hash (docs/sharding.md): integer → 8 bytes big-endian two's complement;
 * decimal → UTF-8 of the plain string without trailing zeros ({@code 1.50} → {@code "1.5"}); string → UTF-8;
 * date → UTF-8 of ISO-8601 {@code yyyy-MM-dd}.
 */
public enum KeyType {
    INTEGER, DECIMAL, STRING, DATE;

    public static KeyType parse(String where, String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new dev.sluice.core.config.ConfigException(where + ": unknown key type '" + s + "' (integer, decimal, string, date)");
        }
    }

    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * The canonical value of {@code v} for this type, or null when {@code v} cannot be a value of this type
     * (then no shard can be chosen by it, and the caller treats the predicate as unconstrained or fails).
     */
    public Comparable<?> coerce(Object v) {
        if (v == null) {
            return null;
        }
        try {
            return switch (this) {
                case INTEGER -> integer(v);
                case DECIMAL -> decimal(v);
                case STRING -> v instanceof String s ? s : v instanceof Number || v instanceof Character ? v.toString() : null;
                case DATE -> date(v);
            };
        } catch (NumberFormatException | ArithmeticException | DateTimeParseException e) {
            return null;
        }
    }

    private static Long integer(Object v) {
        if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
            return ((Number) v).longValue();
        }
        BigDecimal d = v instanceof BigDecimal b ? b : v instanceof BigInteger bi ? new BigDecimal(bi)
                : v instanceof String s ? new BigDecimal(s.trim()) : null;
        return d == null ? null : d.longValueExact(); // 5.0 is 5; 5.5 or out of range → ArithmeticException → null
    }

    private static BigDecimal decimal(Object v) {
        BigDecimal d = v instanceof BigDecimal b ? b : v instanceof BigInteger bi ? new BigDecimal(bi)
                : v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte ? BigDecimal.valueOf(((Number) v).longValue())
                : v instanceof Double || v instanceof Float ? BigDecimal.valueOf(((Number) v).doubleValue())
                : v instanceof String s ? new BigDecimal(s.trim()) : null;
        return d == null ? null : d.signum() == 0 ? BigDecimal.ZERO : d.stripTrailingZeros();
    }

    private static LocalDate date(Object v) {
        if (v instanceof LocalDate d) {
            return d;
        }
        if (v instanceof java.sql.Date d) {
            return d.toLocalDate();
        }
        if (v instanceof String s) {
            return LocalDate.parse(s.trim());
        }
        if (v instanceof LocalDateTime || v instanceof java.sql.Timestamp) {
            return null; // a time of day compared with a date key: leave it to the database, choose no shard by it
        }
        return null;
    }

    /** Bytes hashed into the keyspace id (documented in docs/sharding.md; other languages must match). */
    public byte[] canonicalBytes(Comparable<?> canonical) {
        return switch (this) {
            case INTEGER -> ByteBuffer.allocate(8).putLong((Long) canonical).array();
            case DECIMAL -> ((BigDecimal) canonical).toPlainString().getBytes(StandardCharsets.UTF_8);
            case STRING -> ((String) canonical).getBytes(StandardCharsets.UTF_8);
            case DATE -> canonical.toString().getBytes(StandardCharsets.UTF_8); // LocalDate.toString is ISO-8601
        };
    }

    /** Orders canonical values; strings by code point, the order a binary collation (e.g. C, utf8mb4_bin) uses. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    public int compare(Comparable<?> a, Comparable<?> b) {
        if (this == STRING) {
            return codePointCompare((String) a, (String) b);
        }
        return ((Comparable) a).compareTo(b);
    }

    static int codePointCompare(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i);
            int cb = b.codePointAt(j);
            if (ca != cb) {
                return Integer.compare(ca, cb);
            }
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Integer.compare(a.length() - i, b.length() - j);
    }
}
