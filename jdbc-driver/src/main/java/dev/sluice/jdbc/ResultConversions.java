package dev.sluice.jdbc;

import java.io.ByteArrayInputStream;
import java.io.StringReader;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.sql.Blob;
import java.sql.Clob;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Calendar;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import javax.sql.rowset.serial.SerialArray;
import javax.sql.rowset.serial.SerialBlob;
import javax.sql.rowset.serial.SerialClob;

/**
 * The typed getters of a cached result, from the value the real driver's {@code getObject} gave and the text
 * its {@code getString} gave. They follow what pgjdbc and MariaDB Connector/J do for the common types
 * (numbers from text or booleans, dates with a Calendar as wall time unless the column has a time zone,
 * {@code getObject(i, Class)} for java.time types), and hand out a fresh copy of anything mutable, since one
 * stored result serves every hit.
 */
final class ResultConversions {
    private ResultConversions() {
    }

    private static final Set<Class<?>> IMMUTABLE = Set.of(String.class, Boolean.class, Character.class, Byte.class,
            Short.class, Integer.class, Long.class, Float.class, Double.class, BigDecimal.class, BigInteger.class, UUID.class,
            LocalDate.class, LocalTime.class, LocalDateTime.class, OffsetDateTime.class, java.time.OffsetTime.class,
            java.time.ZonedDateTime.class, Instant.class, java.time.Duration.class, java.time.Period.class);

    /**
     * The value to keep for one cell, or {@link #NOT_CACHEABLE}: LOBs and arrays are copied out of the
     * connection they belong to; immutable values are kept; other objects only when they can be cloned.
     */
    static Object storable(Object v) throws SQLException {
        if (v == null || IMMUTABLE.contains(v.getClass()) || v instanceof byte[] || v instanceof java.util.Date) {
            return v;
        }
        if (v instanceof Blob b) {
            return new SerialBlob(b.getBytes(1, (int) b.length()));
        }
        if (v instanceof Clob c) {
            return c instanceof java.sql.NClob ? NOT_CACHEABLE : new SerialClob(c.getSubString(1, (int) c.length()).toCharArray());
        }
        if (v instanceof java.sql.Array a) {
            return new SerialArray(a);
        }
        return clone(v) != null ? v : NOT_CACHEABLE;
    }

    /** Marks a value the cache cannot keep (Struct, Ref, SQLXML, RowId, an unclonable driver object). */
    static final Object NOT_CACHEABLE = new Object();

    /** A copy the caller may change without changing the cache. */
    static Object copy(Object v) throws SQLException {
        if (v == null || IMMUTABLE.contains(v.getClass())) {
            return v;
        }
        if (v instanceof byte[] b) {
            return b.clone();
        }
        if (v instanceof java.util.Date d) {
            return d.clone();
        }
        if (v instanceof SerialBlob b) {
            return new SerialBlob(b.getBytes(1, (int) b.length()));
        }
        if (v instanceof SerialClob c) {
            return new SerialClob(c.getSubString(1, (int) c.length()).toCharArray());
        }
        if (v instanceof SerialArray a) {
            return new SerialArray(a);
        }
        Object c = clone(v);
        return c != null ? c : v;
    }

    private static Object clone(Object v) {
        if (!(v instanceof Cloneable)) {
            return null;
        }
        try {
            return v.getClass().getMethod("clone").invoke(v); // e.g. pgjdbc's PGobject (json, interval …)
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    static String text(Object v, String override) {
        return override != null ? override : v == null ? null : v.toString();
    }

    /** The answer of getter {@code method} (args after the column) for a cell, never null for primitive getters. */
    static Object get(String method, Object v, String override, Object[] args, CachedMetaData.Column col) throws SQLException {
        switch (method) {
            case "getString", "getNString":
                return text(v, override);
            case "getObject":
                if (args.length == 0 || (args[0] instanceof Map<?, ?> m && m.isEmpty())) {
                    return copy(v);
                }
                if (args[0] instanceof Class<?> type) {
                    return to(v, override, type, col);
                }
                throw new SQLFeatureNotSupportedException("Sluice: getObject with a type map on a cached result");
            case "getBoolean":
                return v != null && bool(v, override);
            case "getByte":
                return (byte) integral(v, override, Byte.MIN_VALUE, Byte.MAX_VALUE);
            case "getShort":
                return (short) integral(v, override, Short.MIN_VALUE, Short.MAX_VALUE);
            case "getInt":
                return (int) integral(v, override, Integer.MIN_VALUE, Integer.MAX_VALUE);
            case "getLong":
                return integral(v, override, Long.MIN_VALUE, Long.MAX_VALUE);
            case "getFloat":
                return v == null ? 0f : decimal(v, override).floatValue();
            case "getDouble":
                return v == null ? 0d : decimal(v, override).doubleValue();
            case "getBigDecimal":
                if (v == null) {
                    return null;
                }
                return args.length == 0 ? decimal(v, override) : decimal(v, override).setScale((Integer) args[0], RoundingMode.HALF_UP);
            case "getBytes":
                return v == null ? null : bytes(v, override);
            case "getDate", "getTime", "getTimestamp":
                return temporal(method, v, override, args.length > 0 ? (Calendar) args[0] : null, col);
            case "getBinaryStream":
                return v == null ? null : new ByteArrayInputStream(bytes(v, override));
            case "getAsciiStream", "getUnicodeStream":
                return v == null ? null : new ByteArrayInputStream(text(v, override).getBytes(
                        method.equals("getAsciiStream") ? StandardCharsets.US_ASCII : StandardCharsets.UTF_16BE));
            case "getCharacterStream", "getNCharacterStream":
                return v == null ? null : new StringReader(text(v, override));
            case "getBlob":
                return v == null ? null : v instanceof Blob ? copy(v) : new SerialBlob(bytes(v, override));
            case "getClob":
                return v == null ? null : v instanceof Clob ? copy(v) : new SerialClob(text(v, override).toCharArray());
            case "getArray":
                if (v == null || v instanceof java.sql.Array) {
                    return copy(v);
                }
                throw new SQLException("Sluice: column " + col.label() + " is not an array", "22018");
            case "getURL":
                try {
                    return v == null ? null : new java.net.URL(text(v, override));
                } catch (java.net.MalformedURLException e) {
                    throw new SQLException("Sluice: not a URL: " + text(v, override), "22018", e);
                }
            default:
                throw new SQLFeatureNotSupportedException("Sluice: " + method + " is not supported on a cached result");
        }
    }

    private static boolean bool(Object v, String override) {
        if (v instanceof Boolean b) {
            return b;
        }
        if (v instanceof Number n) {
            return n.doubleValue() != 0;
        }
        // MariaDB Connector/J's rule: anything but a false word is true (pgjdbc throws on other text; answering is kinder)
        String s = text(v, override).trim().toLowerCase(Locale.ROOT);
        return switch (s) {
            case "0", "f", "false", "n", "no", "off", "" -> false;
            default -> true;
        };
    }

    private static long integral(Object v, String override, long min, long max) throws SQLException {
        if (v == null) {
            return 0;
        }
        long n;
        if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
            n = ((Number) v).longValue();
        } else if (v instanceof Boolean b) {
            n = b ? 1 : 0;
        } else {
            BigDecimal d = decimal(v, override);
            if (d.compareTo(BigDecimal.valueOf(min)) < 0 || d.compareTo(BigDecimal.valueOf(max)) > 0) {
                throw new SQLException("Sluice: value " + d + " out of range", "22003");
            }
            n = d.longValue(); // truncates, as both real drivers do for a fractional numeric
        }
        if (n < min || n > max) {
            throw new SQLException("Sluice: value " + n + " out of range", "22003");
        }
        return n;
    }

    private static BigDecimal decimal(Object v, String override) throws SQLException {
        if (v instanceof BigDecimal d) {
            return d;
        }
        if (v instanceof Boolean b) {
            return b ? BigDecimal.ONE : BigDecimal.ZERO;
        }
        if (v instanceof Double || v instanceof Float) {
            return BigDecimal.valueOf(((Number) v).doubleValue());
        }
        if (v instanceof Number n) {
            return new BigDecimal(n.toString());
        }
        try {
            return new BigDecimal(text(v, override).trim());
        } catch (NumberFormatException e) {
            throw new SQLException("Sluice: cannot read '" + text(v, override) + "' as a number", "22018", e);
        }
    }

    private static byte[] bytes(Object v, String override) throws SQLException {
        if (v instanceof byte[] b) {
            return b.clone();
        }
        if (v instanceof Blob b) {
            return b.getBytes(1, (int) b.length());
        }
        return text(v, override).getBytes(StandardCharsets.UTF_8);
    }

    private static boolean zoned(CachedMetaData.Column col) {
        String t = col.typeName() == null ? "" : col.typeName().toLowerCase(Locale.ROOT);
        return col.type() == Types.TIMESTAMP_WITH_TIMEZONE || col.type() == Types.TIME_WITH_TIMEZONE
                || t.endsWith("tz") || t.contains("with time zone");
    }

    /** getDate / getTime / getTimestamp; a Calendar reinterprets the wall time of a column without a time zone. */
    private static Object temporal(String method, Object v, String override, Calendar cal, CachedMetaData.Column col) throws SQLException {
        if (v == null) {
            return null;
        }
        LocalDateTime wall;
        if (v instanceof Timestamp ts) {
            wall = ts.toLocalDateTime();
        } else if (v instanceof java.sql.Date d) {
            wall = d.toLocalDate().atStartOfDay();
        } else if (v instanceof java.sql.Time t) {
            wall = t.toLocalTime().atDate(LocalDate.of(1970, 1, 1));
        } else if (v instanceof LocalDateTime l) {
            wall = l;
        } else if (v instanceof LocalDate l) {
            wall = l.atStartOfDay();
        } else if (v instanceof OffsetDateTime o) {
            wall = LocalDateTime.ofInstant(o.toInstant(), ZoneId.systemDefault());
        } else {
            try {
                wall = Timestamp.valueOf(text(v, override).trim()).toLocalDateTime();
            } catch (IllegalArgumentException e) {
                throw new SQLException("Sluice: cannot read '" + text(v, override) + "' as a date/time", "22007", e);
            }
        }
        Instant at = (cal == null || zoned(col) ? wall.atZone(ZoneId.systemDefault()) : wall.atZone(cal.getTimeZone().toZoneId())).toInstant();
        return switch (method) {
            case "getDate" -> cal == null ? java.sql.Date.valueOf(wall.toLocalDate())
                    : new java.sql.Date(wall.toLocalDate().atStartOfDay(cal.getTimeZone().toZoneId()).toInstant().toEpochMilli());
            case "getTime" -> cal == null ? java.sql.Time.valueOf(wall.toLocalTime())
                    : new java.sql.Time(wall.toLocalTime().atDate(LocalDate.of(1970, 1, 1)).atZone(cal.getTimeZone().toZoneId()).toInstant().toEpochMilli());
            default -> Timestamp.from(at);
        };
    }

    /** getObject(column, type). */
    private static Object to(Object v, String override, Class<?> type, CachedMetaData.Column col) throws SQLException {
        if (v == null) {
            return null;
        }
        if (type == String.class) {
            return text(v, override);
        }
        if (type.isInstance(v)) {
            return copy(v);
        }
        Object o = switch (type.getName()) {
            case "java.lang.Integer" -> (int) integral(v, override, Integer.MIN_VALUE, Integer.MAX_VALUE);
            case "java.lang.Long" -> integral(v, override, Long.MIN_VALUE, Long.MAX_VALUE);
            case "java.lang.Short" -> (short) integral(v, override, Short.MIN_VALUE, Short.MAX_VALUE);
            case "java.lang.Byte" -> (byte) integral(v, override, Byte.MIN_VALUE, Byte.MAX_VALUE);
            case "java.lang.Boolean" -> bool(v, override);
            case "java.lang.Double" -> decimal(v, override).doubleValue();
            case "java.lang.Float" -> decimal(v, override).floatValue();
            case "java.math.BigDecimal" -> decimal(v, override);
            case "java.math.BigInteger" -> decimal(v, override).toBigInteger();
            case "java.util.UUID" -> UUID.fromString(text(v, override).trim());
            case "[B" -> bytes(v, override);
            case "java.sql.Timestamp" -> temporal("getTimestamp", v, override, null, col);
            case "java.sql.Date" -> temporal("getDate", v, override, null, col);
            case "java.sql.Time" -> temporal("getTime", v, override, null, col);
            case "java.time.LocalDateTime" -> ((Timestamp) temporal("getTimestamp", v, override, null, col)).toLocalDateTime();
            case "java.time.LocalDate" -> ((Timestamp) temporal("getTimestamp", v, override, null, col)).toLocalDateTime().toLocalDate();
            case "java.time.LocalTime" -> ((Timestamp) temporal("getTimestamp", v, override, null, col)).toLocalDateTime().toLocalTime();
            case "java.time.Instant" -> ((Timestamp) temporal("getTimestamp", v, override, null, col)).toInstant();
            case "java.time.OffsetDateTime" -> ((Timestamp) temporal("getTimestamp", v, override, null, col)).toInstant().atOffset(ZoneOffset.UTC);
            default -> null;
        };
        if (o == null) {
            throw new SQLException("Sluice: cannot convert a cached " + v.getClass().getName() + " to " + type.getName(), "22018");
        }
        return o;
    }
}
