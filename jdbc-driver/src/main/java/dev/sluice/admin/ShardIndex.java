package dev.sluice.admin;

import dev.sluice.core.health.ClusterStatus;
import dev.sluice.jdbc.SluiceAdmin;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The root of a sharded proxy's admin API: which shards there are, each one's primary and how many of its nodes
 * serve ({@code GET /api/shards}), and a small page linking each shard's own status page ({@code GET /}).
 */
final class ShardIndex {
    private ShardIndex() {
    }

    static List<Map<String, Object>> summary(Map<String, SluiceAdmin> shards) {
        List<Map<String, Object>> out = new ArrayList<>();
        shards.forEach((name, admin) -> {
            ClusterStatus s = admin.clusterStatus();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("shard", name);
            m.put("cluster", s.cluster());
            m.put("engine", s.engine());
            m.put("primary", s.primary());
            m.put("noPrimaryReason", s.noPrimaryReason());
            m.put("nodes", s.nodes().size());
            m.put("nodesUp", s.nodes().stream().filter(n -> "up".equalsIgnoreCase(n.state())).count());
            m.put("status", "/shards/" + name + "/api/status");
            out.add(m);
        });
        return out;
    }

    /** Plain HTML, no script: names come from the validated config but are escaped anyway. */
    static String html(Map<String, SluiceAdmin> shards) {
        StringBuilder b = new StringBuilder("<!doctype html><html><head><meta charset=\"utf-8\"><title>Sluice shards</title>"
                + "<link rel=\"stylesheet\" href=\"/page/status.css\"></head><body><main><h1>Sluice — sharded database</h1><table>"
                + "<thead><tr><th>shard</th><th>cluster</th><th>primary</th><th>nodes up</th></tr></thead><tbody>");
        for (Map<String, Object> s : summary(shards)) {
            String name = esc(String.valueOf(s.get("shard")));
            b.append("<tr><td><a href=\"/shards/").append(name).append("/\">").append(name).append("</a></td><td>")
                    .append(esc(String.valueOf(s.get("cluster")))).append("</td><td>")
                    .append(s.get("primary") == null ? "none: " + esc(String.valueOf(s.get("noPrimaryReason"))) : esc(String.valueOf(s.get("primary"))))
                    .append("</td><td>").append(s.get("nodesUp")).append('/').append(s.get("nodes")).append("</td></tr>");
        }
        return b.append("</tbody></table></main></body></html>").toString();
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
