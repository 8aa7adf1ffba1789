package dev.sluice.core.route;

import dev.sluice.core.health.NodeState;
import java.util.Objects;

/**
 * One node as the health monitor last saw it.
 *
 * @param role        PRIMARY/REPLICA as discovered by probing (DOWN/UNKNOWN when not answering / not probed)
 * @param state       UP, LAGGING, DOWN or DRAINED
 * @param reason      why it is in that state (shown in logs and on the status page)
 * @param sinceMillis when it entered that state (epoch millis)
 * @param lagMillis   heartbeat lag, null when unknown (or for the primary)
 * @param beat        the heartbeat value it has applied, or null
 * @param position    replay/current LSN (PostgreSQL) or GTID position (MySQL/MariaDB), or null
 */
public record NodeStatus(String name, NodeRole role, NodeState state, String reason, long sinceMillis,
                         Long lagMillis, Long beat, String position) {
    public NodeStatus {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(reason, "reason");
    }

    /** A node with no lag information: UP when it has a role, DOWN otherwise (tests, first probes). */
    public NodeStatus(String name, NodeRole role, String reason, long sinceMillis) {
        this(name, role, role == NodeRole.PRIMARY || role == NodeRole.REPLICA ? NodeState.UP : NodeState.DOWN,
                reason, sinceMillis, role == NodeRole.REPLICA ? 0L : null, null, null);
    }

    public NodeStatus withState(NodeState s, String why, long since) {
        return new NodeStatus(name, role, s, why, since, lagMillis, beat, position);
    }
}
