package dev.sluice.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.testsupport.DbNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * GET /metrics against a real cluster: the exposition is scraped and parsed, and its values are checked
 * against what the test did (statements run, replay paused, a replica killed). One cluster for the class:
 * the destructive steps run last.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MetricsIT {
    static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    static ProxyFixture f;

    @BeforeAll
    static void start() throws Exception {
        f = ProxyFixture.start("metrics-pg", 2, null, null);
    }

    @AfterAll
    static void stop() {
        if (f != null) {
            f.close();
        }
    }

    static Exposition scrape() throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + f.server.adminAddress().getPort()
                + "/metrics")).timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("text/plain; version=0.0.4; charset=utf-8", r.headers().firstValue("Content-Type").orElse(null));
        return new Exposition(r.body());
    }

    /** Scrapes until {@code done} holds (the monitor acts on its own schedule); fails with the last scrape. */
    static Exposition awaitScrape(String what, Predicate<Exposition> done) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        Exposition e = scrape();
        while (!done.test(e)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("metrics never showed " + what + ":\n" + e.text);
            }
            Thread.sleep(100);
            e = scrape();
        }
        return e;
    }

    static DbNode node(String name) {
        return f.cluster.nodes().stream().filter(n -> n.name().equals(name)).findFirst().orElseThrow();
    }

    static Connection connect() throws Exception {
        return DriverManager.getConnection(f.jdbcUrl(), ProxyFixture.USER, ProxyFixture.PASSWORD);
    }

    @Test
    @Order(1)
    void routedCountersRiseOnTheNodesThatRanTheStatementsAndLatencyIsRecorded() throws Exception {
        Exposition before = scrape();
        Map<String, Integer> ranOn = new HashMap<>();
        int reads = 40;
        int writes = 10;
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS metrics_t (x int)");
            for (int i = 0; i < writes - 1; i++) {
                st.execute("INSERT INTO metrics_t VALUES (" + i + ")");
            }
            ranOn.merge(f.primaryName(), writes, Integer::sum);
            for (int i = 0; i < reads; i++) {
                try (ResultSet rs = st.executeQuery("SELECT inet_server_port()")) {
                    rs.next();
                    ranOn.merge(f.node(rs.getInt(1)), 1, Integer::sum);
                }
            }
            Exposition during = scrape();
            assertTrue(during.value("sluice_client_connections") >= 1, "a client is connected");
            assertTrue(during.value("sluice_backend_connections", "node", f.primaryName()) >= 1, "a backend on the primary");
        }
        Exposition after = scrape();
        int replicaReads = 0;
        for (String n : f.replicaNames()) {
            replicaReads += ranOn.getOrDefault(n, 0);
        }
        assertTrue(replicaReads > 0, "reads went to replicas: " + ranOn);
        double totalCycles = 0;
        for (DbNode n : f.cluster.nodes()) {
            double delta = after.value("sluice_routed_statements_total", "node", n.name())
                    - before.value("sluice_routed_statements_total", "node", n.name());
            int ran = ranOn.getOrDefault(n.name(), 0);
            // at least what the server says ran there (the driver may add its own statements, never fewer)
            assertTrue(delta >= ran, n.name() + ": routed +" + delta + " but " + ran + " ran there; " + ranOn);
            if (ran == 0) {
                assertTrue(delta <= 2, n.name() + " ran none of the test's statements yet was routed +" + delta);
            }
            double cycles = after.value("sluice_statement_duration_seconds_count", "node", n.name())
                    - before.value("sluice_statement_duration_seconds_count", "node", n.name());
            assertEquals(after.value("sluice_statement_duration_seconds_bucket", "node", n.name(), "le", "+Inf"),
                    after.value("sluice_statement_duration_seconds_count", "node", n.name()), "the +Inf bucket is the count");
            totalCycles += cycles;
        }
        assertTrue(totalCycles >= reads + writes, "every statement cycle timed: " + totalCycles);
        assertTrue(after.value("sluice_statement_duration_seconds_sum", "node", f.primaryName()) > 0);
        double lookups = after.value("sluice_parse_cache_requests_total", "result", "hit")
                + after.value("sluice_parse_cache_requests_total", "result", "miss");
        assertTrue(lookups > 0, "the classifier's cache was used");
        double ratio = after.value("sluice_parse_cache_hit_ratio");
        assertTrue(ratio > 0 && ratio <= 1, "hit ratio " + ratio + " (the same SELECT text repeats)");
        assertEquals(0.0, after.value("sluice_failovers_total"));
        assertEquals("UP", after.state(f.primaryName()));
        assertEquals(1.0, after.value("sluice_node_role", "node", f.primaryName(), "role", "PRIMARY"));
    }

    @Test
    @Order(2)
    void pausedReplayShowsAsLagOverASecondAndLagging() throws Exception {
        String r = f.replicaNames().get(0);
        f.cluster.pauseReplay(node(r));
        try {
            try (Connection c = connect(); Statement st = c.createStatement()) {
                st.execute("CREATE TABLE IF NOT EXISTS metrics_t (x int)");
                st.execute("INSERT INTO metrics_t VALUES (42)");
            }
            Exposition e = awaitScrape(r + " lagging by more than 1 s",
                    x -> x.value("sluice_node_lag_seconds", "node", r) > 1.0 && x.state(r).equals("LAGGING"));
            assertEquals(0.0, e.value("sluice_node_state", "node", r, "state", "UP"));
            assertEquals("UP", e.state(f.replicaNames().get(1)), "the other replica is unaffected");
        } finally {
            f.cluster.resumeReplay(node(r));
        }
        Exposition back = awaitScrape(r + " readmitted", x -> x.state(r).equals("UP"));
        assertTrue(back.value("sluice_node_lag_seconds", "node", r) < 1.0);
    }

    @Test
    @Order(3)
    void killedReplicaIsDownAndItsErrorsRise() throws Exception {
        String r = f.replicaNames().get(1);
        Exposition before = scrape();
        double probeErrors = before.value("sluice_node_errors_total", "node", r, "kind", "probe");
        f.cluster.kill(node(r));
        Exposition e = awaitScrape(r + " DOWN", x -> x.state(r).equals("DOWN"));
        assertTrue(e.value("sluice_node_errors_total", "node", r, "kind", "probe") > probeErrors, "failed probes counted");
        assertTrue(e.value("sluice_node_down_total", "node", r) >= 1);
        assertEquals("UP", e.state(f.primaryName()));
        // reads keep working on what is left, and are not counted on the dead node
        double routedDead = e.value("sluice_routed_statements_total", "node", r);
        try (Connection c = connect(); Statement st = c.createStatement()) {
            for (int i = 0; i < 10; i++) {
                try (ResultSet rs = st.executeQuery("SELECT 1")) {
                    rs.next();
                }
            }
        }
        assertEquals(routedDead, scrape().value("sluice_routed_statements_total", "node", r));
    }

    @Test
    @Order(4)
    void noSecretInMetricsOrStatus() throws Exception {
        String metrics = scrape().text;
        HttpResponse<String> status = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + f.server.adminAddress().getPort() + "/status")).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, status.statusCode());
        for (String secret : List.of(f.cluster.password(), ProxyFixture.PASSWORD, "test-token")) {
            assertFalse(metrics.contains(secret), "metrics contain a secret");
            assertFalse(status.body().contains(secret), "status contains a secret");
        }
    }
}
