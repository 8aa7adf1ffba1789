package dev.sluice.core.route;

import dev.sluice.core.config.ClusterConfig;
import dev.sluice.core.config.NodeConfig;
import dev.sluice.core.health.EventLog;
import dev.sluice.core.health.Heartbeats;
import dev.sluice.core.health.NodeState;
import dev.sluice.core.sql.Classification;
import dev.sluice.core.sql.SqlClassifier;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The routing engine of one cluster, shared by all sessions of one driver data source or proxy. It owns
 * everything it uses (classifier cache, balancer, circuit breakers, counters, heartbeats, events,
 * topology), so two routers in one JVM share nothing. Thread-safe; the topology is an immutable snapshot
 * swapped whole.
 */
public final class Router {
    private volatile ClusterConfig config;
    private final dev.sluice.core.coord.Coordinator coordinator;
    private volatile String designatedPrimary; // cluster mode: the shared record's primary
    private final SqlClassifier classifier;
    private final InFlight inFlight;
    private final Balancer balancer;
    private final RouterStats stats;
    private final Map<String, CircuitBreaker> breakers = new LinkedHashMap<>();
    private final EventLog events = new EventLog(1000);
    private final Heartbeats heartbeats;
    private final dev.sluice.core.cache.ReadCache readCache;
    private final LongSupplier nanoClock;
    private volatile Topology topology;
    private final java.util.concurrent.atomic.AtomicLong epoch = new java.util.concurrent.atomic.AtomicLong(1);
    private final Map<String, Long> fenced = new java.util.concurrent.ConcurrentHashMap<>();
    private final Map<String, java.util.concurrent.atomic.AtomicLong> generations = new LinkedHashMap<>();

    public Router(ClusterConfig config) {
        this(config, System::nanoTime);
    }

    /** @param nanoClock monotonic clock (tests pass a fake one) */
    public Router(ClusterConfig config, LongSupplier nanoClock) {
        this(config, nanoClock, dev.sluice.core.coord.Coordinator.local(config.name()));
    }

    /**
     * @param coordinator shares the topology with the cluster's other instances (cluster mode), or
     *                    {@link dev.sluice.core.coord.Coordinator#local} for a single instance
     */
    public Router(ClusterConfig config, LongSupplier nanoClock, dev.sluice.core.coord.Coordinator coordinator) {
        this.config = config;
        this.coordinator = coordinator;
        this.nanoClock = nanoClock;
        this.stats = new RouterStats(config.nodes().stream().map(NodeConfig::name).toList());
        this.classifier = new SqlClassifier(config.engine().dialect(), new HashSet<>(config.primaryFunctions()),
                config.classifierCacheChars());
        // in-flight counts feed least-outstanding balancing and let a switchover wait for the primary to go quiet
        this.inFlight = new InFlight(config.nodes().stream().map(NodeConfig::name).toList());
        this.balancer = Balancer.create(config, inFlight);
        // Lag turns unknown after 3 heartbeat intervals without a beat, but never before max-lag-ms: while the
        // writer stalls, lag as computed keeps growing by itself (the time since the last beat started), so a
        // replica leaves the read set once the stall passes max-lag anyway, and that lag is still an honest upper
        // bound on how old its data is. Turning it unknown earlier only dropped healthy replicas on a 500 ms
        // hiccup of the writer on a busy host. Nothing needs the shorter bound: read-your-writes and the read
        // cache's write proof use beats started after the write (firstBeatAfter), not staleness; per-statement
        // lag budgets, the cache's as-of time, least-lagged and failover's last known lag all use that upper
        // bound. Built once: a max-lag-ms changed at run time keeps the start-up bound.
        long staleMs = Math.max(Math.max(3L * config.heartbeatIntervalMs(), 500), config.maxLagMs());
        this.heartbeats = new Heartbeats(TimeUnit.MILLISECONDS.toNanos(staleMs));
        CircuitBreakerConfig cb = CircuitBreakerConfig.custom()
                // one connection-class failure on live traffic is enough: the node is gone until a probe says otherwise
                .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                .slidingWindowSize(2)
                .minimumNumberOfCalls(1)
                .failureRateThreshold(50)
                .waitDurationInOpenState(Duration.ofMillis(config.circuitOpenMs()))
                .automaticTransitionFromOpenToHalfOpenEnabled(true)
                .permittedNumberOfCallsInHalfOpenState(1)
                .build();
        for (NodeConfig n : config.nodes()) {
            generations.put(n.name(), new java.util.concurrent.atomic.AtomicLong());
            breakers.put(n.name(), CircuitBreaker.of(config.name() + "/" + n.name(), cb));
        }
        this.topology = Topology.unknown(config.nodes().stream().map(NodeConfig::name).toList());
        this.readCache = new dev.sluice.core.cache.ReadCache(config, nanoClock, heartbeats, this::topology);
    }

    public ClusterConfig config() {
        return config;
    }

    /**
     * Swaps in a changed configuration of the same cluster (shared config in cluster mode). Sessions read
     * the routing options (hints, replica-reads, lag-fallback, read-your-writes) from here per statement;
     * what is built once (balancer, breakers, classifier cache) keeps its start-up settings.
     */
    public void reconfigure(ClusterConfig c) {
        if (!c.nodes().equals(config.nodes())) {
            throw new IllegalArgumentException("cluster '" + config.name() + "': nodes cannot change at run time");
        }
        this.config = c;
    }

    public dev.sluice.core.coord.Coordinator coordinator() {
        return coordinator;
    }

    public Topology topology() {
        return topology;
    }

    public void updateTopology(Topology t) {
        this.topology = t;
    }

    public Classification classify(String sql) {
        return classifier.classify(sql);
    }

    public SqlClassifier classifier() {
        return classifier;
    }

    /** This cluster's read cache (docs/cache.md); {@code enabled()} is false unless {@code cache: on}. */
    public dev.sluice.core.cache.ReadCache readCache() {
        return readCache;
    }

    public Heartbeats heartbeats() {
        return heartbeats;
    }

    public EventLog events() {
        return events;
    }

    /** The monotonic clock this router and its monitor use. */
    public long nanoTime() {
        return nanoClock.getAsLong();
    }

    /** A new session: one per application connection (driver) or client connection (proxy). */
    public Session newSession() {
        return new Session(this);
    }

    /** Call when a statement starts on {@code node} (counts it; feeds least-outstanding balancing). */
    public void started(String node) {
        stats.routed(node);
        inFlight.started(node);
    }

    public void finished(String node) {
        inFlight.finished(node);
    }

    /** Statements running on {@code node} now. */
    public long inFlight(String node) {
        return inFlight.get(node);
    }

    // ---- holding writes (planned switchover) ----

    private volatile java.util.concurrent.CountDownLatch writeGate;
    private volatile long writeHoldMs;

    /** New statements that need the primary wait (up to {@code maxMs}) until {@link #releaseWrites}. */
    public void holdWrites(long maxMs) {
        writeHoldMs = maxMs;
        writeGate = new java.util.concurrent.CountDownLatch(1);
    }

    /**
     * True while a switchover holds writes. Routing a write then blocks (up to the hold time), so a caller
     * that must not block (the proxy's event loops) routes on another thread while this is true.
     */
    public boolean writesHeld() {
        return writeGate != null;
    }

    public void releaseWrites() {
        java.util.concurrent.CountDownLatch g = writeGate;
        writeGate = null;
        if (g != null) {
            g.countDown();
        }
    }

    public long routedTo(String node) {
        return stats.routedTo(node);
    }

    /** Connection-class failures on live traffic to {@code node} (each one opens or keeps open its breaker). */
    public long connectionFailures(String node) {
        return stats.connectionFailures(node);
    }

    /** Health probes of {@code node} that did not reach it. */
    public long probeFailures(String node) {
        return stats.probeFailures(node);
    }

    /** The health monitor could not reach {@code node} (counted for metrics; the monitor decides the state). */
    public void probeFailed(String node) {
        stats.probeFailed(node);
    }

    /** Fallbacks by reason (e.g. {@code no-replica-within-lag}). */
    public Map<String, Long> fallbacks() {
        return stats.fallbacks();
    }

    /** Reads that wanted a replica but went elsewhere (all fallback reasons). */
    public long primaryFallbacks() {
        return stats.fallbackTotal();
    }

    void fallback(String reason) {
        stats.fallback(reason);
    }

    // ---- epochs and fencing ----

    /** The topology epoch: incremented by every promotion Sluice makes. */
    public long epoch() {
        return epoch.get();
    }

    /**
     * A promotion is starting: a new epoch begins and {@code oldPrimary} becomes fenced — it never again
     * receives routed writes, even if it comes back writable, until Sluice itself promotes it.
     */
    public synchronized long newEpoch(String oldPrimary, String newPrimary) {
        long e = epoch.incrementAndGet();
        if (oldPrimary != null) {
            fenced.put(oldPrimary, e);
        }
        if (newPrimary != null) {
            fenced.remove(newPrimary);
        }
        return e;
    }

    /**
     * Cluster mode: applies the shared record. A newer epoch fences the previous primary (the one of the last
     * record applied, or else the one probes found) exactly as {@link #newEpoch} does on the instance that
     * promoted; an older epoch is ignored (records never go back). From then on only {@code t.primary()} can
     * be this router's primary ({@link #designatedPrimary}).
     *
     * @return true when the epoch or primary changed
     */
    public synchronized boolean adoptShared(dev.sluice.core.coord.SharedTopology t) {
        long mine = epoch.get();
        if (t.epoch() < mine || (t.epoch() == mine && java.util.Objects.equals(t.primary(), designatedPrimary))) {
            return false;
        }
        if (t.epoch() > mine) {
            for (String old : new String[] {t.previous(), designatedPrimary, topology.primary()}) {
                if (old != null && !old.equals(t.primary())) {
                    fenced.put(old, t.epoch());
                }
            }
            epoch.set(t.epoch());
        }
        if (t.primary() != null) {
            fenced.remove(t.primary());
        }
        designatedPrimary = t.primary();
        return true;
    }

    /** Cluster mode: the only node that may be primary (the shared record's); null when any may (local mode). */
    public String designatedPrimary() {
        return designatedPrimary;
    }

    /** The epoch in which {@code node} stopped being primary, or null when it is not fenced. */
    public Long fencedSince(String node) {
        return fenced.get(node);
    }

    // ---- circuit breakers: live traffic opens them, probes close them ----

    /**
     * A connection-class failure on live traffic: opens the node's breaker, which takes it out of routing
     * at once (not at the next probe).
     */
    public synchronized void connectionFailed(String node, Throwable cause) {
        CircuitBreaker cb = breakers.get(node);
        if (cb == null) {
            return;
        }
        stats.connectionFailed(node);
        cb.onError(0, TimeUnit.NANOSECONDS, cause);
        if (cb.getState() == CircuitBreaker.State.CLOSED) {
            // several threads can fail at once; the node must be out for all of them, not after a state race
            cb.transitionToOpenState();
        }
        String why = "circuit breaker open: " + cause.getMessage();
        Topology t = topology;
        NodeStatus s = t.status(node);
        if (s != null && s.state() != NodeState.DOWN) {
            updateTopology(t.withState(node, NodeState.DOWN, why));
            events.add(node, "circuit-open", why);
        }
        nodeWentDown(node);
    }

    /**
     * Counts a node's trips to DOWN. Backend connections borrowed before the latest trip are suspect (the
     * server may have restarted): the driver drops them instead of reusing them.
     */
    public void nodeWentDown(String node) {
        java.util.concurrent.atomic.AtomicLong g = generations.get(node);
        if (g != null) {
            g.incrementAndGet();
        }
    }

    /** See {@link #nodeWentDown}. */
    public long generation(String node) {
        java.util.concurrent.atomic.AtomicLong g = generations.get(node);
        return g == null ? 0 : g.get();
    }

    /** True while live failures keep the node out (OPEN, or HALF_OPEN waiting for a successful probe). */
    public boolean circuitOpen(String node) {
        CircuitBreaker cb = breakers.get(node);
        return cb != null && cb.getState() != CircuitBreaker.State.CLOSED;
    }

    /** A probe reached the node: in HALF_OPEN this closes the breaker (the probe is the trial call). */
    public void probeSucceeded(String node) {
        CircuitBreaker cb = breakers.get(node);
        if (cb != null && cb.getState() == CircuitBreaker.State.HALF_OPEN && cb.tryAcquirePermission()) {
            cb.onSuccess(0, TimeUnit.NANOSECONDS);
            if (cb.getState() == CircuitBreaker.State.CLOSED) {
                events.add(node, "circuit-closed", "probe succeeded after the open interval");
            }
        }
    }

    public String circuitState(String node) {
        CircuitBreaker cb = breakers.get(node);
        return cb == null ? "NONE" : cb.getState().name();
    }

    // ---- node choice, used by sessions ----

    String primaryOrThrow(Topology t, String why) {
        java.util.concurrent.CountDownLatch gate = writeGate;
        if (gate != null) {
            try {
                if (!gate.await(writeHoldMs, TimeUnit.MILLISECONDS)) {
                    throw new NoRouteException("cluster '" + config.name() + "': writes held by a switchover for more than "
                            + writeHoldMs + " ms");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new NoRouteException("cluster '" + config.name() + "': interrupted while writes were held by a switchover");
            }
            t = topology; // the switchover has changed it
        }
        String p = t.primary();
        if (p == null) {
            throw new NoRouteException("cluster '" + config.name() + "': no primary for " + why + ": " + t.noPrimaryReason());
        }
        if (!coordinator.writesAllowed()) { // cluster mode's fail-safe: another instance may be promoting by now
            throw new NoRouteException("cluster '" + config.name() + "': writes refused (" + why + "): "
                    + coordinator.writesRefusedReason());
        }
        return p;
    }

    /** Picks among replicas that qualify (balanced). */
    String pick(List<String> candidates) {
        return balancer.pick(candidates);
    }
}
