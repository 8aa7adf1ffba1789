package dev.sluice.admin;

import dev.sluice.core.health.ClusterStatus;
import java.util.stream.Collectors;

/**
 * Checks a node name against the cluster before acting on it: the runtime would record a drain for a
 * name it does not know before noticing, and an operator's typo deserves the list of real names.
 */
public final class NodeNames {
    private NodeNames() {
    }

    /** Null when {@code node} is a node of the cluster, else what is wrong with it. */
    public static String problem(ClusterStatus status, String node) {
        if (status.node(node) != null) {
            return null;
        }
        return "no node '" + node + "' in cluster '" + status.cluster() + "' (nodes: "
                + status.nodes().stream().map(ClusterStatus.NodeView::name).collect(Collectors.joining(", ")) + ")";
    }
}
