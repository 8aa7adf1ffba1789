package dev.sluice.proxy.alert;

import java.util.Map;

/**
 * Which cluster events are worth waking someone for, and under which alert kind. Several event types are one
 * incident to a reader (a node's circuit opening on live traffic and its probes failing are both "node-down"),
 * so they share a kind and so a de-duplication window. Everything else in the event log (candidates, steps of
 * a failover in progress, role changes) stays on the status page.
 */
final class AlertKinds {
    private static final Map<String, String> BY_EVENT = Map.ofEntries(
            Map.entry("node-down", "node-down"),
            Map.entry("circuit-open", "node-down"),
            Map.entry("dropped-for-lag", "lagging"),
            Map.entry("lagging", "lagging"),
            Map.entry("readmitted", "recovered"),
            Map.entry("node-up", "recovered"),
            Map.entry("failover-started", "failover-started"),
            Map.entry("failover-finished", "failover-finished"),
            Map.entry("failover-aborted", "failover-aborted"),
            Map.entry("switchover-started", "switchover-started"),
            Map.entry("switchover-finished", "switchover-finished"),
            Map.entry("fence-failed", "fence-failed"));

    private AlertKinds() {
    }

    /** The alert kind of an event type, or null when the event does not alert. */
    static String of(String eventType) {
        return BY_EVENT.get(eventType);
    }
}
