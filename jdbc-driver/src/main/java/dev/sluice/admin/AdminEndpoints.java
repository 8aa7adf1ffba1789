package dev.sluice.admin;

import dev.sluice.core.failover.FailoverResult;
import dev.sluice.jdbc.SluiceAdmin;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.List;
import java.util.function.Function;

/**
 * What each admin endpoint does with the cluster runtime and which HTTP status its outcome gets. The HTTP
 * plumbing (methods, the token, writing the reply) is {@link AdminServer}'s.
 */
public final class AdminEndpoints {
    /** An answer: a String body is sent as text/plain, anything else as JSON. */
    public record Reply(int status, Object body) {
    }

    /** One endpoint: its method, whether it changes the cluster (then it needs the token), its parameters. */
    public record Endpoint(String method, boolean mutating, List<String> params, Function<QueryParams, Reply> action) {
    }

    private final SluiceAdmin admin;
    private final Map<String, Endpoint> byPath = new LinkedHashMap<>();

    AdminEndpoints(SluiceAdmin admin) {
        this.admin = admin;
        byPath.put("/health", new Endpoint("GET", false, List.of(), q -> health()));
        byPath.put("/status", new Endpoint("GET", false, List.of(), q -> new Reply(200, admin.clusterStatus())));
        byPath.put("/drain", new Endpoint("POST", true, List.of("node"), q -> drain(q, true)));
        byPath.put("/undrain", new Endpoint("POST", true, List.of("node"), q -> drain(q, false)));
        byPath.put("/promote", new Endpoint("POST", true, List.of("node", "force"), this::promote));
        byPath.put("/switchover", new Endpoint("POST", true, List.of("to", "dryRun"), this::switchover));
        byPath.put("/config", new Endpoint("POST", true, List.of("option", "value"), this::setOption));
        byPath.put("/api/config", new Endpoint("GET", false, List.of(), q -> new Reply(200, Map.of("shared", admin.sharedConfig()))));
        byPath.putAll(ApiEndpoints.of(admin));
        byPath.putAll(StatusPage.assets());
    }

    // ---- endpoints the proxy adds to the table (GET /metrics) ----

    /** A text body sent with its own content type (e.g. the Prometheus exposition format). */
    record Text(String contentType, String text) {
    }

    void add(String path, Endpoint e) {
        byPath.put(path, e);
    }

    /**
     * A sharded proxy's admin API: every shard's endpoints under {@code /shards/NAME} (its status page at
     * {@code /shards/NAME/}, {@code /shards/NAME/api/status}, {@code POST /shards/NAME/switchover} …, so the CLI's
     * {@code --admin http://host:port/shards/NAME} steers one shard), plus at the root an index of the shards
     * ({@code GET /}, {@code GET /api/shards}) and {@code GET /health}, 200 only when every shard is.
     */
    static AdminEndpoints sharded(Map<String, SluiceAdmin> shards) {
        if (shards.isEmpty()) {
            throw new IllegalArgumentException("admin API: a sharded database with no shards");
        }
        AdminEndpoints root = new AdminEndpoints(shards.values().iterator().next());
        root.byPath.clear();
        Map<String, AdminEndpoints> each = new LinkedHashMap<>();
        shards.forEach((name, admin) -> {
            AdminEndpoints e = new AdminEndpoints(admin);
            each.put(name, e);
            String prefix = "/shards/" + name;
            e.byPath.forEach((path, ep) -> {
                if (!path.startsWith("/page/")) { // the page's assets are the same for every shard: served once at the root
                    root.byPath.put(prefix + path, ep);
                }
            });
            root.byPath.put(prefix, e.byPath.get("/")); // the page without the trailing slash too
        });
        root.byPath.putAll(StatusPage.assets());
        root.byPath.put("/", new Endpoint("GET", false, List.of(), q -> new Reply(200, new Text("text/html; charset=utf-8",
                ShardIndex.html(shards)))));
        root.byPath.put("/api/shards", new Endpoint("GET", false, List.of(), q -> new Reply(200, ShardIndex.summary(shards))));
        root.byPath.put("/health", new Endpoint("GET", false, List.of(), q -> {
            StringBuilder sick = new StringBuilder();
            each.forEach((name, e) -> {
                Reply r = e.health();
                if (r.status() != 200) {
                    sick.append("shard ").append(name).append(": ").append(r.body());
                }
            });
            return sick.length() == 0 ? new Reply(200, "ok\n") : new Reply(503, sick.toString());
        }));
        return root;
    }

    /** The endpoint at {@code path}, or null. */
    Endpoint at(String path) {
        return byPath.get(path);
    }

    /** Adds (or replaces) the endpoint at {@code path}: for embedders such as the demo. */
    void put(String path, Endpoint endpoint) {
        byPath.put(path, endpoint);
    }

    /**
     * 200 {@code ok}, or 503 while cluster mode's fail-safe refuses writes (ZooKeeper lost for longer than the
     * grace period): a load balancer's health check then sends clients to an instance that can write.
     */
    private Reply health() {
        dev.sluice.core.coord.CoordinationStatus c = admin.clusterStatus().coordination();
        if (c != null && !c.writesAllowed()) {
            return new Reply(503, "writes refused: " + c.writesRefusedReason() + "\n");
        }
        return new Reply(200, "ok\n");
    }

    /** Cluster mode: sets (or without {@code value} removes) a shared option, validated before it is published. */
    private Reply setOption(QueryParams q) {
        String option = q.required("option");
        String value = q.optional("value");
        Map<String, String> shared;
        try {
            shared = admin.setSharedOption(option, value);
        } catch (dev.sluice.core.config.ConfigException e) {
            throw new AdminHttpException(400, e.getMessage());
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("shared", shared);
        body.put("message", value == null ? "removed shared " + option : "shared " + option + " = " + value);
        return new Reply(200, body);
    }

    private Reply drain(QueryParams q, boolean drained) {
        String node = checkedNode(q, "node", true);
        admin.drain(node, drained); // IllegalStateException (e.g. no primary to record it on) becomes a 409
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("node", node);
        body.put("drained", drained);
        body.put("message", (drained ? "drained " : "undrained ") + node);
        return new Reply(200, body);
    }

    private Reply promote(QueryParams q) {
        String node = checkedNode(q, "node", false);
        boolean force = q.bool("force", false);
        FailoverResult r = admin.promote(node, force);
        return result(r, r.promoted());
    }

    private Reply switchover(QueryParams q) {
        String to = checkedNode(q, "to", false);
        boolean dryRun = q.bool("dryRun", false);
        FailoverResult r = admin.switchover(to, dryRun);
        // a dry run promotes nothing by design: it succeeded when it found a target
        return result(r, dryRun ? r.newPrimary() != null : r.promoted());
    }

    /** 200 with the result when done; 409 with the same result plus "error" when refused or rolled back. */
    private static Reply result(FailoverResult r, boolean done) {
        if (done) {
            return new Reply(200, r);
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("promoted", r.promoted());
        body.put("newPrimary", r.newPrimary());
        body.put("epoch", r.epoch());
        body.put("message", r.message());
        body.put("steps", r.steps());
        body.put("error", r.message());
        return new Reply(409, body);
    }

    private String checkedNode(QueryParams q, String param, boolean required) {
        String node = required ? q.required(param) : q.optional(param);
        if (node != null) {
            String problem = NodeNames.problem(admin.clusterStatus(), node);
            if (problem != null) {
                throw new AdminHttpException(400, "parameter '" + param + "': " + problem);
            }
        }
        return node;
    }
}
