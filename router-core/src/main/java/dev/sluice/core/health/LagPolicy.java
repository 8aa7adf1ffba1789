package dev.sluice.core.health;

import dev.sluice.core.route.NodeRole;

/**
 * The one place that decides a node's state from a probe. Rules, in order:
 * <ol>
 *   <li>Drained by an operator → DRAINED, whatever else is true.</li>
 *   <li>Did not answer, or its circuit breaker is open, or is neither primary nor replica (a read-only
 *       old primary) → DOWN.</li>
 *   <li>The primary is never dropped for lag → UP.</li>
 *   <li>A replica in the read set (UP) leaves it when its lag exceeds {@code max-lag}, or is unknown
 *       → LAGGING.</li>
 *   <li>A LAGGING replica returns only when its lag is at most {@code readmit-lag} AND it has been out for
 *       at least {@code lag-hold} → UP. The gap between the two bounds plus the hold time is the
 *       hysteresis that stops a replica hovering around max-lag from flapping.</li>
 *   <li>A replica coming back from DOWN is treated like a LAGGING one that just left: it must show a low
 *       lag for the hold time first (it is probably catching up after a restart). At start-up, a replica
 *       seen for the first time joins at once if its lag is within max-lag.</li>
 * </ol>
 * Worked examples with max-lag 1000 ms, readmit-lag 500 ms, hold 1000 ms, probes every 200 ms:
 * <pre>
 *   t(ms)  lag   state     why
 *   0      100   UP        within max-lag
 *   200    1200  LAGGING   1200 &gt; 1000 (entered at 200)
 *   400    800   LAGGING   800 &gt; readmit-lag 500
 *   600    300   LAGGING   300 ≤ 500 but out only 400 ms &lt; hold 1000
 *   1200   300   UP        300 ≤ 500 and out 1000 ms
 *   1400   900   UP        900 ≤ max-lag: stays (no flapping between 500 and 1000)
 *   1600   null  LAGGING   heartbeat unknown counts as lagging
 * </pre>
 */
final class LagPolicy {
    private final long maxLagMs;
    private final long readmitLagMs;
    private final long holdNanos;

    LagPolicy(long maxLagMs, long readmitLagMs, long holdMs) {
        this.maxLagMs = maxLagMs;
        this.readmitLagMs = readmitLagMs;
        this.holdNanos = holdMs * 1_000_000L;
    }

    /** The new state and its reason; {@code current} is null for a node not seen before. */
    record Verdict(NodeState state, String reason) {
    }

    Verdict decide(NodeState current, long enteredNanos, long now, boolean drained, ProbeResult probe,
                   boolean circuitOpen, Long lagMs, String lagUnknownReason) {
        if (drained) {
            return new Verdict(NodeState.DRAINED, "drained by an operator");
        }
        if (!probe.reachable()) {
            return new Verdict(NodeState.DOWN, "probe failed: " + probe.error());
        }
        if (circuitOpen) {
            return new Verdict(NodeState.DOWN, "circuit breaker open after connection failures on live traffic");
        }
        if (probe.role() == NodeRole.PRIMARY) {
            return new Verdict(NodeState.UP, probe.roleReason());
        }
        if (probe.role() != NodeRole.REPLICA) {
            return new Verdict(NodeState.DOWN, "not routable: " + probe.roleReason());
        }
        if (lagMs == null) {
            return new Verdict(NodeState.LAGGING, "lag unknown: " + lagUnknownReason);
        }
        boolean inReadSet = current == null || current == NodeState.UP;
        if (inReadSet) {
            return lagMs > maxLagMs
                    ? new Verdict(NodeState.LAGGING, "lag " + lagMs + " ms > max-lag " + maxLagMs + " ms")
                    : new Verdict(NodeState.UP, "lag " + lagMs + " ms");
        }
        long out = current == NodeState.LAGGING ? now - enteredNanos : 0; // from DOWN/DRAINED the hold starts now
        if (lagMs <= readmitLagMs && out >= holdNanos) {
            return new Verdict(NodeState.UP, "caught up: lag " + lagMs + " ms ≤ readmit-lag " + readmitLagMs + " ms");
        }
        return new Verdict(NodeState.LAGGING, lagMs <= readmitLagMs
                ? "lag " + lagMs + " ms, holding out " + (holdNanos - out) / 1_000_000 + " ms more"
                : "lag " + lagMs + " ms > readmit-lag " + readmitLagMs + " ms");
    }
}
