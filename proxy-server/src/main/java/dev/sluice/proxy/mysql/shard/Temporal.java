package dev.sluice.proxy.mysql.shard;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;

/**
 * MySQL's text forms of temporal and floating-point values, both ways. The zero date {@code 0000-00-00} (which
 * sorts first in MySQL) is {@link LocalDate#MIN} / {@link LocalDateTime#MIN} here; TIME is a signed duration
 * (it ranges over ±838 hours), so it is a {@link Duration}.
 */
final class Temporal {
    private Temporal() {
    }

    static LocalDate parseDate(String s) {
        if (s.startsWith("0000-00-00")) {
            return LocalDate.MIN;
        }
        return LocalDate.of(Integer.parseInt(s.substring(0, 4)), Integer.parseInt(s.substring(5, 7)), Integer.parseInt(s.substring(8, 10)));
    }

    static LocalDateTime parseDateTime(String s) {
        if (s.startsWith("0000-00-00")) {
            return LocalDateTime.MIN;
        }
        LocalDate d = parseDate(s);
        if (s.length() < 19) {
            return d.atStartOfDay();
        }
        int nanos = s.length() > 20 ? fractionNanos(s.substring(20)) : 0;
        return d.atTime(LocalTime.of(Integer.parseInt(s.substring(11, 13)), Integer.parseInt(s.substring(14, 16)),
                Integer.parseInt(s.substring(17, 19)), nanos));
    }

    static Duration parseTime(String s) {
        boolean neg = s.startsWith("-");
        String t = neg ? s.substring(1) : s;
        int c1 = t.indexOf(':');
        int c2 = t.indexOf(':', c1 + 1);
        int dot = t.indexOf('.');
        long h = Long.parseLong(t.substring(0, c1));
        long m = Long.parseLong(t.substring(c1 + 1, c2));
        long sec = Long.parseLong(t.substring(c2 + 1, dot < 0 ? t.length() : dot));
        Duration d = Duration.ofSeconds(h * 3600 + m * 60 + sec, dot < 0 ? 0 : fractionNanos(t.substring(dot + 1)));
        return neg ? d.negated() : d;
    }

    private static int fractionNanos(String digits) {
        String f = (digits + "000000000").substring(0, 9);
        return Integer.parseInt(f);
    }

    static String formatDate(LocalDate d) {
        if (d.equals(LocalDate.MIN)) {
            return "0000-00-00";
        }
        return String.format("%04d-%02d-%02d", d.getYear(), d.getMonthValue(), d.getDayOfMonth());
    }

    static String formatDateTime(LocalDateTime t, int decimals) {
        if (t.equals(LocalDateTime.MIN)) {
            return "0000-00-00 00:00:00" + fraction(0, decimals);
        }
        return formatDate(t.toLocalDate()) + String.format(" %02d:%02d:%02d", t.getHour(), t.getMinute(), t.getSecond())
                + fraction(t.getNano(), decimals);
    }

    static String formatTime(Duration d, int decimals) {
        boolean neg = d.isNegative();
        Duration a = d.abs();
        long s = a.getSeconds();
        return (neg ? "-" : "") + String.format("%02d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) + fraction(a.getNano(), decimals);
    }

    /** {@code .ffffff} cut to the column's fractional digits (none for 0, or for the "not fixed" 31). */
    private static String fraction(int nanos, int decimals) {
        if (decimals <= 0 || decimals > 6) {
            return "";
        }
        return "." + String.format("%09d", nanos).substring(0, decimals);
    }

    /** A double as MySQL prints it: shortest form, no trailing {@code .0}, exponent as {@code 1e20}. */
    static String formatDouble(double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            return Double.toString(v);
        }
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return new BigDecimal(v).toPlainString();
        }
        String s = Double.toString(v);
        int e = s.indexOf('E');
        if (e < 0) {
            return s;
        }
        String mantissa = s.substring(0, e);
        if (mantissa.endsWith(".0")) {
            mantissa = mantissa.substring(0, mantissa.length() - 2);
        }
        return mantissa + "e" + s.substring(e + 1);
    }
}
