package dev.sluice.proxy.alert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.sluice.core.health.EventLog;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Delivery without a database: the event log's caller never waits for a receiver; a hung one is cut off. */
class AlertsTest {
    final ObjectMapper json = new ObjectMapper();
    final ConcurrentLinkedQueue<JsonNode> received = new ConcurrentLinkedQueue<>();
    final CountDownLatch release = new CountDownLatch(1);
    final java.util.concurrent.ExecutorService hookThreads = java.util.concurrent.Executors.newCachedThreadPool();
    HttpServer hook;
    URI url;

    @BeforeEach
    void hook() throws Exception {
        hook = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        hook.setExecutor(hookThreads);
        hook.createContext("/", ex -> {
            try (ex) {
                JsonNode a = json.readTree(ex.getRequestBody().readAllBytes());
                if (a.path("message").asText().startsWith("slow")) {
                    release.await(60, TimeUnit.SECONDS); // a receiver that hangs until the test lets it go
                }
                received.add(a);
                ex.sendResponseHeaders(200, -1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        hook.start();
        url = URI.create("http://127.0.0.1:" + hook.getAddress().getPort() + "/hook");
    }

    @AfterEach
    void stop() {
        release.countDown();
        hook.stop(0);
        hookThreads.shutdownNow();
    }

    static void await(String what, BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("never: " + what);
            }
            Thread.sleep(20);
        }
    }

    @Test
    void addingEventsNeverWaitsForAHungReceiver() throws Exception {
        EventLog log = new EventLog(100);
        try (Alerts alerts = new Alerts("c", new AlertSettings(List.of(url), null, 0, 30_000), log, json)) {
            log.add("n1", "node-down", "slow receiver");
            // if add() waited for delivery, this thread would hang here: only it releases the receiver
            for (int i = 0; i < 20; i++) {
                log.add("n" + i, "readmitted", "quick " + i);
            }
            log.add("n1", "role-change", "not an alert");
            release.countDown();
            // the receiver has an alert before the worker counts it as sent: wait for both
            await("all 21 alerts received and counted", () -> received.size() == 21 && alerts.sent() == 21);
            assertEquals("slow receiver", received.peek().path("message").asText(), "in order");
            assertTrue(received.stream().noneMatch(a -> a.path("event").asText().equals("role-change")));
            JsonNode last = received.stream().reduce((a, b) -> b).orElseThrow();
            assertEquals("recovered", last.path("kind").asText());
            assertEquals("c", last.path("cluster").asText());
        }
    }

    @Test
    void aHungCommandIsKilledAtTheTimeoutAndTheNextAlertStillGoesOut() throws Exception {
        EventLog log = new EventLog(100);
        try (Alerts alerts = new Alerts("c", new AlertSettings(List.of(url), "cat > /dev/null; sleep 60", 0, 300), log, json)) {
            log.add("n1", "node-down", "first");
            log.add("n2", "node-down", "second");
            // sent: each reached the webhook, though its command run failed
            await("both delivered to the webhook, both command runs failed",
                    () -> received.size() == 2 && alerts.failed() == 2 && alerts.sent() == 2);
        }
    }

    @Test
    void aClosedAlertsNoLongerListens() throws Exception {
        EventLog log = new EventLog(100);
        Alerts alerts = new Alerts("c", new AlertSettings(List.of(url), null, 0, 1000), log, json);
        alerts.close();
        log.add("n1", "node-down", "after close");
        assertEquals(0, alerts.sent());
        assertEquals(0, received.size());
    }
}
