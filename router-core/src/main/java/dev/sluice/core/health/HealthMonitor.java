package dev.sluice.core.health;

import dev.sluice.core.config.ClusterConfig;
import dev.sluice.core.config.NodeConfig;
import dev.sluice.core.route.NodeRole;
import dev.sluice.core.route.NodeStatus;
import dev.sluice.core.route.Router;
import dev.sluice.core.route.Topology;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps one router's topology current: probes every node each {@code probe-interval-ms} (role,
 * reachability, applied heartbeat, replication position), writes the heartbeat on the primary each
 * {@code heartbeat-interval-ms}, applies {@link LagPolicy}, and publishes an immutable {@link Topology}.
 * Shared by the driver and the proxy; the I/O comes from a {@link ProbeFactory}. Owns its threads.
 */
public final class HealthMonitor implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HealthMonitor.class);
    /** Unparsed digests shown in a status snapshot: enough to spot a pattern, small on every poll. */
    private static final int TOP_UNPARSED = 10;

    private final ClusterConfig config;
    private final Router router;
    private final ProbeFactory factory;
    private volatile LagPolicy policy;
    private final Map<String, NodeProbe> probes = new LinkedHashMap<>();
    private final Map<String, Track> tracks = new LinkedHashMap<>();
    private final Set<String> drained = ConcurrentHashMap.newKeySet();
    private final Map<String, Future<Timed>> running = new ConcurrentHashMap<>();
    private volatile Set<String> sharedDrained = Set.of(); // from the primary's drain table, via the heartbeat writer
    private volatile Set<String> coordinatedDrained = Set.of(); // cluster mode: from the shared topology record
    private final ScheduledExecutorService scheduler;
    private final ExecutorService probeWorkers;
    private final AtomicBoolean probeQueued = new AtomicBoolean();
    private HeartbeatWriter writer; // heartbeat thread only
    private String writerNode;
    private volatile boolean closed;
    private boolean starting; // start-up rounds: states settle silently (no events for first sightings)
    private volatile RoundListener listener;

    /** Told about every probe round (failover detection) and about fenced nodes that turn up writable. */
    public interface RoundListener {
        void afterRound(Topology topology, Map<String, ProbeResult> results);

        void fencedNodeWritable(String node);
    }

    public void setListener(RoundListener l) {
        this.listener = l;
    }

    /** Cluster mode: the drained nodes of the shared record (applied at the next round, which this starts). */
    public void setCoordinatedDrained(Set<String> nodes) {
        if (!nodes.equals(coordinatedDrained)) {
            coordinatedDrained = Set.copyOf(nodes);
            probeSoon();
        }
    }

    /** A changed configuration of the same cluster: lag thresholds apply from the next round. */
    public void reconfigure(ClusterConfig c) {
        this.policy = new LagPolicy(c.maxLagMs(), c.readmitLagMs(), c.lagHoldMs());
    }

    /**
     * A probe's answer and the local time it started: a replica's lag and the writer's staleness are judged
     * at that time, not at the end of the round, so the probe's own response time is not counted as lag
     * (see {@link Heartbeats}).
     */
    private record Timed(ProbeResult result, long startedNanos) {
    }

    /** Per-node state the monitor carries from one probe to the next. Guarded by {@code this}. */
    private static final class Track {
        NodeState state;
        long enteredNanos;
        long sinceMillis = System.currentTimeMillis();
        NodeRole role = NodeRole.UNKNOWN;
        volatile ProbeResult last;
        final LagHistory history = new LagHistory();
    }

    public HealthMonitor(ClusterConfig config, Router router, ProbeFactory factory) {
        this.config = config;
        this.router = router;
        this.factory = factory;
        this.policy = new LagPolicy(config.maxLagMs(), config.readmitLagMs(), config.lagHoldMs());
        for (NodeConfig n : config.nodes()) {
            probes.put(n.name(), factory.probe(n));
            tracks.put(n.name(), new Track());
        }
        String id = config.name() + "-" + Integer.toHexString(System.identityHashCode(this));
        this.scheduler = Executors.newScheduledThreadPool(2, r -> daemon(r, "sluice-health-" + id));
        // one stuck probe per node at most (see probeAll), so twice the nodes is always enough threads
        this.probeWorkers = Executors.newFixedThreadPool(2 * config.nodes().size(), r -> daemon(r, "sluice-probe-" + id));
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /**
     * Discovers roles, writes a first heartbeat and waits (up to about a second) until every reachable
     * replica's lag is known, so a fresh router starts with replicas in the read set instead of holding
     * them out as "unknown"; then schedules the loops.
     */
    public void start() {
        synchronized (this) {
            starting = true;
        }
        probeRound();
        if (!config.ptHeartbeat()) {
            heartbeatTick();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
        do {
            forgetReplicaStates(); // first sight: join at once when within max-lag, no hold
            probeRound();
        } while (!allReplicaLagsKnown() && System.nanoTime() < deadline && sleep(50));
        synchronized (this) {
            starting = false;
        }
        RoundListener l = listener;
        if (l != null) {
            l.afterRound(router.topology(), Map.of()); // the listener learns the primary before anything can fail
        }
        scheduler.scheduleWithFixedDelay(this::probeRound, config.probeIntervalMs(), config.probeIntervalMs(), TimeUnit.MILLISECONDS);
        if (!config.ptHeartbeat()) {
            scheduler.scheduleWithFixedDelay(this::heartbeatTick, config.heartbeatIntervalMs(), config.heartbeatIntervalMs(),
                    TimeUnit.MILLISECONDS);
        }
    }

    private static boolean sleep(long ms) {
        try {
            Thread.sleep(ms);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private synchronized void forgetReplicaStates() {
        for (Track t : tracks.values()) {
            if (t.role == NodeRole.REPLICA) {
                t.state = null;
            }
        }
    }

    private boolean allReplicaLagsKnown() {
        for (NodeStatus s : router.topology().nodes()) {
            if (s.role() == NodeRole.REPLICA && s.state() != NodeState.DOWN && s.lagMillis() == null) {
                return false;
            }
        }
        return true;
    }

    /** One probe of every node, in parallel, then a new topology. */
    public synchronized void probeRound() {
        if (closed) {
            return;
        }
        probeQueued.set(false);
        try {
            Map<String, Timed> timed = probeAll();
            // The round's time: state changes, hold timers and the history are stamped with it. The hold
            // measures how long a replica has been out of the read set, and membership changes when the
            // topology is published, at the end of the round; one time per round also keeps every node's
            // transitions on one timeline. Only lag and staleness use each probe's own start time.
            long now = router.nanoTime();
            long nowMillis = System.currentTimeMillis();
            Map<String, ProbeResult> results = new LinkedHashMap<>();
            long roundStart = now;
            for (Map.Entry<String, Timed> e : timed.entrySet()) {
                results.put(e.getKey(), e.getValue().result());
                roundStart = Math.min(roundStart, e.getValue().startedNanos());
            }
            if (config.ptHeartbeat()) {
                // pt-heartbeat: when the primary's value was written is unknown (it was read somewhere in this
                // round). Dated at the round's first probe start, every replica probed in this round is held to
                // it, as before; the ages computed from it later err on the high side.
                for (ProbeResult r : results.values()) {
                    if (r.reachable() && r.role() == NodeRole.PRIMARY && r.beat() != null) {
                        router.heartbeats().observed(r.beat(), roundStart);
                    }
                }
            }
            List<NodeStatus> statuses = new ArrayList<>();
            for (Map.Entry<String, Timed> e : timed.entrySet()) {
                statuses.add(judge(e.getKey(), e.getValue().result(), e.getValue().startedNanos(), now, nowMillis));
            }
            Topology t = Topology.of(statuses);
            router.updateTopology(t);
            RoundListener l = listener;
            if (l != null && !starting) {
                l.afterRound(t, results);
            }
            // Fix (found by the kill -9 health IT): a breaker that live traffic opened after this round judged the
            // node (probe answered just before the node died) was overwritten by the topology published above, so
            // the node went back into routing until the next round and a read's retry could land on it again.
            // Re-apply open breakers after publishing; Router.connectionFailed applies its own after opening.
            for (NodeStatus s : statuses) {
                if (s.state() != NodeState.DOWN && s.state() != NodeState.DRAINED && router.circuitOpen(s.name())) {
                    Topology cur = router.topology();
                    router.updateTopology(cur.withState(s.name(), NodeState.DOWN,
                            "circuit breaker open after connection failures on live traffic"));
                }
            }
        } catch (RuntimeException e) {
            log.warn("cluster '{}': probe round failed", config.name(), e);
        }
    }

    /** Every node's probe, in parallel; an unreachable result carries a start time no one uses. */
    private Map<String, Timed> probeAll() {
        long submitted = router.nanoTime();
        Map<String, Future<Timed>> futures = new LinkedHashMap<>();
        for (Map.Entry<String, NodeProbe> e : probes.entrySet()) {
            Future<Timed> previous = running.get(e.getKey());
            if (previous != null && !previous.isDone()) {
                // the last probe of this node is still stuck (e.g. a blackholed network): don't pile up behind it
                futures.put(e.getKey(), java.util.concurrent.CompletableFuture.completedFuture(
                        new Timed(ProbeResult.unreachable("previous probe still running (no answer)"), submitted)));
                continue;
            }
            NodeProbe probe = e.getValue();
            // the start is taken in the worker, just before the probe: on a busy host a worker may start late,
            // and beats committed while the task waited could not have been expected either way
            Future<Timed> f = probeWorkers.submit(() -> {
                long started = router.nanoTime();
                return new Timed(probe.probe(), started);
            });
            running.put(e.getKey(), f);
            futures.put(e.getKey(), f);
        }
        Map<String, Timed> results = new LinkedHashMap<>();
        long waitMs = 2L * config.probeTimeoutMs() + 500;
        for (Map.Entry<String, Future<Timed>> e : futures.entrySet()) {
            Timed r;
            try {
                r = e.getValue().get(waitMs, TimeUnit.MILLISECONDS);
            } catch (TimeoutException ex) {
                e.getValue().cancel(true);
                r = new Timed(ProbeResult.unreachable("probe did not finish in " + waitMs + " ms"), submitted);
            } catch (Exception ex) {
                r = new Timed(ProbeResult.unreachable("probe failed: " + ex), submitted);
            }
            results.put(e.getKey(), r);
        }
        return results;
    }

    /**
     * One node's new status. {@code probeStart}: when its probe started, the time its heartbeat value is
     * judged at; {@code now}: the round's time, for state changes (see probeRound).
     */
    private NodeStatus judge(String node, ProbeResult r, long probeStart, long now, long nowMillis) {
        Track tr = tracks.get(node);
        if (!r.reachable()) {
            router.probeFailed(node);
        }
        if (r.reachable()) {
            router.probeSucceeded(node);
            if (tr.role != r.role() && tr.role != NodeRole.UNKNOWN && tr.role != NodeRole.DOWN) {
                router.events().add(node, "role-change", tr.role + " -> " + r.role() + " (" + r.roleReason() + ")");
                log.info("cluster '{}': {} is now {} ({})", config.name(), node, r.role(), r.roleReason());
            }
            tr.role = r.role();
        }
        Long lag = null;
        String unknown = null;
        if (r.reachable() && r.role() == NodeRole.REPLICA) {
            lag = router.heartbeats().lagMillis(r.beat(), probeStart);
            if (lag == null) {
                unknown = r.beat() == null ? (r.beatError() != null ? r.beatError() : "heartbeat not readable")
                        : router.heartbeats().unknownReason(probeStart);
            }
            tr.history.record(nowMillis, lag);
        }
        boolean isDrained = drained.contains(node) || sharedDrained.contains(node) || coordinatedDrained.contains(node);
        LagPolicy.Verdict v = policy.decide(tr.state, tr.enteredNanos, now, isDrained, r, router.circuitOpen(node), lag, unknown);
        if (v.state() == NodeState.LAGGING && lag != null) {
            // lag keeps growing while the writer is quiet (until max-lag-ms, when it turns unknown): say so, or the
            // operator looks for a slow replica when it is the primary or the writer's connection that stalled
            long quiet = router.heartbeats().quietMillis(probeStart);
            if (quiet > 3L * config.heartbeatIntervalMs()) {
                v = new LagPolicy.Verdict(v.state(), v.reason() + "; no heartbeat committed on the primary for " + quiet + " ms");
            }
        }
        Long fencedSince = router.fencedSince(node);
        if (fencedSince != null && r.reachable() && r.role() == NodeRole.PRIMARY) {
            // a former primary back and writable: never routed (split-brain guard); fenced by the listener
            v = new LagPolicy.Verdict(NodeState.DOWN, "fenced: primary before epoch " + fencedSince + ", writable again");
            if (listener != null) {
                listener.fencedNodeWritable(node);
            }
        } else if (r.reachable() && r.role() == NodeRole.PRIMARY && router.designatedPrimary() != null
                && !node.equals(router.designatedPrimary())) {
            // cluster mode: writes go only where the shared record says, so every instance agrees on one primary;
            // the leader adopts or fences a node that turned primary behind Sluice's back (ClusterReconciler)
            v = new LagPolicy.Verdict(NodeState.DOWN, "writable, but the shared primary of epoch " + router.epoch() + " is "
                    + router.designatedPrimary());
        }
        if (v.state() != tr.state) {
            if (v.state() == NodeState.DOWN) {
                router.nodeWentDown(node);
            }
            if (!starting && (tr.state != null || v.state() != NodeState.UP)) {
                router.events().add(node, eventType(tr.state, v.state()), v.reason());
                log.info("cluster '{}': {} {} -> {} ({})", config.name(), node, tr.state, v.state(), v.reason());
            }
            tr.state = v.state();
            tr.enteredNanos = now;
            tr.sinceMillis = nowMillis;
        }
        tr.last = r;
        NodeRole role = r.reachable() ? r.role() : NodeRole.DOWN;
        return new NodeStatus(node, role, v.state(), v.reason(), tr.sinceMillis, lag, r.beat(), r.position());
    }

    private static String eventType(NodeState from, NodeState to) {
        return switch (to) {
            case DOWN -> "node-down";
            case DRAINED -> "drained";
            case LAGGING -> from == NodeState.UP || from == null ? "dropped-for-lag" : "lagging";
            case UP -> from == NodeState.LAGGING ? "readmitted" : "node-up";
        };
    }

    /** Writes one heartbeat on the current primary (its own thread, so a slow primary can't delay probes). */
    void heartbeatTick() {
        if (closed) {
            return;
        }
        Heartbeats hb = router.heartbeats();
        String p = router.topology().primary();
        if (p == null) {
            hb.failed("no primary to write the heartbeat on");
            return;
        }
        if (writer == null || !p.equals(writerNode)) {
            if (writer != null) {
                writer.close();
                // values written through the old primary say nothing about what the new one has shipped
                hb.reset("primary changed to " + p);
            }
            writer = factory.heartbeatWriter(config.node(p));
            writerNode = p;
        }
        long started = router.nanoTime();
        try {
            long v = writer.beat();
            hb.committed(v, started, router.nanoTime());
            sharedDrained = writer.drainedNodes();
        } catch (Exception e) {
            hb.failed("heartbeat write on " + p + " failed: " + e.getMessage());
        }
    }

    /** Asks for a probe round soon (after a live connection failure); coalesces bursts. */
    public void probeSoon() {
        if (!closed && probeQueued.compareAndSet(false, true)) {
            try {
                scheduler.execute(this::probeRound);
            } catch (java.util.concurrent.RejectedExecutionException ignored) {
                // closing
            }
        }
    }

    /** Takes a node out of routing (admin), or puts it back; applied at once. */
    public void drain(String node, boolean on) {
        config.node(node); // throws for an unknown name
        if (on) {
            drained.add(node);
        } else {
            drained.remove(node);
        }
        probeRound();
    }

    private volatile java.util.function.ToIntFunction<String> connectionCounter;

    /**
     * Where the status snapshot gets each node's open backend connections from: the driver's pools or the
     * proxy's (this module knows no pool). Unset: unknown (null in the snapshot).
     */
    public void setConnectionCounter(java.util.function.ToIntFunction<String> counter) {
        this.connectionCounter = counter;
    }

    private Integer openConnections(String node) {
        java.util.function.ToIntFunction<String> c = connectionCounter;
        return c == null ? null : c.applyAsInt(node);
    }

    /** The status snapshot (see {@link ClusterStatus}). */
    public ClusterStatus status() { // not synchronized: a slow probe round must not stall status pages
        long nowMillis = System.currentTimeMillis();
        Topology t = router.topology();
        List<ClusterStatus.NodeView> views = new ArrayList<>();
        String primaryPosition = t.primary() == null ? null : t.status(t.primary()).position();
        for (NodeStatus s : t.nodes()) {
            Track tr = tracks.get(s.name());
            ProbeResult last = tr == null ? null : tr.last;
            views.add(new ClusterStatus.NodeView(s.name(), s.role().name(), s.state().name(), s.reason(), s.sinceMillis(),
                    s.lagMillis(), tr == null ? List.of() : tr.history.last10Minutes(nowMillis), router.routedTo(s.name()),
                    router.circuitState(s.name()), bytesBehind(s, primaryPosition, last),
                    last == null ? null : last.secondsBehind(), s.position(), openConnections(s.name())));
        }
        return new ClusterStatus(config.name(), config.engine().configName(), t.primary(), t.noPrimaryReason(), views,
                router.fallbacks(), router.classifier().unparsedCount(), router.classifier().unparsedDigests().top(TOP_UNPARSED),
                router.heartbeats().unknownReason(router.nanoTime()), router.events().snapshot(), router.coordinator().status(),
                router.readCache().stats());
    }

    /** PostgreSQL replica: primary LSN minus replay LSN, both as last probed (approximate: two probes). */
    private Long bytesBehind(NodeStatus s, String primaryPosition, ProbeResult last) {
        if (last != null && last.bytesBehind() != null) {
            return last.bytesBehind();
        }
        if (s.role() != NodeRole.REPLICA || primaryPosition == null || s.position() == null
                || config.engine() != dev.sluice.core.config.Engine.POSTGRESQL) {
            return null;
        }
        try {
            return Math.max(0, Positions.lsn(primaryPosition) - Positions.lsn(s.position()));
        } catch (RuntimeException e) {
            return null;
        }
    }

    @Override
    public void close() {
        closed = true;
        scheduler.shutdownNow();
        probeWorkers.shutdownNow();
        try {
            scheduler.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (this) {
            probes.values().forEach(NodeProbe::close);
        }
        if (writer != null) {
            writer.close();
        }
    }
}
