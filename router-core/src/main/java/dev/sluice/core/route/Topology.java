package dev.sluice.core.route;

import dev.sluice.core.health.NodeState;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Immutable snapshot of a cluster's nodes and roles. Replaced as a whole when probes see a change, so a
 * routing decision always reads one consistent view.
 *
 * <p>Exactly one writable node makes a primary. Zero or several writable nodes mean "no primary": writes
 * fail with a clear error instead of guessing (two writable nodes is a split brain until an operator or a
 * failover says otherwise).
 */
public final class Topology {
    private final List<NodeStatus> nodes;
    private final String primary;
    private final String noPrimaryReason;
    private final List<String> replicas;
    private final List<NodeStatus> readCandidates;

    private Topology(List<NodeStatus> nodes) {
        this.nodes = List.copyOf(nodes);
        List<String> writable = new ArrayList<>();
        List<String> reps = new ArrayList<>();
        List<NodeStatus> candidates = new ArrayList<>();
        for (NodeStatus n : nodes) {
            if (n.role() == NodeRole.PRIMARY && n.state() != NodeState.DOWN && n.state() != NodeState.DRAINED) {
                writable.add(n.name());
            } else if (n.role() == NodeRole.REPLICA && n.state() == NodeState.UP) {
                reps.add(n.name());
            }
            if (n.role() == NodeRole.REPLICA && (n.state() == NodeState.UP || n.state() == NodeState.LAGGING)) {
                candidates.add(n);
            }
        }
        this.readCandidates = List.copyOf(candidates);
        if (writable.size() == 1) {
            primary = writable.get(0);
            noPrimaryReason = null;
        } else {
            primary = null;
            noPrimaryReason = writable.isEmpty()
                    ? "no writable node (" + describe() + ")"
                    : "several writable nodes " + writable + ": refusing to guess";
        }
        this.replicas = List.copyOf(reps);
    }

    public static Topology of(List<NodeStatus> nodes) {
        return new Topology(nodes);
    }

    /** A topology where no node has been probed yet. */
    public static Topology unknown(List<String> nodeNames) {
        long now = System.currentTimeMillis();
        return new Topology(nodeNames.stream().map(n -> new NodeStatus(n, NodeRole.UNKNOWN, "not probed yet", now)).toList());
    }

    public List<NodeStatus> nodes() {
        return nodes;
    }

    /** The primary's node name, or null (see {@link #noPrimaryReason()}). */
    public String primary() {
        return primary;
    }

    public String noPrimaryReason() {
        return noPrimaryReason;
    }

    /** Reachable replicas, in the read set (UP) or not (LAGGING), with their lag: for fallbacks. */
    public List<NodeStatus> readCandidates() {
        return readCandidates;
    }

    /** This topology with one node's state replaced (e.g. its circuit breaker just opened). */
    public Topology withState(String node, NodeState state, String why) {
        long now = System.currentTimeMillis();
        return new Topology(nodes.stream().map(n -> n.name().equals(node) ? n.withState(state, why, now) : n).toList());
    }

    /** Healthy replicas (UP), in configuration order. */
    public List<String> replicas() {
        return replicas;
    }

    public NodeStatus status(String node) {
        for (NodeStatus n : nodes) {
            if (n.name().equals(node)) {
                return n;
            }
        }
        return null;
    }

    public String describe() {
        return nodes.stream().map(n -> n.name() + " " + n.role() + "/" + n.state() + " (" + n.reason() + ")")
                .collect(Collectors.joining(", "));
    }

    @Override
    public String toString() {
        return "Topology{primary=" + primary + ", replicas=" + replicas + ", nodes=[" + describe() + "]}";
    }
}
