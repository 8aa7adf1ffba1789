package dev.sluice.proxy.net;

import java.net.InetAddress;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Failed logins per client IP address ({@code auth-failure-limit} per {@code auth-failure-window-ms}): once a
 * source has had {@code limit} failures in a window, counted from its first failure, its logins are refused
 * until the window has passed. Memory is bounded: at most {@code maxSources} addresses are tracked, the least
 * recently seen forgotten first (an attacker with more addresses than that gets a weaker limit, never an
 * unbounded map). Thread-safe: event loops share one instance.
 */
public final class AuthFailureLimiter {
    /** Tracked addresses at most; an entry is a few dozen bytes. */
    static final int DEFAULT_MAX_SOURCES = 10_000;

    private static final class Entry {
        long windowStart;
        int failures;
    }

    private final int limit;
    private final long windowMs;
    private final LongSupplier clockMs;
    private final Map<InetAddress, Entry> sources;

    /**
     * @param limit    failures allowed per window; 0 turns limiting off
     * @param windowMs the window's length
     * @param clockMs  milliseconds, monotonic (tests pass a fake clock)
     */
    AuthFailureLimiter(int limit, long windowMs, int maxSources, LongSupplier clockMs) {
        if (limit < 0 || windowMs < 1 || maxSources < 1) {
            throw new IllegalArgumentException("limit " + limit + ", window " + windowMs + " ms, max sources " + maxSources);
        }
        this.limit = limit;
        this.windowMs = windowMs;
        this.clockMs = clockMs;
        this.sources = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<InetAddress, Entry> eldest) {
                return size() > maxSources;
            }
        };
    }

    public AuthFailureLimiter(int limit, long windowMs) {
        this(limit, windowMs, DEFAULT_MAX_SOURCES, () -> System.nanoTime() / 1_000_000);
    }

    /** Milliseconds until {@code source} may try again; 0 when it may now. */
    public long blockedForMs(InetAddress source) {
        if (limit == 0 || source == null) {
            return 0;
        }
        long now = clockMs.getAsLong();
        synchronized (sources) {
            Entry e = sources.get(source);
            if (e == null) {
                return 0;
            }
            long left = e.windowStart + windowMs - now;
            if (left <= 0) {
                sources.remove(source);
                return 0;
            }
            return e.failures >= limit ? left : 0;
        }
    }

    /** Counts one failed login of {@code source}; true when this one reached the limit (to log the lock-out once). */
    public boolean failed(InetAddress source) {
        if (limit == 0 || source == null) {
            return false;
        }
        long now = clockMs.getAsLong();
        synchronized (sources) {
            Entry e = sources.get(source);
            if (e == null || now - e.windowStart >= windowMs) {
                e = new Entry();
                e.windowStart = now;
                sources.put(source, e);
            }
            e.failures++;
            return e.failures == limit;
        }
    }

    /** Addresses tracked now (for tests). */
    int tracked() {
        synchronized (sources) {
            return sources.size();
        }
    }

    public long windowMs() {
        return windowMs;
    }

    public int limit() {
        return limit;
    }
}
