package dev.sluice.proxy.alert;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * De-duplication of alerts by key (kind and node): the first of a key is sent at once; repeats within the
 * window after it are held back, and when the window ends the latest held-back one is sent carrying how many
 * were suppressed before it. So a flapping node gives one alert per window, and the receiver still learns
 * the last thing that happened (a node that went down, up, down again is not left looking up).
 * Not thread-safe: the alert worker thread owns it. Times are monotonic milliseconds.
 */
final class AlertDedup<T> {
    /** An alert to send now, with the number of same-key alerts suppressed since the last one sent. */
    record Out<T>(T item, int suppressed) {
    }

    private static final class Window {
        long sentAt;
        int held;     // suppressed since sentAt
        Object latest; // the newest suppressed one, sent when the window ends
    }

    private final long windowMs;
    private final Map<String, Window> byKey = new HashMap<>();

    AlertDedup(long windowMs) {
        this.windowMs = windowMs;
    }

    /** The alert to send now for {@code item} (empty when suppressed). */
    List<Out<T>> offer(String key, T item, long nowMs) {
        if (windowMs <= 0) {
            return List.of(new Out<>(item, 0));
        }
        Window w = byKey.get(key);
        if (w == null || nowMs - w.sentAt >= windowMs) {
            int before = w == null ? 0 : w.held;
            w = w == null ? new Window() : w;
            w.sentAt = nowMs;
            w.held = 0;
            w.latest = null;
            byKey.put(key, w);
            return List.of(new Out<>(item, before));
        }
        w.held++;
        w.latest = item;
        return List.of();
    }

    /**
     * Windows that ended with suppressed repeats: their latest one, to send now (its count excludes itself).
     * Windows that ended quietly are forgotten, so the map holds only recent keys.
     */
    @SuppressWarnings("unchecked")
    List<Out<T>> due(long nowMs) {
        List<Out<T>> out = new ArrayList<>();
        for (Iterator<Window> it = byKey.values().iterator(); it.hasNext(); ) {
            Window w = it.next();
            if (nowMs - w.sentAt < windowMs) {
                continue;
            }
            if (w.held == 0) {
                it.remove();
            } else {
                out.add(new Out<>((T) w.latest, w.held - 1));
                w.sentAt = nowMs;
                w.held = 0;
                w.latest = null;
            }
        }
        return out;
    }
}
