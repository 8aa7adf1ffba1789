package dev.sluice.core.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.RemovalCause;
import dev.sluice.core.config.ClusterConfig;
import dev.sluice.core.health.Heartbeats;
import dev.sluice.core.route.NodeStatus;
import dev.sluice.core.route.Topology;
import dev.sluice.core.sql.TableAccess;
import dev.sluice.core.sql.TableAnalyzer;
import java.util.Collection;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The read cache of one cluster (one per {@link dev.sluice.core.route.Router}; two routers share nothing):
 * results of cacheable reads, opaque to this class (the driver stores materialised rows, each proxy the wire
 * bytes it relayed), in a Caffeine cache bounded by estimated bytes (W-TinyLFU eviction), each entry with its
 * own expiry. Thread-safe.
 *
 * <p><b>Never stale after a write through Sluice.</b> Every table name hashes to one of {@value #STRIPES}
 * stripes, each with a generation counter and the time of its last write. A read takes a {@link Ticket}
 * before it runs (the generations of the stripes of its tables, and the topology); its result is stored
 * only if no generation moved since, and every lookup re-checks the generations an entry was stored under.
 * So the classic race — read starts, a write commits and invalidates, the read finishes and stores what it
 * read before the write — can only leave an entry that no lookup will return. Two tables sharing a stripe
 * only invalidate each other needlessly.
 *
 * <p><b>Replicas.</b> A result read on a replica is stored only when that replica is proven, from the
 * topology taken before the read ran, to have applied the last write to the tables it read: it had applied
 * a heartbeat whose write started after that write (Sluice's own heartbeats), or, with pt-heartbeat, its lag
 * leaves no doubt. Otherwise a replica still catching up could put a pre-write result into the cache for
 * every session to see.
 *
 * <p><b>TTL.</b> An entry expires {@code min(ttl, max-lag-ms)} after the moment its data was current: the
 * read's start, minus the replica's lag when it came from one. A lookup with a staleness budget
 * ({@code /* sluice:max-lag=… *}{@code /}, or the session's) only accepts entries within it.
 */
public final class ReadCache {
    static final int STRIPES = 4096;
    /** Per-entry overhead beyond the key and value (Caffeine node, entry record, arrays), in bytes. */
    private static final int ENTRY_OVERHEAD = 160;
    private static final long NONE = Long.MIN_VALUE;

    /** A stored result with what it was stored under. */
    record Entry(Object value, int weight, int[] stripes, long[] generations, long allGeneration, long asOfNanos,
                 long expiresAtNanos) {
    }

    /** Taken before a cacheable read runs: what the cache looked like then. */
    public record Ticket(CacheKey key, int[] stripes, long[] generations, long allGeneration, long startNanos,
                         long ttlNanos, Topology topology) {
    }

    private final ClusterConfig config;
    private final LongSupplier clock;
    private final Heartbeats heartbeats;
    private final Supplier<Topology> topology;
    private final TableAnalyzer analyzer;
    private final Cache<String, TableAccess> analyses;
    private final Cache<CacheKey, Entry> store;
    private final CachePolicy policy;
    private final AtomicLongArray generations = new AtomicLongArray(STRIPES);
    private final AtomicLongArray lastWrite = new AtomicLongArray(STRIPES);
    private final AtomicLong allGeneration = new AtomicLong();
    private final AtomicLong allLastWrite = new AtomicLong(NONE);
    private final AtomicReferenceArray<Set<CacheKey>> keysByStripe = new AtomicReferenceArray<>(STRIPES);
    private final LongAdder hits = new LongAdder();
    private final LongAdder misses = new LongAdder();
    private final LongAdder stores = new LongAdder();
    private final LongAdder evictions = new LongAdder();
    private final LongAdder expirations = new LongAdder();
    private final BoundedCounts notStored = new BoundedCounts();
    private final BoundedCounts invalidations = new BoundedCounts();
    private final BoundedCounts bypassed = new BoundedCounts();

    /**
     * @param clock      the router's monotonic clock (tests pass a fake one; Caffeine's expiry uses it too)
     * @param heartbeats the router's heartbeat log (replica freshness proofs)
     * @param topology   the router's current topology
     */
    public ReadCache(ClusterConfig config, LongSupplier clock, Heartbeats heartbeats, Supplier<Topology> topology) {
        this.config = config;
        this.clock = clock;
        this.heartbeats = heartbeats;
        this.topology = topology;
        this.analyzer = new TableAnalyzer(config.engine().dialect());
        this.policy = new CachePolicy(config);
        for (int i = 0; i < STRIPES; i++) {
            lastWrite.set(i, NONE);
        }
        // maintenance on the calling thread, as in the classifier's cache: nothing on the shared common pool,
        // and the byte bound holds when put() returns
        this.analyses = Caffeine.newBuilder()
                .maximumWeight(Math.max(1, config.classifierCacheChars()))
                .weigher((String sql, TableAccess a) -> 2 * sql.length())
                .executor(Runnable::run)
                .build();
        this.store = Caffeine.newBuilder()
                .maximumWeight(config.cacheMaxBytes())
                .weigher((CacheKey k, Entry e) -> e.weight())
                .expireAfter(new Expiry<CacheKey, Entry>() {
                    @Override
                    public long expireAfterCreate(CacheKey k, Entry e, long now) {
                        return Math.max(0, e.expiresAtNanos() - now);
                    }

                    @Override
                    public long expireAfterUpdate(CacheKey k, Entry e, long now, long current) {
                        return Math.max(0, e.expiresAtNanos() - now);
                    }

                    @Override
                    public long expireAfterRead(CacheKey k, Entry e, long now, long current) {
                        return current;
                    }
                })
                .ticker(clock::getAsLong)
                .executor(Runnable::run)
                .removalListener(this::removed)
                .build();
    }

    public boolean enabled() {
        return config.cacheOn();
    }

    CachePolicy policy() {
        return policy;
    }

    /** The analysis of {@code sql}, remembered by text (texts over 64 KiB are analysed each time). */
    public TableAccess analyze(String sql) {
        if (sql.length() > 64 * 1024) {
            return analyzer.analyze(sql);
        }
        return analyses.get(sql, analyzer::analyze);
    }

    // ---- reads ----

    /** The cached result for {@code key}, or null; {@code budgetMillis} >= 0 also bounds its staleness. */
    public Object get(CacheKey key, long budgetMillis) {
        Entry e = store.getIfPresent(key);
        long now = clock.getAsLong();
        if (e == null || now >= e.expiresAtNanos()) {
            misses.increment();
            return null;
        }
        if (!current(e)) {
            store.asMap().remove(key, e); // a write committed after it was read: never served again
            misses.increment();
            return null;
        }
        if (budgetMillis >= 0 && now - e.asOfNanos() > TimeUnit.MILLISECONDS.toNanos(budgetMillis)) {
            misses.increment();
            return null;
        }
        hits.increment();
        return e.value();
    }

    /** Before a cacheable read runs: its tables' generations and the topology now. */
    public Ticket begin(CacheKey key, Collection<String> tables, long ttlMillis) {
        int[] stripes = stripes(tables);
        long all = allGeneration.get();
        long[] gens = new long[stripes.length];
        for (int i = 0; i < stripes.length; i++) {
            gens[i] = generations.get(stripes[i]);
        }
        return new Ticket(key, stripes, gens, all, clock.getAsLong(), TimeUnit.MILLISECONDS.toNanos(ttlMillis), topology.get());
    }

    /**
     * Stores the result of the read {@code t} was taken for, which ran on {@code node} and weighs about
     * {@code bytes}. Returns false (counted by reason) when it must not be kept.
     */
    public boolean put(Ticket t, String node, Object value, long bytes) {
        if (bytes > config.cacheMaxResultBytes()) {
            notStored.add("too-large");
            return false;
        }
        if (!unchanged(t.stripes(), t.generations(), t.allGeneration())) {
            notStored.add("write-while-reading");
            return false;
        }
        long asOf = asOf(t, node);
        if (asOf == NONE) {
            return false; // counted by asOf
        }
        long expires = asOf + t.ttlNanos();
        if (expires - clock.getAsLong() <= 0) {
            notStored.add("older-than-ttl");
            return false;
        }
        int weight = (int) Math.min(Integer.MAX_VALUE, bytes + t.key().weight() + ENTRY_OVERHEAD);
        Entry e = new Entry(value, weight, t.stripes(), t.generations(), t.allGeneration(), asOf, expires);
        for (int s : e.stripes()) {
            keys(s).add(t.key()); // before the put: an eviction inside put() must find the key to unindex
        }
        store.put(t.key(), e);
        if (!current(e)) {
            store.asMap().remove(t.key(), e); // invalidated between the check and the put
            notStored.add("write-while-reading");
            return false;
        }
        stores.increment();
        return true;
    }

    /**
     * When the data read for {@code t} on {@code node} was current (local monotonic nanos), or NONE when the
     * read proves nothing: a replica not known to have applied the last write to those tables, or of
     * unknown lag.
     */
    private long asOf(Ticket t, String node) {
        Topology topo = t.topology();
        if (node.equals(topo.primary())) {
            return t.startNanos();
        }
        NodeStatus s = topo.status(node);
        if (s == null || s.lagMillis() == null) {
            notStored.add("replica-lag-unknown");
            return NONE;
        }
        long lastW = allLastWrite.get();
        for (int stripe : t.stripes()) {
            lastW = Math.max(lastW, lastWrite.get(stripe));
        }
        if (lastW != NONE && !applied(s, lastW, t.startNanos())) {
            notStored.add("replica-behind-write");
            return NONE;
        }
        return t.startNanos() - TimeUnit.MILLISECONDS.toNanos(s.lagMillis());
    }

    /** Had replica {@code s} (as probed before the read started) applied a write Sluice saw commit at {@code writeNanos}? */
    private boolean applied(NodeStatus s, long writeNanos, long readStart) {
        if (!config.ptHeartbeat()) {
            Long need = heartbeats.firstBeatAfter(writeNanos);
            return need != null && s.beat() != null && s.beat() >= need;
        }
        // pt-heartbeat values are observed, not written here: no beat is known to have started after the
        // write. The replica's lag, measured at most a probe round (plus its timeout) before the read, bounds it.
        long margin = TimeUnit.MILLISECONDS.toNanos(s.lagMillis() + 2L * config.probeIntervalMs() + config.probeTimeoutMs()
                + config.heartbeatIntervalMs());
        return writeNanos < readStart - margin;
    }

    // ---- writes ----

    /** A write through Sluice committed to these tables (base names, any case). */
    public void invalidate(Collection<String> tables) {
        if (config.cacheInvalidateAll()) {
            invalidateAll();
            return;
        }
        long now = clock.getAsLong();
        for (String table : tables) {
            String name = table.toLowerCase(Locale.ROOT);
            int s = stripe(name);
            // last write first: a put that still sees the old generation then needs the newer proof
            lastWrite.accumulateAndGet(s, now, Math::max);
            generations.incrementAndGet(s);
            invalidations.add(name);
            Set<CacheKey> keys = keysByStripe.getAndSet(s, null);
            if (keys != null) {
                store.invalidateAll(keys);
            }
        }
    }

    /** A write through Sluice committed to tables it cannot name: every result goes. */
    public void invalidateAll() {
        allLastWrite.accumulateAndGet(clock.getAsLong(), Math::max);
        allGeneration.incrementAndGet();
        invalidations.add("*");
        store.invalidateAll();
    }

    /** A read the policy or the session kept out of the cache, by reason. */
    void bypassed(String reason) {
        bypassed.add(reason);
    }

    public CacheStats stats() {
        if (!config.cacheOn()) {
            return CacheStats.disabled();
        }
        long h = hits.sum();
        long m = misses.sum();
        return new CacheStats(true, h, m, h + m == 0 ? 0 : (double) h / (h + m), store.estimatedSize(), bytes(),
                config.cacheMaxBytes(), stores.sum(), notStored.snapshot(), evictions.sum(), expirations.sum(),
                invalidations.total(), invalidations.snapshot(), bypassed.snapshot());
    }

    // ---- cheap single counters, for metrics scraped often ----

    public long hits() {
        return hits.sum();
    }

    public long misses() {
        return misses.sum();
    }

    public long storesCount() {
        return stores.sum();
    }

    public long evictionCount() {
        return evictions.sum();
    }

    public long expirationCount() {
        return expirations.sum();
    }

    public long entries() {
        return store.estimatedSize();
    }

    /** Estimated bytes held now. */
    public long bytes() {
        return store.policy().eviction().map(ev -> ev.weightedSize().orElse(0)).orElse(0L);
    }

    /** Invalidations by table so far ({@code *}: the whole cache), bounded by {@link BoundedCounts#MAX_NAMES} names. */
    public java.util.Map<String, Long> invalidationsByTable() {
        return invalidations.snapshot();
    }

    /** Runs pending maintenance (evictions, expirations) now; for tests and stats. */
    public void cleanUp() {
        store.cleanUp();
    }

    // ---- internals ----

    private boolean current(Entry e) {
        return unchanged(e.stripes(), e.generations(), e.allGeneration());
    }

    private boolean unchanged(int[] stripes, long[] gens, long all) {
        if (allGeneration.get() != all) {
            return false;
        }
        for (int i = 0; i < stripes.length; i++) {
            if (generations.get(stripes[i]) != gens[i]) {
                return false;
            }
        }
        return true;
    }

    private Set<CacheKey> keys(int stripe) {
        Set<CacheKey> s = keysByStripe.get(stripe);
        while (s == null) {
            keysByStripe.compareAndSet(stripe, null, ConcurrentHashMap.newKeySet());
            s = keysByStripe.get(stripe);
        }
        return s;
    }

    private void removed(CacheKey k, Entry e, RemovalCause cause) {
        if (cause == RemovalCause.SIZE) {
            evictions.increment();
        } else if (cause == RemovalCause.EXPIRED) {
            expirations.increment();
        }
        if (k != null && e != null && cause != RemovalCause.REPLACED) { // a replacement has the same key and stripes
            for (int s : e.stripes()) {
                Set<CacheKey> keys = keysByStripe.get(s);
                if (keys != null) {
                    keys.remove(k);
                }
            }
        }
    }

    static int[] stripes(Collection<String> tables) {
        int[] out = new int[tables.size()];
        int n = 0;
        for (String t : tables) { // no streams: this runs for every cacheable miss
            int s = stripe(TableAccess.baseName(t).toLowerCase(Locale.ROOT));
            boolean seen = false;
            for (int i = 0; i < n && !seen; i++) {
                seen = out[i] == s;
            }
            if (!seen) {
                out[n++] = s;
            }
        }
        return n == out.length ? out : java.util.Arrays.copyOf(out, n);
    }

    static int stripe(String lowerBaseName) {
        int h = lowerBaseName.hashCode() * 0x9E3779B9;
        return (h ^ (h >>> 16)) & (STRIPES - 1);
    }
}
