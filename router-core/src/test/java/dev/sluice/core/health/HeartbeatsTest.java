package dev.sluice.core.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

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
