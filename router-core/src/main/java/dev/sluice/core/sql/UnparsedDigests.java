package dev.sluice.core.sql;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Pattern;

/**
 * Counts unparsed statements by digest (literals replaced by {@code ?}, whitespace collapsed, cut to
 * {@link #MAX_DIGEST_CHARS}), so an operator can see which statements the classifier does not understand.
 * Bounded: at most {@link #MAX_DIGESTS} distinct digests are kept; later new ones are only counted in
 * {@link #overflow()}. Replacing literals also keeps values (a password in {@code ALTER ROLE ... PASSWORD
 * '...'}) out of the status page. Thread-safe.
 */
public final class UnparsedDigests {
    public static final int MAX_DIGESTS = 100;
    public static final int MAX_DIGEST_CHARS = 160;

    /** One digest and how often it was seen. */
    public record Digest(String digest, long count) {
    }

    // quoted strings (with '' escapes), dollar-quoted bodies, numbers: the parts that differ between calls
    private static final Pattern LITERALS = Pattern.compile(
            "'(?:[^']|'')*'?|\\$([A-Za-z_]*)\\$.*?(?:\\$\\1\\$|$)|\\b\\d+(?:\\.\\d+)?(?:[eE][-+]?\\d+)?\\b", Pattern.DOTALL);
    private static final Pattern SPACE = Pattern.compile("\\s+");

    private final Map<String, LongAdder> counts = new ConcurrentHashMap<>();
    private final LongAdder overflow = new LongAdder();

    public void record(String sql) {
        String d = digest(sql);
        LongAdder a = counts.get(d);
        if (a == null) {
            // the size check races with other inserts: the bound may be exceeded by a few, never grow without end
            if (counts.size() >= MAX_DIGESTS) {
                overflow.increment();
                return;
            }
            a = counts.computeIfAbsent(d, k -> new LongAdder());
        }
        a.increment();
    }

    /** The {@code n} most frequent digests, most frequent first. */
    public List<Digest> top(int n) {
        List<Digest> all = new ArrayList<>();
        counts.forEach((k, v) -> all.add(new Digest(k, v.sum())));
        all.sort(Comparator.comparingLong(Digest::count).reversed().thenComparing(Digest::digest));
        return all.size() > n ? List.copyOf(all.subList(0, n)) : all;
    }

    /** Unparsed statements not counted by digest because the table was full. */
    public long overflow() {
        return overflow.sum();
    }

    static String digest(String sql) {
        // cut before normalizing too: an unparsed text may be megabytes long
        String head = sql.length() > 4 * MAX_DIGEST_CHARS ? sql.substring(0, 4 * MAX_DIGEST_CHARS) : sql;
        String d = SPACE.matcher(LITERALS.matcher(head).replaceAll("?")).replaceAll(" ").strip();
        return d.length() > MAX_DIGEST_CHARS ? d.substring(0, MAX_DIGEST_CHARS) + "…" : d;
    }
}
