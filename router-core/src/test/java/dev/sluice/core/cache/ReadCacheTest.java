package dev.sluice.core.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.core.config.ClusterConfig;
import dev.sluice.core.config.Engine;
import dev.sluice.core.config.NodeConfig;
import dev.sluice.core.health.NodeState;
import dev.sluice.core.route.NodeRole;
import dev.sluice.core.route.NodeStatus;
import dev.sluice.core.route.Router;
import dev.sluice.core.route.Topology;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The store itself, on the real Caffeine cache, with a fake clock: bounds, expiry, invalidation, freshness. */
class ReadCacheTest {
    private final AtomicLong clock = new AtomicLong(TimeUnit.SECONDS.toNanos(1000));

    static ClusterConfig config(Map<String, String> extra) {
        Map<String, String> opts = new HashMap<>(Map.of("cache", "on", "cache-tables", "*"));
        opts.putAll(extra);
        return ClusterConfig.of("test", "c", Engine.POSTGRESQL, "db",
                List.of(new NodeConfig("p", "h1", 1, 1), new NodeConfig("r1", "h2", 2, 1)), opts, Map.of());
    }

    private Router router(Map<String, String> extra) {
        Router r = new Router(config(extra), clock::get);
        topology(r, 20L, 0L);
        return r;
    }

    /** p primary, r1 an UP replica with the given lag and applied heartbeat. */
    private static void topology(Router r, Long lagMillis, Long beat) {
        r.updateTopology(Topology.of(List.of(new NodeStatus("p", NodeRole.PRIMARY, "t", 0),
                new NodeStatus("r1", NodeRole.REPLICA, NodeState.UP, "t", 0, lagMillis, beat, null))));
    }

    private void advance(long millis) {
        clock.addAndGet(TimeUnit.MILLISECONDS.toNanos(millis));
    }

    private static CacheKey key(int i) {
        return new CacheKey("SELECT * FROM t WHERE id = " + i, null, "ctx");
    }

    @Test
    void evictionKeepsTheCacheWithinItsByteBound() {
        ReadCache c = router(Map.of("cache-max-bytes", "200000", "cache-max-result-bytes", "10000")).readCache();
        for (int i = 0; i < 300; i++) {
            assertTrue(c.put(c.begin(key(i), List.of("t"), 1000), "p", new byte[5000], 5000));
            c.get(key(i % 7), -1); // a few hot keys: W-TinyLFU keeps what is used
        }
        c.cleanUp();
        CacheStats s = c.stats();
        assertTrue(s.bytes() <= 200_000, "weighted size " + s.bytes() + " over the bound");
        assertTrue(s.bytes() > 150_000, "the bound is used, not wasted: " + s.bytes());
        assertTrue(s.evictions() > 0);
        assertTrue(s.entries() < 300);
        assertNotNull(c.get(key(3), -1), "a hot entry survives eviction");
    }

    @Test
    void resultsOverTheLimitAreNotStored() {
        ReadCache c = router(Map.of("cache-max-result-bytes", "1000")).readCache();
        assertFalse(c.put(c.begin(key(1), List.of("t"), 1000), "p", new byte[1001], 1001));
        assertEquals(1L, c.stats().notStored().get("too-large"));
        assertNull(c.get(key(1), -1));
    }

    @Test
    void ttlCountsFromWhenTheDataWasCurrentAndNeverExceedsMaxLag() {
        Router r = router(Map.of("cache-ttl-ms", "5000", "max-lag-ms", "800", "readmit-lag-ms", "100"));
        ReadCache c = r.readCache();
        CachePolicy p = new CachePolicy(r.config());
        assertEquals(800, p.ttlMillis(-1), "capped at max-lag-ms");
        assertEquals(300, p.ttlMillis(300), "a shorter hint holds");
        assertEquals(800, p.ttlMillis(60_000), "a hint is capped too");
        c.put(c.begin(key(1), List.of("t"), p.ttlMillis(-1)), "p", "from-primary", 10);
        c.put(c.begin(key(2), List.of("t"), p.ttlMillis(-1)), "r1", "from-replica-20ms-behind", 10);
        advance(790);
        assertNotNull(c.get(key(1), -1));
        assertNull(c.get(key(2), -1), "a replica's lag counts against the TTL");
        advance(20);
        assertNull(c.get(key(1), -1));
    }

    @Test
    void aStalenessBudgetRefusesOlderEntries() {
        ReadCache c = router(Map.of()).readCache();
        c.put(c.begin(key(1), List.of("t"), 1000), "p", "v", 10);
        advance(300);
        assertNull(c.get(key(1), 200));
        assertNotNull(c.get(key(1), 400));
        assertNotNull(c.get(key(1), -1));
    }

    @Test
    void aWriteCommittedWhileTheReadRanIsNeverStored() {
        ReadCache c = router(Map.of()).readCache();
        ReadCache.Ticket t = c.begin(key(1), List.of("users", "orders"), 1000); // read starts
        c.invalidate(List.of("ORDERS"));                                        // a write commits meanwhile
        assertFalse(c.put(t, "p", "pre-write rows", 10));                       // the read ends: not stored
        assertNull(c.get(key(1), -1));
        assertEquals(1L, c.stats().notStored().get("write-while-reading"));
        // another table's write does not disturb it
        ReadCache.Ticket t2 = c.begin(key(2), List.of("users"), 1000);
        c.invalidate(List.of("items"));
        assertTrue(c.put(t2, "p", "rows", 10));
        assertNotNull(c.get(key(2), -1));
    }

    /**
     * The race under real concurrency: writers commit a new version then invalidate (as Sluice sees a commit),
     * readers look up, and on a miss take a ticket, read the current version and store it. No hit may ever be
     * older than a version whose invalidation had completed before the lookup began.
     */
    @Test
    void concurrentReadersNeverSeeAVersionOlderThanTheLastCompletedInvalidation() throws Exception {
        Router r = new Router(config(Map.of()), System::nanoTime);
        topology(r, 20L, 0L);
        ReadCache c = r.readCache(); // reads on the primary: only the race decides
        AtomicLong db = new AtomicLong();
        AtomicLong acked = new AtomicLong();
        AtomicLong hits = new AtomicLong();
        List<String> failures = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
        Runnable writer = () -> {
            for (int i = 0; i < 20_000; i++) {
                long v = db.incrementAndGet();
                c.invalidate(List.of("t"));
                acked.accumulateAndGet(v, Math::max);
            }
        };
        Runnable reader = () -> {
            for (int i = 0; i < 100_000 && failures.isEmpty(); i++) {
                CacheKey k = key(i % 3);
                long floor = acked.get();
                Object hit = c.get(k, -1);
                if (hit != null) {
                    hits.incrementAndGet();
                    if ((Long) hit < floor) {
                        failures.add("served version " + hit + " after version " + floor + " was invalidated");
                    }
                } else {
                    ReadCache.Ticket t = c.begin(k, List.of("t"), 60_000);
                    c.put(t, "p", db.get(), 8);
                }
            }
        };
        List<Thread> threads = List.of(new Thread(writer), new Thread(reader), new Thread(reader), new Thread(reader));
        threads.forEach(Thread::start);
        for (Thread t : threads) {
            t.join();
        }
        assertTrue(failures.isEmpty(), failures.toString());
        assertTrue(hits.get() > 0, "the readers hit the cache at all");
    }

    @Test
    void invalidationRemovesWhatReadTheTable() {
        ReadCache c = router(Map.of()).readCache();
        c.put(c.begin(key(1), List.of("app.users"), 1000), "p", "u", 10);
        c.put(c.begin(key(2), List.of("orders"), 1000), "p", "o", 10);
        c.invalidate(List.of("users"));
        assertNull(c.get(key(1), -1), "schema-qualified reads are invalidated by the base name");
        assertNotNull(c.get(key(2), -1));
        c.invalidateAll();
        assertNull(c.get(key(2), -1));
        CacheStats s = c.stats();
        assertEquals(1L, s.invalidationsByTable().get("users"));
        assertEquals(1L, s.invalidationsByTable().get("*"));
        assertEquals(0, s.entries());
    }

    @Test
    void invalidateAllModeEmptiesTheCacheOnAnyWrite() {
        ReadCache c = router(Map.of("cache-invalidate", "all")).readCache();
        c.put(c.begin(key(1), List.of("a"), 1000), "p", "v", 10);
        c.invalidate(List.of("b"));
        assertNull(c.get(key(1), -1));
    }

    @Test
    void aReplicaResultIsStoredOnlyOnceTheReplicaProvablyHasTheLastWrite() {
        Router r = router(Map.of());
        ReadCache c = r.readCache();
        long t0 = clock.get();
        r.heartbeats().committed(1000, t0 - 1_000_000, t0);
        topology(r, 20L, 1000L);
        assertTrue(c.put(c.begin(key(1), List.of("t"), 1000), "r1", "before any write", 10), "no write seen: TTL bounds it");
        advance(10);
        c.invalidate(List.of("t"));             // a write commits at t0 + 10 ms
        topology(r, 20L, 1000L);                // r1 has applied only the beat from before it
        assertFalse(c.put(c.begin(key(2), List.of("t"), 1000), "r1", "maybe pre-write", 10));
        assertEquals(1L, c.stats().notStored().get("replica-behind-write"));
        assertTrue(c.put(c.begin(key(3), List.of("t"), 1000), "p", "from the primary", 10), "the primary is always current");
        assertTrue(c.put(c.begin(key(4), List.of("other"), 1000), "r1", "another table", 10));
        advance(100);
        r.heartbeats().committed(2000, clock.get() - 1_000_000, clock.get()); // a beat written after the write
        topology(r, 20L, 2000L);                // … that r1 has applied
        assertTrue(c.put(c.begin(key(2), List.of("t"), 1000), "r1", "post-write", 10));
        topology(r, null, 2000L);
        assertFalse(c.put(c.begin(key(5), List.of("other"), 1000), "r1", "lag unknown", 10));
    }

    @Test
    void withPtHeartbeatAReplicaIsTrustedOnlyLongAfterTheWrite() {
        Router r = router(Map.of("heartbeat-format", "pt-heartbeat"));
        ReadCache c = r.readCache();
        c.invalidate(List.of("t"));
        assertFalse(c.put(c.begin(key(1), List.of("t"), 1000), "r1", "x", 10));
        advance(20 + 2 * 200 + 1000 + 100 + 1); // lag + 2 probe intervals + probe timeout + heartbeat interval
        assertTrue(c.put(c.begin(key(1), List.of("t"), 1000), "r1", "x", 10));
    }

    @Test
    void twoRoutersShareNothing() {
        ReadCache a = router(Map.of()).readCache();
        ReadCache b = router(Map.of()).readCache();
        a.put(a.begin(key(1), List.of("t"), 1000), "p", "v", 10);
        assertNull(b.get(key(1), -1));
        b.invalidateAll();
        assertNotNull(a.get(key(1), -1));
    }

    @Test
    void offMeansDisabledStats() {
        Router r = new Router(config(Map.of("cache", "off")), clock::get);
        assertFalse(r.readCache().enabled());
        assertFalse(r.readCache().stats().enabled());
    }
}
