package dev.sluice.core.shard;

import dev.sluice.core.config.ConfigException;
import java.util.Comparator;

/**
 * A half-open interval {@code [lo, hi)} of canonical key values (or of keyspace ids); a null bound is MIN or
 * MAX. Written in the configuration as {@code "[MIN,1000)"}, {@code "[1000,5000)"}, {@code "[5000,MAX)"}.
 */
public record KeyRange(Comparable<?> lo, Comparable<?> hi, String text) {

    /** Parses {@code [lo,hi)}; {@code value} turns one bound's text into a canonical value (or throws ConfigException). */
    static KeyRange parse(String where, String s, java.util.function.BiFunction<String, String, Comparable<?>> value) {
        String t = s == null ? "" : s.trim();
        int comma = t.indexOf(',');
        if (!t.startsWith("[") || !t.endsWith(")") || comma < 0 || t.indexOf(',', comma + 1) >= 0) {
            throw new ConfigException(where + ": expected a half-open range like \"[MIN,1000)\", got '" + s + "'");
        }
        String lo = t.substring(1, comma).trim();
        String hi = t.substring(comma + 1, t.length() - 1).trim();
        return new KeyRange(lo.equalsIgnoreCase("MIN") ? null : value.apply(where, unquote(lo)),
                hi.equalsIgnoreCase("MAX") ? null : value.apply(where, unquote(hi)), t);
    }

    private static String unquote(String s) {
        if (s.length() >= 2 && (s.startsWith("'") && s.endsWith("'") || s.startsWith("\"") && s.endsWith("\""))) {
            return s.substring(1, s.length() - 1);
        }
        return s;
    }

    /** Whether canonical value {@code v} lies in this range. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    boolean contains(Comparable<?> v, Comparator cmp) {
        return (lo == null || cmp.compare(lo, v) <= 0) && (hi == null || cmp.compare(v, hi) < 0);
    }

    /**
     * Whether this range meets the interval from {@code from} to {@code to} (null: unbounded; inclusive flags for
     * each end), e.g. the rows a {@code BETWEEN} or {@code <} predicate can match.
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    boolean overlaps(Comparable<?> from, boolean fromInclusive, Comparable<?> to, boolean toInclusive, Comparator cmp) {
        if (to != null && lo != null) { // the interval must reach lo
            int c = cmp.compare(to, lo);
            if (c < 0 || c == 0 && !toInclusive) {
                return false;
            }
        }
        if (from != null && hi != null) { // and start below hi
            if (cmp.compare(from, hi) >= 0) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        return text;
    }
}
