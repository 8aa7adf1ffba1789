package dev.sluice.admin;

import dev.sluice.core.health.EventLog;
import dev.sluice.jdbc.SluiceAdmin;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The read-only JSON API under {@code /api} (docs/admin-api.md): the status snapshot (same content as
 * {@code /status}, which stays for the CLI and existing scripts) and the event log, optionally only events
 * newer than a client's last poll.
 */
final class ApiEndpoints {
    private ApiEndpoints() {
    }

    static Map<String, AdminEndpoints.Endpoint> of(SluiceAdmin admin) {
        Map<String, AdminEndpoints.Endpoint> out = new LinkedHashMap<>();
        out.put("/api/status", new AdminEndpoints.Endpoint("GET", false, List.of(),
                q -> new AdminEndpoints.Reply(200, admin.clusterStatus())));
        out.put("/api/events", new AdminEndpoints.Endpoint("GET", false, List.of("since"),
                q -> new AdminEndpoints.Reply(200, events(admin, since(q)))));
        return out;
    }

    /** Events strictly after {@code sinceMillis} (epoch ms), oldest first. */
    static List<EventLog.Event> events(SluiceAdmin admin, long sinceMillis) {
        return admin.clusterStatus().events().stream().filter(e -> e.timeMillis() > sinceMillis).toList();
    }

    private static long since(QueryParams q) {
        String s = q.optional("since");
        if (s == null) {
            return Long.MIN_VALUE;
        }
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new AdminHttpException(400, "parameter 'since': expected epoch milliseconds, got '" + s + "'");
        }
    }
}
