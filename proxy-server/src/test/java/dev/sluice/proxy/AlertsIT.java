package dev.sluice.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.sluice.testsupport.DbNode;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Alerts from a real cluster: a replica lagged, recovered and killed, delivered to an in-test webhook, a
 * command appending to a file, and a webhook that refuses connections (which must not stop the others);
 * repeats within the de-duplication window arrive as one alert plus one carrying the count.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AlertsIT {
    static final ObjectMapper json = new ObjectMapper();
    static final long DEDUP_MS = 3000;
    static final ConcurrentLinkedQueue<JsonNode> hooked = new ConcurrentLinkedQueue<>();
    static HttpServer hook;
    static Path commandOut;
    static ProxyFixture f;

    @BeforeAll
    static void start() throws Exception {
        hook = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        hook.createContext("/hook", ex -> {
            try (ex) {
                if (ex.getRequestMethod().equals("POST")
                        && ex.getRequestHeaders().getFirst("Content-Type").startsWith("application/json")) {
                    hooked.add(json.readTree(ex.getRequestBody().readAllBytes()));
                }
                ex.sendResponseHeaders(204, -1);
            }
        });
        hook.start();
        commandOut = Files.createTempFile("sluice-alerts", ".jsonl");
        String proxyExtra = "  alert-webhooks:\n"
                + "    - http://127.0.0.1:" + hook.getAddress().getPort() + "/hook?token=hook-secret\n"
                + "    - http://127.0.0.1:1/refused\n"
                + "  alert-command: \"cat >> '" + commandOut + "' && echo >> '" + commandOut + "'\"\n"
                + "  alert-dedup-ms: " + DEDUP_MS + "\n"
                + "  alert-timeout-ms: 3000\n";
        f = ProxyFixture.start("alerts-pg", 2, null, proxyExtra);
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            if (f != null) {
                f.close();
            }
        } finally {
            hook.stop(0);
            Files.deleteIfExists(commandOut);
        }
    }

    static DbNode node(String name) {
        return f.cluster.nodes().stream().filter(n -> n.name().equals(name)).findFirst().orElseThrow();
    }

    static List<JsonNode> commanded() throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(commandOut)) {
            if (!line.isBlank()) {
                out.add(json.readTree(line));
            }
        }
        return out;
    }

    static Predicate<JsonNode> alert(String kind, String node) {
        return a -> a.path("kind").asText().equals(kind) && a.path("node").asText().equals(node);
    }

    /** Waits for the webhook to have received an alert matching {@code p}; returns the first such one. */
    static JsonNode awaitHooked(String what, Predicate<JsonNode> p) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            for (JsonNode a : hooked) {
                if (p.test(a)) {
                    return a;
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("webhook never got " + what + "; got " + hooked);
    }

    static JsonNode awaitCommanded(String what, Predicate<JsonNode> p) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            for (JsonNode a : commanded()) {
                if (p.test(a)) {
                    return a;
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("command never got " + what + "; got " + commanded());
    }

    @Test
    @Order(1)
    void laggingReplicaAlertsThenItsRecoveryDoes() throws Exception {
        String r = f.replicaNames().get(0);
        long t0 = System.currentTimeMillis();
        f.cluster.pauseReplay(node(r));
        JsonNode lag;
        try {
            lag = awaitHooked("lagging " + r, alert("lagging", r));
        } finally {
            f.cluster.resumeReplay(node(r));
        }
        assertEquals("main", lag.path("cluster").asText());
        assertTrue(List.of("dropped-for-lag", "lagging").contains(lag.path("event").asText()), lag.toString());
        assertTrue(lag.path("message").asText().contains("max-lag"), lag.toString());
        assertEquals(0, lag.path("suppressed").asInt(), lag.toString());
        long at = lag.path("timeMillis").asLong();
        assertTrue(at >= t0 - 1000, lag.toString());
        assertEquals(at, Instant.parse(lag.path("time").asText()).toEpochMilli());
        JsonNode back = awaitHooked("recovered " + r, alert("recovered", r));
        assertEquals("readmitted", back.path("event").asText());
        // the command got the same alerts
        assertEquals(lag, awaitCommanded("lagging " + r, alert("lagging", r)));
        assertEquals(back, awaitCommanded("recovered " + r, alert("recovered", r)));
    }

    @Test
    @Order(2)
    void repeatsWithinTheWindowArriveAsOneAlertAndACount() throws Exception {
        String r = f.replicaNames().get(0);
        Predicate<JsonNode> injected = alert("node-down", r).and(a -> a.path("message").asText().startsWith("injected"));
        for (int i = 0; i < 5; i++) { // as if live traffic kept failing on the node
            f.server.runtime().router().events().add(r, "circuit-open", "injected repeat " + i);
        }
        JsonNode first = awaitHooked("the first repeat", injected);
        assertEquals("injected repeat 0", first.path("message").asText());
        assertEquals("circuit-open", first.path("event").asText());
        assertEquals(0, first.path("suppressed").asInt());
        // the window ends: the latest held back goes out, counting the ones suppressed before it
        JsonNode last = awaitHooked("the trailing alert", injected.and(a -> !a.equals(first)));
        assertEquals("injected repeat 4", last.path("message").asText());
        assertEquals(3, last.path("suppressed").asInt());
        assertTrue(last.path("timeMillis").asLong() >= first.path("timeMillis").asLong());
        // and nothing more for that key: a later, different alert arrives with no third one before it
        f.server.runtime().router().events().add(null, "failover-aborted", "injected sentinel");
        awaitHooked("the sentinel", a -> a.path("message").asText().equals("injected sentinel"));
        assertEquals(2, hooked.stream().filter(injected).count(), hooked.toString());
        Exposition m = new Exposition(f.server.metrics().scrape());
        assertTrue(m.value("sluice_alerts_total", "outcome", "suppressed") >= 4);
        assertTrue(m.value("sluice_alerts_total", "outcome", "sent") >= 4);
        assertTrue(m.value("sluice_alerts_total", "outcome", "failed") >= 4, "the refusing webhook failed each time");
        assertFalse(m.text.contains("hook-secret"));
    }

    @Test
    @Order(3)
    void killedReplicaAlertsNodeDown() throws Exception {
        String r = f.replicaNames().get(1);
        f.cluster.kill(node(r));
        JsonNode down = awaitHooked("node-down " + r, alert("node-down", r));
        assertTrue(List.of("node-down", "circuit-open").contains(down.path("event").asText()), down.toString());
        assertFalse(down.path("message").asText().isBlank());
        assertEquals(down, awaitCommanded("node-down " + r, alert("node-down", r)));
        for (JsonNode a : hooked) {
            assertFalse(a.toString().contains(f.cluster.password()), "an alert carries the cluster password: " + a);
        }
    }
}
