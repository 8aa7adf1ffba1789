package dev.sluice.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.proxy.pg.PgProxy;
import dev.sluice.testsupport.Clusters;
import dev.sluice.testsupport.DbCluster;
import dev.sluice.testsupport.DbNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The admin API of a sharded proxy against real servers: two PostgreSQL shards (each a primary and a replica)
 * behind one proxy in sharded mode; every shard's status and actions under {@code /shards/NAME}, the index at the
 * root, and the CLI steering one shard with {@code --admin URL/shards/NAME}.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ShardedAdminIT {
    static final String TOKEN = "shard-admin-token";
    static final List<DbCluster> CLUSTERS = new ArrayList<>();
    static ProxyServer server;
    static Path config;
    static String admin;
    static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    static final ObjectMapper json = new ObjectMapper();

    @BeforeAll
    static void start() throws Exception {
        CLUSTERS.add(Clusters.startPostgres("sadm1", 1));
        CLUSTERS.add(Clusters.startPostgres("sadm2", 1));
        StringBuilder y = new StringBuilder("clusters:\n");
        for (int i = 0; i < CLUSTERS.size(); i++) {
            DbCluster c = CLUSTERS.get(i);
            y.append("  c").append(i + 1).append(":\n    engine: postgresql\n    database: ").append(c.database())
                    .append("\n    user: ").append(c.user()).append("\n    password: ").append(c.password())
                    .append("\n    admin-user: postgres\n    failover: off\n    nodes:\n");
            for (DbNode n : c.nodes()) {
                y.append("      - { name: ").append(n.name()).append(", host: ").append(n.host()).append(", port: ").append(n.port()).append(" }\n");
            }
        }
        y.append("databases:\n  app:\n    shards: [ { name: s1, cluster: c1 }, { name: s2, cluster: c2 } ]\n")
                .append("    tables:\n      orders: { key: customer_id, strategy: hash }\n")
                .append("proxy:\n  database: app\n  listen: 127.0.0.1:0\n  admin-listen: 127.0.0.1:0\n  admin-token: ").append(TOKEN)
                .append("\n  users:\n    - { name: app, password: \"").append(PgProxy.scramVerifier("app-secret")).append("\" }\n");
        config = Files.createTempFile("sluice-sharded-admin", ".yaml");
        Files.writeString(config, y);
        server = new ProxyServer(ProxyConfig.load(config));
        admin = "http://127.0.0.1:" + server.adminAddress().getPort();
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.close();
        }
        for (DbCluster c : CLUSTERS) {
            c.close();
        }
        if (config != null) {
            Files.deleteIfExists(config);
        }
    }

    static HttpResponse<String> request(String method, String path, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(admin + path)).method(method, HttpRequest.BodyPublishers.noBody());
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Polls GET path until its JSON satisfies the check or 20 s pass (the health monitor needs a few probes). */
    static JsonNode await(String path, java.util.function.Predicate<JsonNode> ok) throws Exception {
        long deadline = System.nanoTime() + 20_000_000_000L;
        JsonNode last = null;
        while (System.nanoTime() < deadline) {
            HttpResponse<String> r = request("GET", path, null);
            if (r.statusCode() == 200) {
                last = json.readTree(r.body());
                if (ok.test(last)) {
                    return last;
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError(path + " never satisfied the check; last: " + last);
    }

    static boolean inRecovery(DbCluster c, DbNode n) throws Exception {
        try (Connection conn = c.connectAdmin(n); Statement st = conn.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    @Test
    @Order(1)
    void theIndexListsEveryShardWithItsPrimary() throws Exception {
        JsonNode shards = await("/api/shards", j -> j.size() == 2 && j.get(0).get("nodesUp").asInt() == 2 && j.get(1).get("nodesUp").asInt() == 2);
        for (int i = 0; i < 2; i++) {
            JsonNode s = shards.get(i);
            assertEquals("s" + (i + 1), s.get("shard").asText());
            assertEquals("c" + (i + 1), s.get("cluster").asText());
            assertEquals(CLUSTERS.get(i).primary().name(), s.get("primary").asText(), s.toString());
        }
        HttpResponse<String> page = request("GET", "/", null);
        assertEquals(200, page.statusCode());
        assertTrue(page.body().contains("href=\"/shards/s2/\""), page.body());
        HttpResponse<String> health = request("GET", "/health", null);
        assertEquals(200, health.statusCode(), health.body());
    }

    @Test
    @Order(2)
    void eachShardHasItsOwnStatusPageAndApi() throws Exception {
        for (int i = 0; i < 2; i++) {
            JsonNode st = json.readTree(request("GET", "/shards/s" + (i + 1) + "/api/status", null).body());
            assertEquals("c" + (i + 1), st.get("cluster").asText());
            List<String> names = new ArrayList<>();
            st.get("nodes").forEach(n -> names.add(n.get("name").asText()));
            assertEquals(CLUSTERS.get(i).nodes().stream().map(DbNode::name).toList(), names);
        }
        HttpResponse<String> page = request("GET", "/shards/s1/", null);
        assertEquals(200, page.statusCode());
        assertTrue(page.body().contains("/page/status.js"), "the shard's page is the status page");
        assertEquals(200, request("GET", "/page/status.js", null).statusCode());
        assertEquals(200, request("GET", "/shards/s1/metrics", null).statusCode());
        // in a browser, the shard's page polls that shard's API (its path, not the root's) and shows its nodes
        assertTrue(Chromium.installed(), "chromium and chromium-driver not installed (run bin/install-prereqs)"); // fail, never skip
        try (Chromium browser = new Chromium(1280, 1000)) {
            browser.open(admin + "/shards/s2/");
            JsonNode shown = browser.await("shard s2's snapshot", "return window.sluice && window.sluice.status && window.sluice.status.cluster",
                    v -> v.isTextual() && v.asText().equals("c2"), java.time.Duration.ofSeconds(20));
            assertEquals("c2", shown.asText());
        }
        HttpResponse<String> none = request("GET", "/shards/s9/api/status", null);
        assertEquals(404, none.statusCode());
        assertTrue(none.body().contains("/shards/NAME"), none.body());
    }

    @Test
    @Order(3)
    void actionsNeedTheTokenAndSteerOnlyTheirShard() throws Exception {
        DbCluster c2 = CLUSTERS.get(1);
        DbNode target = c2.replicas().get(0);
        assertEquals(401, request("POST", "/shards/s2/switchover?to=" + target.name(), null).statusCode());
        AdminApiIT.Run r = AdminApiIT.sluice("switchover", "--to", target.name(), "--admin", admin + "/shards/s2", "--token", TOKEN);
        assertEquals(0, r.exit(), r.all());
        assertTrue(r.out().contains("switched over to " + target.name()), r.out());
        assertFalse(inRecovery(c2, target), "shard s2's replica is its primary now");
        DbCluster c1 = CLUSTERS.get(0);
        assertFalse(inRecovery(c1, c1.primary()), "shard s1 is untouched");
        assertTrue(inRecovery(c1, c1.replicas().get(0)), "shard s1 is untouched");
        await("/api/shards", j -> j.get(1).get("primary").asText().equals(target.name()) && j.get(0).get("primary").asText().equals(c1.primary().name()));
        AdminApiIT.Run s = AdminApiIT.sluice("status", "--admin", admin + "/shards/s2");
        assertEquals(0, s.exit(), s.all());
        assertTrue(s.out().contains("primary: " + target.name()), s.out());
    }
}
