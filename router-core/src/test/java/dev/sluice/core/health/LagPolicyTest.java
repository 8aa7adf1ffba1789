package dev.sluice.core.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.core.route.NodeRole;
import org.junit.jupiter.api.Test;

/** The worked example from LagPolicy's comment, step by step. */
class LagPolicyTest {
    static final long MS = 1_000_000L;
    final LagPolicy p = new LagPolicy(1000, 500, 1000);
    final ProbeResult replica = new ProbeResult(true, NodeRole.REPLICA, "r", 1L, null, null, null, null, null);

    NodeState state = null;
    long entered = 0;

    NodeState at(long tMs, Long lag) {
        LagPolicy.Verdict v = p.decide(state, entered, tMs * MS, false, replica, false, lag, "why");
        if (v.state() != state) {
            state = v.state();
            entered = tMs * MS;
        }
        return state;
    }

    @Test
    void workedExample() {
        assertEquals(NodeState.UP, at(0, 100L));
        assertEquals(NodeState.LAGGING, at(200, 1200L));
        assertEquals(NodeState.LAGGING, at(400, 800L));
        assertEquals(NodeState.LAGGING, at(600, 300L));
        assertEquals(NodeState.UP, at(1200, 300L));
        assertEquals(NodeState.UP, at(1400, 900L), "no flapping between readmit-lag and max-lag");
        assertEquals(NodeState.LAGGING, at(1600, null), "unknown lag counts as lagging");
    }

    @Test
    void primaryIsNeverDroppedForLag() {
        ProbeResult primary = new ProbeResult(true, NodeRole.PRIMARY, "p", null, null, null, null, null, null);
        assertEquals(NodeState.UP, p.decide(NodeState.UP, 0, 0, false, primary, false, null, "x").state());
    }

    @Test
    void downDrainedAndCircuitWin() {
        assertEquals(NodeState.DOWN, p.decide(NodeState.UP, 0, 0, false, ProbeResult.unreachable("refused"), false, 0L, null).state());
        assertEquals(NodeState.DRAINED, p.decide(NodeState.UP, 0, 0, true, replica, false, 0L, null).state());
        LagPolicy.Verdict v = p.decide(NodeState.UP, 0, 0, false, replica, true, 0L, null);
        assertEquals(NodeState.DOWN, v.state());
        assertTrue(v.reason().contains("circuit"), v.reason());
    }

    @Test
    void backFromDownHoldsFirst() {
        state = NodeState.DOWN;
        assertEquals(NodeState.LAGGING, at(0, 10L), "a restarted replica must prove itself for the hold time");
        assertEquals(NodeState.LAGGING, at(500, 10L));
        assertEquals(NodeState.UP, at(1000, 10L));
    }
}
