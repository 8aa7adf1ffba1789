package dev.sluice.core.health;

import java.util.List;
import java.util.Map;

/**
 * A point-in-time view of one cluster for status pages, metrics and the CLI: nodes with role, state,
 * reason, lag now and over the last 10 minutes, statements routed, breaker state; fallbacks by reason;
 * the bounded event log.
 *
 * @param heartbeat   null when lag is measurable, else why it is unknown
 * @param unparsedTop the most frequent unparsed statements by digest (literals replaced by {@code ?})
 * @param coordination cluster mode: instances, leader, each one's epoch (mode {@code local} otherwise)
 * @param cache       the read cache's counters (docs/cache.md); {@code enabled} false when it is off
 */
public record ClusterStatus(String cluster, String engine, String primary, String noPrimaryReason,
                            List<NodeView> nodes, Map<String, Long> fallbacks, long unparsed,
                            List<dev.sluice.core.sql.UnparsedDigests.Digest> unparsedTop,
                            String heartbeat, List<EventLog.Event> events,
                            dev.sluice.core.coord.CoordinationStatus coordination, dev.sluice.core.cache.CacheStats cache) {

    /** One node. Lag fields are null when unknown or not applicable (the primary). */
    public record NodeView(String name, String role, String state, String reason, long sinceMillis,
                           Long lagMillis, List<LagHistory.Sample> lagHistory, long routed, String circuit,
                           Long bytesBehind, Long secondsBehind, String position, Integer openConnections) {
    }

    public NodeView node(String name) {
        for (NodeView n : nodes) {
            if (n.name().equals(name)) {
                return n;
            }
        }
        return null;
    }
}
