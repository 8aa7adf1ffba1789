package dev.sluice.core.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class HeartbeatsTest {
    static final long MS = 1_000_000L;

    @Test
    void lagFromThePrimarysOwnClockPlusLocalElapsed() {
        Heartbeats hb = new Heartbeats(500 * MS);
        // the primary's clock is far from ours: only differences matter
        long base = 9_000_000_000L;
        hb.committed(base, 0, 1 * MS);
        hb.committed(base + 100_000, 100 * MS, 101 * MS);
        hb.committed(base + 500_000, 500 * MS, 501 * MS);
        assertEquals(30L, hb.lagMillis(base + 500_000, 530 * MS), "caught up: time since the latest beat");
        assertEquals(430L, hb.lagMillis(base + 100_000, 530 * MS), "400 ms behind on the primary's clock + 30");
        assertNull(hb.lagMillis(null, 530 * MS), "unreadable heartbeat is unknown");
    }

    @Test
    void stalledWriterMakesLagUnknownNotZero() {
        Heartbeats hb = new Heartbeats(300 * MS);
        hb.committed(1_000_000, 0, 0);
        assertNotNull(hb.lagMillis(1_000_000L, 100 * MS));
        hb.failed("connection reset");
        assertNull(hb.lagMillis(1_000_000L, 400 * MS));
        assertNotNull(hb.unknownReason(400 * MS));
    }

    @Test
    void aBeatCommittedAfterTheProbeStartedIsNotExpected() {
        // the worked example of the class comment: beats every 100 ms, each committing 2-3 ms after it started
        Heartbeats hb = new Heartbeats(500 * MS);
        for (int i = 0; i <= 9; i++) {
            hb.committed(1_000_000 + i * 100_000L, i * 100 * MS, i * 100 * MS + 2 * MS);
        }
        long at = 530 * MS; // the probe started here; beats 1600000.. committed while it ran
        assertEquals(30L, hb.lagMillis(1_500_000L, at), "applied every beat committed before the probe: 30 ms");
        assertEquals(30L, hb.lagMillis(1_900_000L, at), "newer than that beat: the time since it started, not less");
        assertEquals(330L, hb.lagMillis(1_200_000L, at), "300 ms behind that beat + 30");
        assertEquals(430L, hb.lagMillis(1_500_000L, 930 * MS), "judged later, the later beats are expected");
        // a beat whose write started before the probe but committed after it is not expected either
        assertEquals(101L, hb.lagMillis(1_400_000L, 501 * MS), "1500000 started at 500, committed at 502: not expected");
        assertEquals(131L, hb.lagMillis(1_400_000L, 531 * MS), "expected once committed");
    }

    @Test
    void noBeatCommittedBeforeTheProbeStartedIsUnknown() {
        Heartbeats hb = new Heartbeats(500 * MS);
        hb.committed(1_000_000, 100 * MS, 103 * MS);
        assertNull(hb.lagMillis(1_000_000L, 102 * MS));
        assertTrue(hb.unknownReason(102 * MS).contains("no heartbeat committed before the probe started"),
                hb.unknownReason(102 * MS));
        assertEquals(3L, hb.lagMillis(1_000_000L, 103 * MS), "committed by then: 3 ms since its write started");
    }

    @Test
    void stalenessIsJudgedAtTheProbesStart() {
        Heartbeats hb = new Heartbeats(500 * MS);
        for (int i = 0; i <= 10; i++) {
            hb.committed(i * 100_000L + 1, i * 100 * MS, i * 100 * MS);
        }
        // the writer then stalls 700 ms: its next beat commits at 1700
        hb.committed(1_700_001, 1700 * MS, 1700 * MS);
        assertNull(hb.unknownReason(1400 * MS), "probe started 400 ms into the stall: known");
        assertEquals(400L, hb.lagMillis(1_000_001L, 1400 * MS));
        String why = hb.unknownReason(1650 * MS);
        assertNotNull(why, "probe started 650 ms into the stall: unknown, though a beat came before the round ended");
        assertTrue(why.contains("stalled 650 ms"), why);
        assertNull(hb.lagMillis(1_700_001L, 1650 * MS));
        assertNull(hb.unknownReason(1750 * MS), "a probe started after the beat: known again");
        assertEquals(50L, hb.lagMillis(1_700_001L, 1750 * MS));
    }

    @Test
    void observedValuesKeepTheirTimesInOrder() {
        Heartbeats hb = new Heartbeats(500 * MS);
        hb.observed(10, 100 * MS);
        hb.observed(10, 150 * MS); // no change: not a beat
        assertEquals(50L, hb.lagMillis(10L, 150 * MS));
        hb.observed(20, 300 * MS);
        hb.observed(30, 290 * MS); // a second writable node seen in the same round, dated a bit earlier
        assertEquals(0L, hb.lagMillis(30L, 300 * MS));
        assertEquals(100L, hb.lagMillis(10L, 200 * MS), "judged before the later observations: the first one");
    }

    @Test
    void firstBeatAfterAWriteProvesItWasApplied() {
        Heartbeats hb = new Heartbeats(500 * MS);
        hb.committed(10, 0, 1 * MS);
        hb.committed(20, 100 * MS, 101 * MS);
        assertNull(hb.firstBeatAfter(150 * MS), "no beat started after the write yet");
        hb.committed(30, 200 * MS, 201 * MS);
        assertEquals(30L, hb.firstBeatAfter(150 * MS));
        assertEquals(20L, hb.firstBeatAfter(50 * MS));
    }

    @Test
    void firstBeatAfterSearchesTheWholeRingAfterItWrapped() {
        Heartbeats hb = new Heartbeats(500 * MS);
        for (int i = 1; i <= 1300; i++) { // more than the 512 kept: the oldest are overwritten
            hb.committed(i, i * 100 * MS, i * 100 * MS + 1);
        }
        assertEquals(789L, hb.firstBeatAfter(1300 * 100 * MS - 512 * 100 * MS), "the oldest kept beat");
        assertEquals(789L, hb.firstBeatAfter(0), "older than every beat kept: the oldest");
        for (long w : new long[] {900, 1000, 1234, 1299}) {
            assertEquals(w + 1, hb.firstBeatAfter(w * 100 * MS), "write at beat " + w);
            assertEquals(w + 1, hb.firstBeatAfter(w * 100 * MS + 50 * MS));
        }
        assertNull(hb.firstBeatAfter(1300 * 100 * MS));
    }

    @Test
    void resetForgetsTheOldPrimary() {
        Heartbeats hb = new Heartbeats(500 * MS);
        hb.committed(10, 0, 0);
        hb.reset("primary changed");
        assertNull(hb.lagMillis(10L, 1 * MS));
    }
}
