package dev.sluice.core.health;

import dev.sluice.core.route.NodeRole;

/**
 * What one probe of one node saw.
 *
 * @param reachable     the node answered within the probe timeout
 * @param role          PRIMARY (writable) or REPLICA; meaningless when unreachable
 * @param roleReason    how the role was decided, e.g. {@code pg_is_in_recovery() = true}
 * @param beat          the heartbeat value visible on this node (microseconds of the heartbeat writer's clock), or null
 * @param beatError     why the heartbeat could not be read, or null
 * @param bytesBehind   PostgreSQL replica: primary LSN minus replay LSN as last seen, or null
 * @param secondsBehind MySQL/MariaDB Seconds_Behind_Master; null when the server reports NULL (never read as 0)
 * @param position      PostgreSQL LSN (replay LSN on a replica, current LSN on the primary) or MariaDB GTID position
 * @param error         why the node was unreachable, or null
 */
public record ProbeResult(boolean reachable, NodeRole role, String roleReason, Long beat, String beatError,
                          Long bytesBehind, Long secondsBehind, String position, String error) {

    public static ProbeResult unreachable(String error) {
        return new ProbeResult(false, NodeRole.DOWN, "unreachable", null, null, null, null, null, error);
    }
}
