package dev.sluice.proxy.alert;

import dev.sluice.core.health.EventLog;
import java.time.Instant;

/**
 * What a receiver gets, as JSON: the alert kind, the cluster event behind it, and how many alerts of the same
 * kind for the same node were suppressed since the previous one sent.
 *
 * @param event the event log's type (e.g. {@code circuit-open} for kind {@code node-down})
 * @param node  null for cluster-wide events (a failover starting)
 */
public record Alert(String cluster, String kind, String event, String node, String message, String time, long timeMillis,
                    int suppressed) {

    static Alert of(String cluster, String kind, EventLog.Event e, int suppressed) {
        return new Alert(cluster, kind, e.type(), e.node(), e.message(), Instant.ofEpochMilli(e.timeMillis()).toString(),
                e.timeMillis(), suppressed);
    }
}
