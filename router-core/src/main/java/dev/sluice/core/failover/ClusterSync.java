package dev.sluice.core.failover;

import dev.sluice.core.config.ClusterConfig;
import dev.sluice.core.config.ConfigException;
import dev.sluice.core.config.SluiceOption;
import dev.sluice.core.coord.Coordinator;
import dev.sluice.core.coord.SharedTopology;
import dev.sluice.core.health.HealthMonitor;
import dev.sluice.core.health.ProbeResult;
import dev.sluice.core.route.NodeRole;
import dev.sluice.core.route.Router;
import dev.sluice.core.route.Topology;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cluster mode's glue between one instance's engine (router, monitor, failover) and the shared state:
 *
 * <ul>
 *   <li>follower side: applies every shared record (primary + epoch, drained nodes) and shared option change
 *       to this instance's router at once;</li>
 *   <li>leader side, after each probe round: seeds the shared record when there is none, finishes a promotion
 *       whose leader died between publishing the epoch and promoting, adopts a promotion made behind Sluice's
 *       back; and executes promote/switchover requests forwarded by other instances.</li>
 * </ul>
 *
 * Engine-agnostic (router-core): the coordination service itself is behind {@link Coordinator}.
 */
public final class ClusterSync implements Coordinator.Listener, Coordinator.RequestHandler, HealthMonitor.RoundListener {
    private static final Logger log = LoggerFactory.getLogger(ClusterSync.class);

    /**
     * Options a shared config change may set: the ones the running engine reads per statement or per round.
     * Anything else (nodes, pools, credentials, coordination itself) needs the file and a restart, and
     * secrets never go to ZooKeeper.
     */
    public static final Set<SluiceOption> LIVE = EnumSet.of(SluiceOption.HINTS, SluiceOption.REPLICA_READS,
            SluiceOption.READ_YOUR_WRITES, SluiceOption.LAG_FALLBACK, SluiceOption.MAX_LAG_MS, SluiceOption.READMIT_LAG_MS,
            SluiceOption.LAG_HOLD_MS, SluiceOption.FAILOVER, SluiceOption.FAILOVER_PROBES, SluiceOption.FAILOVER_MAX_LAG_MS,
            SluiceOption.FAILOVER_HOOK, SluiceOption.SWITCHOVER_HOLD_MS);

    private final ClusterConfig base; // this instance's own file/URL configuration: shared overrides apply on top
    private final Router router;
    private final HealthMonitor monitor;
    private final Failover failover;
    private volatile Map<String, String> applied = Map.of();

    public ClusterSync(ClusterConfig base, Router router, HealthMonitor monitor, Failover failover) {
        this.base = base;
        this.router = router;
        this.monitor = monitor;
        this.failover = failover;
    }

    /**
     * Validates shared option overrides against {@code base}: only {@link #LIVE} options, each value and the
     * whole (e.g. readmit-lag-ms ≤ max-lag-ms) checked like a file. Returns the resulting config.
     */
    public static ClusterConfig validate(ClusterConfig base, Map<String, String> options) {
        for (String k : options.keySet()) {
            SluiceOption o = SluiceOption.byKey(k);
            if (o == null) {
                throw new ConfigException("shared config." + k + ": unknown option");
            }
            if (!LIVE.contains(o)) {
                throw new ConfigException("shared config." + k + ": cannot be changed at run time (shareable: "
                        + String.join(", ", LIVE.stream().map(SluiceOption::key).toList()) + "); change the file and restart");
            }
        }
        return base.withOverrides("shared config", options, Map.of());
    }

    /** The shared overrides this instance applies now. */
    public Map<String, String> appliedOptions() {
        return applied;
    }

    // ---- follower side: remote changes ----

    @Override
    public void topologyChanged(SharedTopology t) {
        String before = router.designatedPrimary();
        long epochBefore = router.epoch();
        if (router.adoptShared(t)) {
            if (t.epoch() != epochBefore || !Objects.equals(before, t.primary())) {
                router.events().add(t.primary(), "epoch", "shared epoch " + t.epoch() + ": primary " + t.primary()
                        + (t.previous() == null ? "" : ", " + t.previous() + " fenced") + " (by " + t.by() + ")");
                log.info("cluster '{}': shared epoch {}: primary {} (by {})", base.name(), t.epoch(), t.primary(), t.by());
            }
        }
        monitor.setCoordinatedDrained(t.drained());
        monitor.probeSoon(); // writes follow the shared primary now, not at the next scheduled round
        router.coordinator().reportApplied(router.epoch(), router.designatedPrimary());
    }

    @Override
    public void optionsChanged(Map<String, String> options) {
        if (options.equals(applied)) {
            return;
        }
        ClusterConfig c;
        try {
            c = validate(base, options);
        } catch (ConfigException e) {
            // the publisher validated; a different local file (other nodes?) can still make it invalid here
            router.events().add(null, "config-rejected", e.getMessage());
            log.warn("cluster '{}': shared config rejected here: {}", base.name(), e.getMessage());
            return;
        }
        router.reconfigure(c);
        monitor.reconfigure(c);
        failover.reconfigure(c);
        applied = Map.copyOf(options);
        router.events().add(null, "config", "shared config applied: " + new java.util.TreeMap<>(options));
        log.info("cluster '{}': shared config applied: {}", base.name(), options);
    }

    @Override
    public void coordinationEvent(String type, String message) {
        router.events().add(null, type, message);
        log.info("cluster '{}': {}: {}", base.name(), type, message);
    }

    // ---- leader side: requests from other instances ----

    @Override
    public FailoverResult handle(Coordinator.Request r) {
        if (!router.coordinator().isLeader()) {
            return new FailoverResult(false, null, router.epoch(), "instance " + router.coordinator().instanceName()
                    + " is not the leader any more: retry", List.of());
        }
        return switch (r.op()) {
            case Coordinator.Request.PROMOTE -> failover.promote(r.node(), r.flag(), "requested through another instance"
                    + (r.flag() ? " (forced)" : ""));
            case Coordinator.Request.SWITCHOVER -> failover.switchover(r.node(), r.flag());
            default -> new FailoverResult(false, null, router.epoch(), "unknown request " + r.op(), List.of());
        };
    }

    // ---- probe rounds: failover detection, then the leader's reconciliation ----

    @Override
    public void afterRound(Topology t, Map<String, ProbeResult> results) {
        failover.afterRound(t, results);
        Coordinator c = router.coordinator();
        if (!c.clustered() || !c.isLeader() || failover.running() || results.isEmpty()) {
            return;
        }
        SharedTopology s = c.current();
        if (s == null || s.primary() == null) {
            if (t.primary() != null) {
                SharedTopology seeded = c.seed(t.primary(), router.epoch());
                if (seeded != null) {
                    topologyChanged(seeded);
                }
            }
            return;
        }
        if (s.epoch() != router.epoch()) {
            return; // this instance has not applied the latest record yet: decide nothing on an old view
        }
        List<String> writable = new ArrayList<>();
        for (Map.Entry<String, ProbeResult> e : results.entrySet()) {
            ProbeResult r = e.getValue();
            if (r.reachable() && r.role() == NodeRole.PRIMARY && router.fencedSince(e.getKey()) == null) {
                writable.add(e.getKey());
            }
        }
        ProbeResult shared = results.get(s.primary());
        if (shared == null || !shared.reachable() || shared.role() != NodeRole.REPLICA) {
            return; // alive and writable (normal), or dead (failover detection's business)
        }
        if (writable.isEmpty()) {
            failover.finishPromotionSoon(s);
        } else if (writable.size() == 1) {
            // promoted behind Sluice's back (an operator, another tool) while the shared primary became a replica
            SharedTopology adopted = c.tryPublishPromotion(s.epoch(), writable.get(0));
            if (adopted != null) {
                router.events().add(writable.get(0), "adopted", "writable while shared primary " + s.primary()
                        + " is a replica: epoch " + adopted.epoch() + " names it primary");
                topologyChanged(adopted);
            }
        }
    }

    @Override
    public void fencedNodeWritable(String node) {
        failover.fencedNodeWritable(node);
    }
}
