package dev.sluice.core.health;

/**
 * The heartbeats the primary committed, as seen by this Sluice instance, and the lag computed from them.
 *
 * <p><b>Lag without synchronised clocks.</b> Every heartbeat value is the primary's clock (µs) at the write;
 * a replica's lag is read as the newest value it has applied. Both sides of the subtraction come from the
 * same clock, so host clock skew cancels out:
 * <pre>
 *   at  = local monotonic time the probe of this replica STARTED
 *   b   = the latest beat whose commit returned at or before {@code at}
 *   lag = max(0, value of b − value applied on the replica)          primary clock, µs
 *       + (at − local time b's write started)                        this process's clock, no wall time
 * </pre>
 * <b>Why the probe's start, not "now".</b> The replica's value is read somewhere inside the probe (after a
 * role query), and on a saturated host the probe's queries queue behind busy backends for hundreds of ms.
 * Comparing that value with beats committed up to the end of the probe round counted the probe's own
 * response time as lag and dropped healthy replicas (a benchmark flapped at "lag 1017 ms"). A beat that
 * committed after the probe began cannot be expected on the replica, so the replica is held only to beats
 * committed by {@code at}, and the clock stops at {@code at}. The price: the value read is never older than
 * the replica's state at {@code at}, so a replica that is really behind may look up to one probe response
 * time (at most {@code probe-timeout-ms}) fresher than it is when the value was read. A replica that has
 * applied {@code b} shows between 0 and about one heartbeat interval: the resolution is one interval.
 * pt-heartbeat, by contrast, subtracts the replica's value from the monitor host's wall clock and so needs
 * NTP-synced hosts.
 *
 * <p>Worked example, interval 100 ms: beats 1000000 (write started at local t=0 ms, committed t=2) … 1500000
 * (started t=500, committed t=502), 1600000 (started t=600, committed t=603). A probe starts at t=530; the
 * host being busy, its answer arrives at t=900 and the round ends at t=910. Whatever the replica showed:
 * <ul>
 *   <li>it shows 1500000 → b = 1500000 (1600000 committed after t=530 does not count): 0 + 30 = 30 ms;</li>
 *   <li>it shows 1600000 (newer than b) → 30 ms as well, never less than the time since b started;</li>
 *   <li>it shows 1200000 → 300 + 30 = 330 ms.</li>
 * </ul>
 * Judged at the end of the round instead (t=910, latest beat 1900000 started t=900) the first would read
 * 400 + 10 = 410 ms: the probe's 380 ms of queueing, counted as lag.
 *
 * <p>When the writer has not committed a beat for a while before {@code at} (primary unreachable, writer
 * connection killed) lag is <i>unknown</i> (null), never 0: nothing proves the replicas are current. The
 * Router sets that interval to at least max-lag-ms (its comment says why).
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
    private final long[] commitNanos = new long[CAPACITY];
    private int count;
    private int next;
    private String lastError = "no heartbeat yet";

    /** @param staleAfterNanos how long without a committed beat before lag becomes unknown */
    public Heartbeats(long staleAfterNanos) {
        this.staleAfterNanos = staleAfterNanos;
    }

    /** A beat committed: its value, when its write started and when it returned (local monotonic nanos). */
    public synchronized void committed(long value, long started, long committedAt) {
        // one writer thread commits beats one after another, so start and commit times rise with the index:
        // both binary searches below rely on it
        values[next] = value;
        startNanos[next] = started;
        commitNanos[next] = committedAt;
        next = (next + 1) % CAPACITY;
        count = Math.min(count + 1, CAPACITY);
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
        lastError = why;
    }

    /**
     * Milliseconds from the latest beat committed at or before {@code at} to {@code at}, or -1 when none had: how
     * long the writer had been quiet when a probe started (a lag that grew while it was quiet says so in its reason).
     */
    public synchronized long quietMillis(long at) {
        int b = latestCommittedBy(at);
        return b < 0 ? -1 : (at - commitNanos[b]) / 1_000_000;
    }

    /** Why lag judged at local time {@code at} is unknown, or null when it is known. */
    public synchronized String unknownReason(long at) {
        if (count == 0) {
            return lastError == null ? "no heartbeat yet" : lastError;
        }
        int b = latestCommittedBy(at);
        if (b < 0) {
            return "no heartbeat committed before the probe started";
        }
        long since = at - commitNanos[b];
        if (since > staleAfterNanos) {
            return "heartbeat writer stalled " + since / 1_000_000 + " ms" + (lastError == null ? "" : ": " + lastError);
        }
        return null;
    }

    /**
     * Lag in ms of a node showing heartbeat {@code applied}, judged at local time {@code at} (when its probe
     * started), or null when unknown.
     */
    public synchronized Long lagMillis(Long applied, long at) {
        // <= 0: the row exists but no beat ever reached this node (the table's placeholder)
        if (applied == null || applied <= 0 || unknownReason(at) != null) {
            return null;
        }
        int b = latestCommittedBy(at); // >= 0: unknownReason checked it
        long behindMicros = Math.max(0, values[b] - applied);
        long sinceStart = Math.max(0, at - startNanos[b]);
        return behindMicros / 1000 + sinceStart / 1_000_000;
    }

    /** Ring index of the newest beat committed at or before {@code at}, or -1 if none of those kept did. */
    private int latestCommittedBy(long at) {
        int k = firstAfter(commitNanos, at);
        return k == 0 ? -1 : slot(k - 1);
    }

    /**
     * The first k (oldest first) whose time in {@code times} is after {@code t}, or {@code count} if none. Binary
     * search: one writer commits beats one after another, so both their start and commit times rise with k.
     */
    private int firstAfter(long[] times, long t) {
        int lo = 0;
        int hi = count;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (times[slot(mid)] > t) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return lo;
    }

    /** Ring index of the k-th oldest beat kept. */
    private int slot(int k) {
        return (next - count + k + CAPACITY) % CAPACITY;
    }

    /**
     * The smallest heartbeat value that proves a write committed at local time {@code commitNanos} has been
     * applied: the first beat whose write started after it. Null if no such beat has committed yet.
     */
    public synchronized Long firstBeatAfter(long commitNanos) {
        // binary search: the read cache asks this per read of a recently written table, not only per write
        int k = firstAfter(startNanos, commitNanos);
        return k < count ? values[slot(k)] : null;
    }

    /**
     * Records the value seen on the primary (pt-heartbeat mode: another program writes it) as written and
     * committed at local time {@code at}. Only a change counts as a beat, so a dead pt-heartbeat turns lag
     * unknown after the stale interval (set heartbeat-interval-ms to pt-heartbeat's --interval).
     */
    public synchronized void observed(long value, long at) {
        if (count == 0) {
            committed(value, at, at);
            return;
        }
        int latest = slot(count - 1);
        if (values[latest] != value) {
            long t = Math.max(at, commitNanos[latest]); // keep times rising (two nodes seen writable in one round)
            committed(value, t, t);
        }
    }
}
