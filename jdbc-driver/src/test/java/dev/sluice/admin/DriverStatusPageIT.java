package dev.sluice.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.jdbc.SluiceDriver;
import dev.sluice.testsupport.Clusters;
import dev.sluice.testsupport.DbCluster;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The same status page and API served from inside an application through the driver (option
 * {@code status-listen}), with a real PostgreSQL cluster: the driver builds the same AdminServer the proxy uses.
 */
class DriverStatusPageIT {
    static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    static final ObjectMapper json = new ObjectMapper();

    @Test
    void theDriverServesThePageWhenStatusListenIsSet() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        String base = "http://127.0.0.1:" + port;
        try (DbCluster c = Clusters.startPostgres("driver-page", 2)) {
            String hosts = c.nodes().stream().map(n -> n.host() + ":" + n.port()).collect(Collectors.joining(","));
            String url = "jdbc:sluice:postgresql://" + hosts + "/" + c.database() + "?user=" + c.user() + "&password=" + c.password()
                    + "&admin-user=postgres&status-listen=127.0.0.1:" + port + "&status-token=app-token";
            try (Connection conn = DriverManager.getConnection(url)) {
                HttpResponse<String> page = get(base + "/");
                assertEquals(200, page.statusCode());
                assertTrue(page.body().contains("/page/status.js"), page.body());

                // in a URL without names, nodes are named host:port
                String replica = c.replicas().get(0).host() + ":" + c.replicas().get(0).port();
                JsonNode st = awaitNodes(base, 3);
                assertEquals(c.primary().host() + ":" + c.primary().port(), st.get("primary").asText(), st.toString());
                String raw = get(base + "/api/status").body();
                assertFalse(raw.contains(c.password()) || raw.contains("app-token"), "no secret in the API: " + raw);

                assertEquals(401, post(base + "/drain?node=" + replica, null).statusCode(), "actions need the status-token");
                HttpResponse<String> drained = post(base + "/drain?node=" + replica, "app-token");
                assertEquals(200, drained.statusCode(), drained.body());
                assertEquals("DRAINED", node(json.readTree(get(base + "/api/status").body()), replica).get("state").asText());
                assertEquals(200, post(base + "/undrain?node=" + replica, "app-token").statusCode());
                assertTrue(json.readTree(get(base + "/api/events").body()).toString().contains("\"drained\""));
                conn.createStatement().execute("SELECT 1"); // the application's connection works as before
            } finally {
                SluiceDriver.closeAll();
            }
            assertThrows(IOException.class, () -> get(base + "/api/status"), "closing the driver's runtimes stops the page");
        }
    }

    private static JsonNode awaitNodes(String base, int n) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        JsonNode st;
        do {
            st = json.readTree(get(base + "/api/status").body());
            if (st.get("nodes").size() == n && st.get("primary").isTextual()) {
                return st;
            }
            Thread.sleep(100);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("never saw " + n + " nodes and a primary: " + st);
    }

    private static JsonNode node(JsonNode st, String name) {
        for (JsonNode n : st.get("nodes")) {
            if (n.get("name").asText().equals(name)) {
                return n;
            }
        }
        throw new AssertionError("no node " + name + ": " + st);
    }

    private static HttpResponse<String> get(String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> post(String url, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.noBody());
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

}
