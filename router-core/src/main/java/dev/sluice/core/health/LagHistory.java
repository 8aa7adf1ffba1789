package dev.sluice.core.health;

import java.util.ArrayList;
import java.util.List;

/**
 * Lag over the last 10 minutes at one-second resolution: a fixed ring of 600 slots, so memory is bounded
 * whatever the probe interval. Within a second the worst (largest, or unknown) value wins.
 */
public final class LagHistory {
    /** One second of history: {@code lagMillis} null means unknown at some point of that second. */
    public record Sample(long epochSecond, Long lagMillis) {
    }

    static final int SECONDS = 600;
    private final long[] seconds = new long[SECONDS];
    private final long[] lags = new long[SECONDS];
    private final boolean[] known = new boolean[SECONDS];

    public synchronized void record(long epochMillis, Long lagMillis) {
        long sec = epochMillis / 1000;
        int i = (int) (sec % SECONDS);
        if (seconds[i] != sec) {
            seconds[i] = sec;
            known[i] = lagMillis != null;
            lags[i] = lagMillis == null ? 0 : lagMillis;
        } else if (lagMillis == null) {
            known[i] = false;
        } else if (known[i]) {
            lags[i] = Math.max(lags[i], lagMillis);
        }
    }

    /** Samples of the last 10 minutes ending at {@code nowMillis}, oldest first, skipping seconds never recorded. */
    public synchronized List<Sample> last10Minutes(long nowMillis) {
        long nowSec = nowMillis / 1000;
        List<Sample> out = new ArrayList<>();
        for (long s = nowSec - SECONDS + 1; s <= nowSec; s++) {
            int i = (int) (s % SECONDS);
            if (seconds[i] == s && s > 0) {
                out.add(new Sample(s, known[i] ? lags[i] : null));
            }
        }
        return out;
    }
}
