package dev.sluice.core.failover;

import dev.sluice.core.config.ClusterConfig;
import dev.sluice.core.config.NodeConfig;
import dev.sluice.core.coord.Coordinator;
import dev.sluice.core.coord.SharedTopology;
import dev.sluice.core.health.HealthMonitor;
import dev.sluice.core.health.ProbeResult;
import dev.sluice.core.route.NodeRole;
import dev.sluice.core.route.NodeStatus;
import dev.sluice.core.route.Router;
import dev.sluice.core.route.Topology;
import dev.sluice.core.sql.Dialect;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Promotes a replica when the primary dies (automatically with {@code failover: auto}) or on request.
 *
 * <p>Detection is holistic: the primary must fail {@code failover-probes} probes in a row <i>and</i> no
 * reachable replica may still stream from it. A Sluice cut off from a healthy primary sees the first but
 * not the second, and does not promote.
 *
 * <p>Steps, each an event: choose the most advanced replica (received position; ties by node priority,
 * then configuration order; replicas whose last known lag exceeded {@code failover-max-lag-ms} are not
 * candidates) → let it apply what it received → start a new epoch in which the old primary is fenced
 * (never routed writes again) → promote → re-point the other replicas → fence the old primary if
 * reachable → re-probe so writes follow at once → run the hook (its output, bounded, in the event log;
 * a non-zero exit is a {@code hook-failed} event and undoes nothing).
 */
public final class Failover implements HealthMonitor.RoundListener, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Failover.class);
    private static final int HOOK_TIMEOUT_SECONDS = 60;

    private volatile ClusterConfig config; // replaced by a shared config change (cluster mode)
    private final Router router;
    private final HealthMonitor monitor;
    private final FailoverIo io;
    private final Dialect dialect;
    private final ExecutorService worker;
    private final AtomicBoolean running = new AtomicBoolean();
    private final Map<String, Long> lastKnownLag = new HashMap<>(); // probe thread only
    private final Map<String, Long> lastFenceAttempt = new java.util.concurrent.ConcurrentHashMap<>();
    private String lastPrimary;
    private int primaryFailures;

    public Failover(ClusterConfig config, Router router, HealthMonitor monitor, FailoverIo io) {
        this.config = config;
        this.router = router;
        this.monitor = monitor;
        this.io = io;
        this.dialect = config.engine().dialect();
        this.worker = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "sluice-failover-" + config.name());
            t.setDaemon(true);
            return t;
        });
    }

    /** A changed configuration of the same cluster: failover options apply from the next round. */
    public void reconfigure(ClusterConfig c) {
        this.config = c;
    }

    @Override
    public synchronized void afterRound(Topology t, Map<String, ProbeResult> results) {
        if (router.designatedPrimary() != null) {
            // cluster mode: the primary to watch is the shared one, even while a promotion to it is unfinished
            // (then it is reachable but not writable: no death, so no second promotion; ClusterSync finishes it)
            lastPrimary = router.designatedPrimary();
        }
        if (t.primary() != null) {
            lastPrimary = t.primary();
            primaryFailures = 0;
            for (NodeStatus s : t.nodes()) {
                if (s.role() == NodeRole.REPLICA && s.lagMillis() != null) {
                    lastKnownLag.put(s.name(), s.lagMillis());
                }
            }
            return;
        }
        if (lastPrimary == null) {
            return;
        }
        ProbeResult r = results.get(lastPrimary);
        if (r != null && r.reachable()) {
            primaryFailures = 0; // reachable but not writable (read-only, fenced): not a death
            return;
        }
        primaryFailures++;
        // cluster mode: every instance counts, only the elected leader acts (and it re-checks the epoch by CAS)
        if (config.failoverAuto() && primaryFailures >= config.failoverProbes() && !running.get() && router.coordinator().isLeader()) {
            String dead = lastPrimary;
            router.events().add(dead, "failover-detected", "primary failed " + primaryFailures + " probes in a row");
            worker.execute(() -> promote(null, false, "primary " + dead + " failed " + config.failoverProbes() + " probes"));
        }
    }

    @Override
    public void fencedNodeWritable(String node) {
        if (!router.coordinator().isLeader()) {
            return; // cluster mode: the leader fences; a follower's view of the epoch may be a moment old
        }
        long now = System.nanoTime();
        Long last = lastFenceAttempt.get(node);
        if (last != null && now - last < 5_000_000_000L) {
            return; // at most one fencing attempt per node every 5 s
        }
        lastFenceAttempt.put(node, now);
        worker.execute(() -> {
            try {
                io.fence(config.node(node));
                router.events().add(node, "fenced", "old primary came back writable: set read-only");
            } catch (Exception e) {
                router.events().add(node, "fence-failed", String.valueOf(e.getMessage()));
            }
        });
    }

    /**
     * Promotes {@code target} (or the best candidate when null). Without {@code force} it refuses while the
     * primary is alive or a replica still streams from it.
     */
    public FailoverResult promote(String target, boolean force, String why) {
        if (!running.compareAndSet(false, true)) {
            return new FailoverResult(false, null, router.epoch(), "a promotion is already running", List.of());
        }
        List<String> steps = new ArrayList<>();
        String old;
        synchronized (this) {
            old = router.topology().primary() != null ? router.topology().primary() : lastPrimary;
        }
        try {
            step(steps, null, "failover-started", why + (old == null ? "" : "; old primary " + old));
            Topology t = router.topology();
            if (!force && t.primary() != null) {
                return abort(steps, "primary " + t.primary() + " is alive: use switchover, or --force");
            }
            List<Candidate> reachable = new ArrayList<>();
            for (NodeStatus s : t.nodes()) {
                if (s.name().equals(old) || s.role() != NodeRole.REPLICA) {
                    continue;
                }
                ReplicaReport rep;
                try {
                    rep = io.report(config.node(s.name()));
                } catch (Exception e) {
                    step(steps, s.name(), "candidate-unreachable", String.valueOf(e.getMessage()));
                    continue;
                }
                if (rep.upstreamConnected() && !force) {
                    return abort(steps, "replica " + s.name() + " still streams from the primary (" + rep.detail()
                            + "): Sluice may be cut off from a healthy primary; not promoting");
                }
                reachable.add(new Candidate(config.node(s.name()), rep, PositionRank.rank(dialect, rep.received())));
                step(steps, s.name(), "candidate", "received " + rep.received() + ", replayed " + rep.replayed()
                        + ", priority " + config.node(s.name()).priority());
            }
            // The lag limit keeps far-behind replicas out, but never the one that received the most: with
            // synchronous replication it may be the only one holding acknowledged writes (a delayed standby).
            long best = reachable.stream().mapToLong(Candidate::rank).max().orElse(-1);
            List<Candidate> candidates = new ArrayList<>();
            for (Candidate c : reachable) {
                Long lag = lastKnownLag.get(c.node.name());
                if (lag != null && lag > config.failoverMaxLagMs() && c.rank < best && !c.node.name().equals(target)) {
                    step(steps, c.node.name(), "candidate-excluded", "last known lag " + lag + " ms > failover-max-lag-ms, and behind");
                    continue;
                }
                candidates.add(c);
            }
            Candidate chosen = choose(candidates, target);
            if (chosen == null) {
                return abort(steps, target == null ? "no candidate replica" : "target " + target + " is not a candidate");
            }
            step(steps, chosen.node.name(), "candidate-chosen", "most advanced" + (target != null ? " (requested)" : ""));
            try {
                io.applyReceived(chosen.node, Duration.ofSeconds(10));
                step(steps, chosen.node.name(), "applied-received", "applied everything it had received");
            } catch (Exception e) {
                step(steps, chosen.node.name(), "apply-incomplete", String.valueOf(e.getMessage()));
            }
            long epoch = claimEpoch(old, chosen.node.name());
            step(steps, old, "epoch", "epoch " + epoch + ": " + old + " fenced from writes");
            io.promote(chosen.node);
            step(steps, chosen.node.name(), "promoted", "now primary (epoch " + epoch + ")");
            for (Candidate c : reachable) { // excluded ones too: nobody may stay on the dead primary
                if (c != chosen) {
                    try {
                        step(steps, c.node.name(), "repointed", io.repoint(c.node, chosen.node));
                    } catch (Exception e) {
                        step(steps, c.node.name(), "repoint-failed", String.valueOf(e.getMessage()));
                    }
                }
            }
            if (old != null) {
                try {
                    io.fence(config.node(old));
                    step(steps, old, "fenced", "old primary set read-only");
                } catch (Exception e) {
                    step(steps, old, "fence-skipped", "unreachable or refused: " + e.getMessage() + " (fenced from routing by epoch)");
                }
            }
            monitor.probeRound(); // writes follow now, not at the next scheduled probe
            step(steps, chosen.node.name(), "failover-finished", "writes go to " + chosen.node.name());
            // last: a hook may take seconds (a rejoin stops, rewinds and restarts a server); writes need not wait
            runHook(steps, chosen.node.name(), old, epoch);
            return new FailoverResult(true, chosen.node.name(), epoch, "promoted " + chosen.node.name(), steps);
        } catch (Exception e) {
            return abort(steps, "failed: " + e.getMessage());
        } finally {
            running.set(false);
            synchronized (this) {
                primaryFailures = 0;
            }
        }
    }

    private record Candidate(NodeConfig node, ReplicaReport report, long rank) {
    }

    /**
     * Planned switchover to {@code target} (or the most advanced replica): hold new writes (bounded), wait
     * for the primary's statements in flight, set it read-only, wait until the target has applied
     * everything, promote it, re-point the others, rejoin the old primary as a replica where SQL can
     * (MariaDB/MySQL; PostgreSQL through the hook), release the held writes to the new primary. No write
     * is lost: the target has everything the old primary committed before it went read-only. A failure
     * before the promotion gives the primary back. {@code dryRun} only prints the plan.
     */
    public FailoverResult switchover(String target, boolean dryRun) {
        if (!running.compareAndSet(false, true)) {
            return new FailoverResult(false, null, router.epoch(), "a promotion is already running", List.of());
        }
        List<String> steps = new ArrayList<>();
        boolean held = false;
        boolean fencedOld = false;
        String old = router.topology().primary();
        try {
            if (old == null) {
                return abort(steps, "no primary to switch over from: " + router.topology().noPrimaryReason());
            }
            step(steps, old, dryRun ? "switchover-plan" : "switchover-started", "from " + old + (target == null ? "" : " to " + target));
            List<Candidate> candidates = new ArrayList<>();
            for (NodeStatus s : router.topology().nodes()) {
                if (s.role() != NodeRole.REPLICA || s.state() == dev.sluice.core.health.NodeState.DOWN) {
                    continue;
                }
                ReplicaReport rep = io.report(config.node(s.name()));
                candidates.add(new Candidate(config.node(s.name()), rep, PositionRank.rank(dialect, rep.replayed())));
                step(steps, s.name(), "candidate", "replayed " + rep.replayed() + ", lag " + s.lagMillis() + " ms, priority "
                        + config.node(s.name()).priority() + (rep.upstreamConnected() ? ", streaming" : ", NOT streaming"));
            }
            Candidate chosen = choose(candidates, target);
            if (chosen == null) {
                return abort(steps, target == null ? "no replica to switch over to" : target + " is not a running replica");
            }
            step(steps, chosen.node.name(), "target", target != null ? "requested" : "most advanced replica (ties: priority, then order)");
            if (dryRun) {
                return new FailoverResult(false, chosen.node.name(), router.epoch(), "dry run: would switch over to " + chosen.node.name(), steps);
            }
            router.holdWrites(config.switchoverHoldMs());
            held = true;
            step(steps, old, "writes-held", "new writes wait (up to " + config.switchoverHoldMs() + " ms)");
            long deadline = System.nanoTime() + 2_000_000_000L;
            while (router.inFlight(old) > 0 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            io.fence(config.node(old));
            fencedOld = true;
            String pos = io.position(config.node(old));
            step(steps, old, "read-only", "primary set read-only at position " + pos);
            io.waitForPosition(chosen.node, pos, Duration.ofSeconds(10));
            step(steps, chosen.node.name(), "caught-up", "applied " + pos);
            long epoch = claimEpoch(old, chosen.node.name());
            io.promote(chosen.node);
            step(steps, chosen.node.name(), "promoted", "now primary (epoch " + epoch + ")");
            for (Candidate c : candidates) {
                if (c != chosen) {
                    try {
                        step(steps, c.node.name(), "repointed", io.repoint(c.node, chosen.node));
                    } catch (Exception e) {
                        step(steps, c.node.name(), "repoint-failed", String.valueOf(e.getMessage()));
                    }
                }
            }
            try {
                step(steps, old, "rejoined", io.rejoin(config.node(old), chosen.node));
            } catch (Exception e) {
                step(steps, old, "rejoin-failed", String.valueOf(e.getMessage()));
            }
            monitor.probeRound();
            router.releaseWrites();
            held = false;
            step(steps, chosen.node.name(), "switchover-finished", "writes go to " + chosen.node.name());
            // after the release: held writes must not wait for a hook that takes seconds (a rejoin stops,
            // rewinds and restarts a server) and could outlast switchover-hold-ms
            runHook(steps, chosen.node.name(), old, epoch);
            return new FailoverResult(true, chosen.node.name(), epoch, "switched over to " + chosen.node.name(), steps);
        } catch (Exception e) {
            if (fencedOld && router.fencedSince(old) == null) {
                try {
                    io.unfence(config.node(old)); // not promoted yet: give the primary back
                    step(steps, old, "unfenced", "switchover abandoned before promotion: primary writable again");
                } catch (Exception u) {
                    step(steps, old, "unfence-failed", String.valueOf(u.getMessage()));
                }
            }
            return abort(steps, "switchover failed: " + e.getMessage());
        } finally {
            if (held) {
                router.releaseWrites();
            }
            running.set(false);
        }
    }

    /**
     * Starts the promotion's epoch. Cluster mode: by compare-and-set on the shared record, so of two instances
     * that both decided to promote only one can; the loser stops here, before touching any server.
     */
    private long claimEpoch(String old, String newPrimary) {
        Coordinator c = router.coordinator();
        if (!c.clustered()) {
            return router.newEpoch(old, newPrimary);
        }
        if (!c.isLeader()) {
            throw new IllegalStateException("this instance is not the leader (any more): not promoting");
        }
        long expected = router.epoch();
        SharedTopology t = c.tryPublishPromotion(expected, newPrimary);
        if (t == null) {
            SharedTopology now = c.current();
            throw new IllegalStateException("the shared topology moved past epoch " + expected + " (now "
                    + (now == null ? "unknown" : "epoch " + now.epoch() + ", primary " + now.primary())
                    + ") or ZooKeeper is unreachable: not promoting");
        }
        router.adoptShared(t);
        return t.epoch();
    }

    /**
     * Cluster mode: the shared record names {@code s.primary()} for its epoch but that node is still a replica —
     * the leader that published it died before promoting. Finish exactly that promotion (never choose
     * another node: the epoch is already spent on this one).
     */
    FailoverResult finishPromotion(SharedTopology s) {
        if (config.nodes().stream().noneMatch(n -> n.name().equals(s.primary()))) {
            router.events().add(null, "failover-aborted", "shared primary " + s.primary() + " is not a node of this instance's config");
            return new FailoverResult(false, null, router.epoch(), "unknown shared primary " + s.primary(), List.of());
        }
        if (!running.compareAndSet(false, true)) {
            return new FailoverResult(false, null, router.epoch(), "a promotion is already running", List.of());
        }
        List<String> steps = new ArrayList<>();
        NodeConfig target = config.node(s.primary());
        try {
            step(steps, target.name(), "failover-resumed", "epoch " + s.epoch() + " names " + target.name()
                    + " (published by " + s.by() + "), still a replica: finishing that promotion");
            try {
                io.applyReceived(target, Duration.ofSeconds(10));
            } catch (Exception e) {
                step(steps, target.name(), "apply-incomplete", String.valueOf(e.getMessage()));
            }
            io.promote(target);
            step(steps, target.name(), "promoted", "now primary (epoch " + s.epoch() + ")");
            for (NodeStatus n : router.topology().nodes()) {
                if (n.role() == NodeRole.REPLICA && !n.name().equals(target.name())) {
                    try {
                        step(steps, n.name(), "repointed", io.repoint(config.node(n.name()), target));
                    } catch (Exception e) {
                        step(steps, n.name(), "repoint-failed", String.valueOf(e.getMessage()));
                    }
                }
            }
            if (s.previous() != null) {
                try {
                    io.fence(config.node(s.previous()));
                    step(steps, s.previous(), "fenced", "old primary set read-only");
                } catch (Exception e) {
                    step(steps, s.previous(), "fence-skipped", "unreachable or refused: " + e.getMessage() + " (fenced from routing by epoch)");
                }
            }
            monitor.probeRound();
            step(steps, target.name(), "failover-finished", "writes go to " + target.name());
            runHook(steps, target.name(), s.previous(), s.epoch());
            return new FailoverResult(true, target.name(), s.epoch(), "finished the promotion of " + target.name(), steps);
        } catch (Exception e) {
            return abort(steps, "finishing the promotion of " + target.name() + " failed: " + e.getMessage());
        } finally {
            running.set(false);
        }
    }

    /** Runs {@link #finishPromotion} on the failover thread (the probe thread must not block on it). */
    void finishPromotionSoon(SharedTopology s) {
        if (!running.get()) {
            worker.execute(() -> finishPromotion(s));
        }
    }

    private Candidate choose(List<Candidate> cs, String target) {
        if (target != null) {
            return cs.stream().filter(c -> c.node.name().equals(target)).findFirst().orElse(null);
        }
        List<String> order = config.nodes().stream().map(NodeConfig::name).toList();
        return cs.stream().min(Comparator.<Candidate>comparingLong(c -> -c.rank)
                .thenComparingInt(c -> -c.node.priority())
                .thenComparingInt(c -> order.indexOf(c.node.name()))).orElse(null);
    }

    private void runHook(List<String> steps, String newPrimary, String old, long epoch) {
        String hook = config.failoverHook();
        if (hook == null || hook.isBlank()) {
            return;
        }
        NodeConfig np = config.node(newPrimary);
        String json = "{\"event\":\"promotion\",\"cluster\":" + q(config.name()) + ",\"epoch\":" + epoch
                + ",\"newPrimary\":{\"name\":" + q(newPrimary) + ",\"host\":" + q(np.host()) + ",\"port\":" + np.port() + "}"
                + ",\"oldPrimary\":" + (old == null ? "null" : "{\"name\":" + q(old) + ",\"host\":" + q(config.node(old).host())
                + ",\"port\":" + config.node(old).port() + "}") + "}";
        Process p;
        try {
            p = new ProcessBuilder("sh", "-c", hook).redirectErrorStream(true).start();
        } catch (Exception e) {
            step(steps, newPrimary, "hook-failed", "could not start: " + e.getMessage());
            return;
        }
        // read on its own thread: a hook that leaves a child holding its stdout, or writes more than a pipe
        // holds, must neither block us past the time limit nor stall itself
        HookOutput out = HookOutput.drain(p.getInputStream(), "sluice-hook-" + config.name());
        try (var in = p.getOutputStream()) {
            in.write(json.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        } catch (java.io.IOException e) {
            // the hook does not read its stdin (exited or closed it): that is its business
        }
        try {
            if (!p.waitFor(HOOK_TIMEOUT_SECONDS, java.util.concurrent.TimeUnit.SECONDS)) {
                step(steps, newPrimary, "hook-failed", "still running after " + HOOK_TIMEOUT_SECONDS + " s (left running)"
                        + out.text(0).map(o -> ": " + o).orElse(""));
                return;
            }
            int exit = p.exitValue();
            String text = out.text(2_000).map(o -> ": " + o).orElse("");
            step(steps, newPrimary, exit == 0 ? "hook" : "hook-failed", "exit " + exit + text);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            step(steps, newPrimary, "hook-failed", "interrupted while waiting for it");
        }
    }

    static String q(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }

    private FailoverResult abort(List<String> steps, String why) {
        step(steps, null, "failover-aborted", why);
        return new FailoverResult(false, null, router.epoch(), why, steps);
    }

    private void step(List<String> steps, String node, String type, String message) {
        steps.add(type + (node == null ? "" : " " + node) + ": " + message);
        router.events().add(node, type, message);
        // one log line per step even for a hook's multi-line output: line-based log readers would keep only
        // its first line (the event and the steps keep the lines)
        log.info("cluster '{}' failover: {}{}: {}", config.name(), type, node == null ? "" : " " + node,
                message.strip().replace("\n", " | "));
    }

    public boolean running() {
        return running.get();
    }

    @Override
    public void close() {
        worker.shutdownNow();
    }
}
