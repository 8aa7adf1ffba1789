package dev.sluice.jdbc;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.util.Calendar;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * The part of a prepared statement's cache key one bound parameter contributes: an immutable copy with
 * content equality, made when a cacheable read executes, from the same values that are then bound (the
 * application may change a byte[] or Timestamp it passed afterwards; the cached entry's key must not change
 * with it). Streams, readers, LOBs and driver objects make the execution uncacheable
 * ({@link #UNCACHEABLE}): their content is not known without consuming them.
 */
final class ParamKeys {
    private ParamKeys() {
    }

    /** A parameter whose value cannot be part of a key. */
    static final Object UNCACHEABLE = new Object() {
        @Override
        public String toString() {
            return "uncacheable parameter";
        }
    };

    private static final Set<Class<?>> IMMUTABLE = Set.of(String.class, Boolean.class, Character.class, Byte.class,
            Short.class, Integer.class, Long.class, Float.class, Double.class, BigDecimal.class, BigInteger.class,
            UUID.class, java.time.LocalDate.class, java.time.LocalTime.class, java.time.LocalDateTime.class,
            java.time.OffsetDateTime.class, java.time.OffsetTime.class, java.time.ZonedDateTime.class, java.time.Instant.class,
            java.time.Duration.class, java.time.Period.class);

    /** The key of a value set with setInt, setString, setObject … (its Java type is part of it). */
    static Object of(Object x) {
        if (x == null) {
            return List.of("null");
        }
        if (IMMUTABLE.contains(x.getClass())) {
            return x;
        }
        if (x instanceof byte[] b) {
            return ByteBuffer.wrap(b.clone());
        }
        if (x instanceof java.sql.Timestamp t) {
            return List.of("timestamp", t.getTime(), t.getNanos());
        }
        if (x instanceof java.sql.Date d) {
            return List.of("date", d.getTime());
        }
        if (x instanceof java.sql.Time t) {
            return List.of("time", t.getTime());
        }
        if (x instanceof java.util.Date d) {
            return List.of("util-date", d.getTime());
        }
        return UNCACHEABLE;
    }

    /** A value with a Calendar (setTimestamp(i, x, cal) …): the calendar's time zone changes what is sent. */
    static Object of(Object x, Calendar cal) {
        Object k = of(x);
        return k == UNCACHEABLE ? k : List.of(k, cal == null ? "" : cal.getTimeZone().getID());
    }

    /** setNull(i, sqlType [, typeName]) and setObject(i, x, targetType [, scale]): the extra arguments count too. */
    static Object of(Object x, Object... extra) {
        Object k = of(x);
        if (k == UNCACHEABLE) {
            return k;
        }
        Object[] all = new Object[extra.length + 1];
        all[0] = k;
        for (int i = 0; i < extra.length; i++) {
            all[i + 1] = String.valueOf(extra[i]);
        }
        return List.of(all);
    }
}
