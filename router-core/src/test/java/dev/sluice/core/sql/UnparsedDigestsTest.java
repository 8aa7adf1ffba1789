package dev.sluice.core.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class UnparsedDigestsTest {
    @Test
    void literalsAreReplacedSoCallsWithDifferentValuesShareADigest() {
        UnparsedDigests d = new UnparsedDigests();
        d.record("FROBNICATE t1 WITH 'a''b', 42");
        d.record("frobnicate   t1 with 'x', 7.5");
        d.record("FROBNICATE t1 WITH 'c', 1");
        d.record("ALTER ROLE app PASSWORD 'hunter2' $$body$$");
        List<UnparsedDigests.Digest> top = d.top(10);
        assertEquals(new UnparsedDigests.Digest("FROBNICATE t1 WITH ?, ?", 2), top.get(0));
        assertEquals(3, top.size(), top.toString());
        assertTrue(top.stream().noneMatch(x -> x.digest().contains("hunter2")), top.toString());
    }

    @Test
    void boundedUnderConcurrentInserts() throws Exception {
        UnparsedDigests d = new UnparsedDigests();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<Future<?>> fs = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            int base = t;
            fs.add(pool.submit(() -> {
                for (int i = 0; i < 1000; i++) {
                    d.record("WEIRD stmt_" + base + "_" + i + " x");
                }
            }));
        }
        for (Future<?> f : fs) {
            f.get();
        }
        pool.shutdown();
        List<UnparsedDigests.Digest> all = d.top(Integer.MAX_VALUE);
        assertTrue(all.size() <= UnparsedDigests.MAX_DIGESTS + 4, "bounded: " + all.size());
        long counted = all.stream().mapToLong(UnparsedDigests.Digest::count).sum();
        assertEquals(4000, counted + d.overflow());
        assertFalse(Set.copyOf(all).isEmpty());
    }

    @Test
    void longTextsAreCut() {
        String digest = UnparsedDigests.digest("X " + "y ".repeat(100_000));
        assertTrue(digest.length() <= UnparsedDigests.MAX_DIGEST_CHARS + 1, digest.length() + "");
    }
}
