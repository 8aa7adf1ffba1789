package dev.sluice.proxy.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The failed-login limit with a fake clock: the window, separate sources, the bound on memory, off. */
class AuthFailureLimiterTest {
    final AtomicLong now = new AtomicLong(1_000_000);

    static InetAddress ip(String s) throws Exception {
        return InetAddress.getByName(s);
    }

    @Test
    void blocksAfterTheLimitUntilTheWindowHasPassed() throws Exception {
        AuthFailureLimiter l = new AuthFailureLimiter(3, 60_000, 100, now::get);
        InetAddress a = ip("10.0.0.1");
        for (int i = 0; i < 2; i++) {
            l.failed(a);
            now.addAndGet(1000);
        }
        assertEquals(0, l.blockedForMs(a), "2 of 3 failures: still allowed");
        assertTrue(l.failed(a), "the third failure reaches the limit"); // at +2 s, the window started at +0
        assertFalse(l.failed(ip("10.0.0.9")));
        assertEquals(58_000, l.blockedForMs(a));
        assertEquals(0, l.blockedForMs(ip("10.0.0.2")), "another address is not affected");
        now.addAndGet(57_999);
        assertEquals(1, l.blockedForMs(a));
        now.addAndGet(1);
        assertEquals(0, l.blockedForMs(a), "the window has passed");
        assertEquals(1, l.tracked(), "an expired entry is dropped (10.0.0.9 is still tracked)");
        l.failed(a);
        assertEquals(0, l.blockedForMs(a), "a new window counts from one");
    }

    @Test
    void failuresSpreadOverWindowsDoNotAddUp() throws Exception {
        AuthFailureLimiter l = new AuthFailureLimiter(2, 10_000, 100, now::get);
        InetAddress a = ip("10.0.0.1");
        l.failed(a);
        now.addAndGet(10_000);
        l.failed(a);
        assertEquals(0, l.blockedForMs(a));
        l.failed(a);
        assertEquals(10_000, l.blockedForMs(a));
    }

    @Test
    void memoryIsBoundedLeastRecentlySeenFirst() throws Exception {
        AuthFailureLimiter l = new AuthFailureLimiter(1, 60_000, 3, now::get);
        l.failed(ip("10.0.0.1"));
        l.failed(ip("10.0.0.2"));
        l.failed(ip("10.0.0.3"));
        l.blockedForMs(ip("10.0.0.1")); // seen again: now the most recent
        l.failed(ip("10.0.0.4"));
        assertEquals(3, l.tracked());
        assertEquals(0, l.blockedForMs(ip("10.0.0.2")), "the least recently seen was forgotten");
        assertEquals(60_000, l.blockedForMs(ip("10.0.0.1")));
        assertEquals(60_000, l.blockedForMs(ip("10.0.0.4")));
    }

    @Test
    void zeroTurnsItOff() throws Exception {
        AuthFailureLimiter l = new AuthFailureLimiter(0, 60_000, 3, now::get);
        for (int i = 0; i < 100; i++) {
            l.failed(ip("10.0.0.1"));
        }
        assertEquals(0, l.blockedForMs(ip("10.0.0.1")));
        assertEquals(0, l.tracked());
    }
}
