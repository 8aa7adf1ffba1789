package dev.sluice.core.health;

/**
 * The heartbeats the primary committed, as seen by this Sluice instance, and the lag computed from them.
 *
 * <p><b>Lag without synchronised clocks.</b> Every heartbeat value is the primary's clock (µs) at the write;
 * a replica's lag is read as the newest value it has applied. Both sides of the subtraction come from the
 * same clock, so host clock skew cancels out:
 * <pre>
 *   lag = (latest beat value − value applied on the replica)       primary clock, µs
 *       + (local monotonic now − local time the latest beat started) this process's clock, no wall time
 * </pre>
 * A replica that has applied the latest beat shows between 0 and about one heartbeat interval (plus the
 * probe's own latency): the resolution is one interval. pt-heartbeat, by contrast, subtracts the replica's
 * value from the monitor host's wall clock and so needs NTP-synced hosts.
 *
 * <p>Worked example, interval 100 ms: beats 1000000 (started at local t=0 ms) … latest 1500000 (local t=500).
 * At local t=530 a replica showing 1500000 has lag 0 + 30 = 30 ms; one showing 1200000 has 300 + 30 = 330 ms.
 *
 * <p>When the writer has not committed a beat for a while (primary unreachable, writer connection killed)
 * lag is <i>unknown</i> (null), never 0: nothing proves the replicas are current.
 *
 * <p>Read-your-writes (heartbeat mode) uses the same log: a replica has applied a write that committed at
 * local time t if it has applied a beat whose write <i>started</i> after t, because the primary applies
 * commits in order and replicas replay them in that order.
 */
public final class Heartbeats {
    private static final int CAPACITY = 512;

    private final long staleAfterNanos;
    private final long[] values = new long[CAPACITY];
    private final long[] startNanos = new long[CAPACITY];
    private int count;
    private int next;
    private long lastCommitNanos = Long.MIN_VALUE;
    private String lastError = "no heartbeat yet";

    /** @param staleAfterNanos how long without a committed beat before lag becomes unknown */
    public Heartbeats(long staleAfterNanos) {
        this.staleAfterNanos = staleAfterNanos;
    }

    /** A beat committed: its value, when its write started and when it returned (local monotonic nanos). */
    public synchronized void committed(long value, long started, long committedAt) {
        values[next] = value;
        startNanos[next] = started;
        next = (next + 1) % CAPACITY;
        count = Math.min(count + 1, CAPACITY);
        lastCommitNanos = committedAt;
        lastError = null;
    }

    /** A beat failed; lag turns unknown once no beat has committed for the stale interval. */
    public synchronized void failed(String why) {
        lastError = why;
    }

    /** Forgets every beat (e.g. the primary changed: values from the old writer prove nothing about the new one). */
    public synchronized void reset(String why) {
        count = 0;
        next = 0;
        lastCommitNanos = Long.MIN_VALUE;
        lastError = why;
    }

    /** Why lag is unknown right now, or null when it is known. */
    public synchronized String unknownReason(long now) {
        if (count == 0) {
            return lastError == null ? "no heartbeat yet" : lastError;
        }
        if (now - lastCommitNanos > staleAfterNanos) {
            return "heartbeat writer stalled " + (now - lastCommitNanos) / 1_000_000 + " ms"
                    + (lastError == null ? "" : ": " + lastError);
        }
        return null;
    }

    /** Lag in ms of a node showing heartbeat {@code applied}, or null when unknown. */
    public synchronized Long lagMillis(Long applied, long now) {
        // <= 0: the row exists but no beat ever reached this node (the table's placeholder)
        if (applied == null || applied <= 0 || unknownReason(now) != null) {
            return null;
        }
        int latest = (next - 1 + CAPACITY) % CAPACITY;
        long behindMicros = Math.max(0, values[latest] - applied);
        long sinceLatest = Math.max(0, now - startNanos[latest]);
        return behindMicros / 1000 + sinceLatest / 1_000_000;
    }

    /**
     * The smallest heartbeat value that proves a write committed at local time {@code commitNanos} has been
     * applied: the first beat whose write started after it. Null if no such beat has committed yet.
     */
    public synchronized Long firstBeatAfter(long commitNanos) {
        // entries are in commit order, so their start times rise: binary search (the read cache asks this per
        // read of a recently written table, not only per write)
        int lo = 0;
        int hi = count; // first k in [lo, hi) whose start is after commitNanos; count = none
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (startNanos[(next - count + mid + CAPACITY) % CAPACITY] > commitNanos) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return lo < count ? values[(next - count + lo + CAPACITY) % CAPACITY] : null;
    }

    /**
     * Records the value seen on the primary (pt-heartbeat mode: another program writes it). Only a change
     * counts as a beat, so a dead pt-heartbeat turns lag unknown after the stale interval (set
     * heartbeat-interval-ms to pt-heartbeat's --interval).
     */
    public synchronized void observed(long value, long now) {
        int latest = (next - 1 + CAPACITY) % CAPACITY;
        if (count == 0 || values[latest] != value) {
            committed(value, now, now);
        }
    }
}
