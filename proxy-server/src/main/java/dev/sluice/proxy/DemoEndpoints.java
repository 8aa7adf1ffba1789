package dev.sluice.proxy;

import dev.sluice.admin.AdminEndpoints;
import dev.sluice.admin.AdminHttpException;
import dev.sluice.admin.QueryParams;
import dev.sluice.testsupport.DbCluster;
import dev.sluice.testsupport.DbNode;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Demo-only admin endpoints, registered only by {@code ./sluice demo} (never by a configured proxy):
 * {@code GET /demo} tells the status page to show its "delay a replica" form, {@code POST /demo/lag?node=&ms=}
 * sets the replica's apply delay, so a new user can watch it leave the read set and come back. No token:
 * it acts on the demo's own throwaway cluster on loopback, and friction there teaches nothing.
 */
final class DemoEndpoints {
    /** Ten minutes: the chart's width; more would only hide the recovery. */
    static final long MAX_DELAY_MS = 600_000;

    private DemoEndpoints() {
    }

    static Map<String, AdminEndpoints.Endpoint> of(DbCluster cluster) {
        Map<String, AdminEndpoints.Endpoint> out = new LinkedHashMap<>();
        out.put("/demo", new AdminEndpoints.Endpoint("GET", false, List.of(), q -> new AdminEndpoints.Reply(200,
                Map.of("demo", true, "replicas", cluster.replicas().stream().map(DbNode::name).toList()))));
        out.put("/demo/lag", new AdminEndpoints.Endpoint("POST", false, List.of("node", "ms"), q -> lag(cluster, q)));
        return out;
    }

    private static AdminEndpoints.Reply lag(DbCluster cluster, QueryParams q) {
        String node = q.required("node");
        DbNode replica = cluster.replicas().stream().filter(n -> n.name().equals(node)).findFirst()
                .orElseThrow(() -> new AdminHttpException(400, "parameter 'node': '" + node + "' is not a replica of the demo cluster ("
                        + cluster.replicas().stream().map(DbNode::name).toList() + ")"));
        long ms;
        try {
            ms = Long.parseLong(q.required("ms"));
        } catch (NumberFormatException e) {
            throw new AdminHttpException(400, "parameter 'ms': expected milliseconds, got '" + q.optional("ms") + "'");
        }
        if (ms < 0 || ms > MAX_DELAY_MS) {
            throw new AdminHttpException(400, "parameter 'ms': expected 0.." + MAX_DELAY_MS + ", got " + ms);
        }
        cluster.setApplyDelay(replica, Duration.ofMillis(ms));
        return new AdminEndpoints.Reply(200, Map.of("node", node, "applyDelayMs", ms,
                "message", ms == 0 ? node + " replays at once again" : node + " now replays " + ms + " ms late"));
    }
}
