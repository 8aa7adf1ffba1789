package dev.sluice.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.admin.AdminServer;
import dev.sluice.testsupport.DbNode;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The status page in a real headless Chromium against a proxy in front of a real PostgreSQL cluster: nodes
 * listed, a replica delayed for real shows up as LAGGING with its chart rising, drain from the page needs the
 * token. Plus the JSON API it reads, over plain HTTP. With {@code -Dsluice.updateDocs=true} the screenshot
 * of the lagging replica is written to docs/status-page.png.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StatusPageIT {
    static final Duration WAIT = Duration.ofSeconds(60);
    static ProxyFixture f;
    static Chromium browser;
    static String page;
    static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    static final ObjectMapper json = new ObjectMapper();
    /** Reads through the proxy all along, so the page has statements per second to show. */
    static final AtomicBoolean reading = new AtomicBoolean(true);
    static Thread reader;

    @BeforeAll
    static void start() throws Exception {
        f = ProxyFixture.start("page-pg", 2, null, null);
        page = "http://127.0.0.1:" + f.server.adminAddress().getPort() + "/";
        reader = new Thread(StatusPageIT::readLoop, "status-page-reads");
        reader.setDaemon(true);
        reader.start();
    }

    private static void readLoop() {
        while (reading.get()) {
            try (Connection c = DriverManager.getConnection(f.jdbcUrl(), ProxyFixture.USER, ProxyFixture.PASSWORD);
                 Statement st = c.createStatement()) {
                while (reading.get()) {
                    st.executeQuery("SELECT 1").close();
                    Thread.sleep(20);
                }
            } catch (SQLException e) {
                // a drained or lagging node is routed around; reconnect and go on
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    @AfterAll
    static void stop() throws InterruptedException {
        reading.set(false);
        if (reader != null) {
            reader.join(10_000);
        }
        if (browser != null) {
            browser.close();
        }
        if (f != null) {
            f.close();
        }
    }

    static HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(page + path.substring(1))).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> post(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(page + path.substring(1))).timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer test-token").POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static JsonNode apiNode(String name) throws Exception {
        for (JsonNode n : json.readTree(get("/api/status").body()).get("nodes")) {
            if (n.get("name").asText().equals(name)) {
                return n;
            }
        }
        throw new AssertionError("no node " + name + " in /api/status");
    }

    static Chromium browser() throws Exception {
        assertTrue(Chromium.installed(), "chromium and chromium-driver not installed (run bin/install-prereqs)"); // fail, never skip
        if (browser == null) {
            browser = new Chromium(1280, 1500);
            browser.open(page);
        }
        return browser;
    }

    static String card(String node) {
        return ".node[data-node=\"" + node + "\"]";
    }

    @Test
    @Order(1)
    void apiStatusAndEventsAreJson() throws Exception {
        // a statement the classifier does not understand: it goes to the primary (which rejects it) and is counted by digest
        try (Connection c = DriverManager.getConnection(f.jdbcUrl(), ProxyFixture.USER, ProxyFixture.PASSWORD);
             Statement st = c.createStatement()) {
            for (String secret : new String[] {"'hunter2', 42", "'other', 7"}) {
                try {
                    st.execute("FROBNICATE " + secret);
                } catch (SQLException expected) {
                    // syntax error from PostgreSQL
                }
            }
        }
        HttpResponse<String> s = get("/api/status");
        assertEquals(200, s.statusCode());
        assertTrue(s.headers().firstValue("Content-Type").orElse("").startsWith("application/json"), s.headers().toString());
        JsonNode st = json.readTree(s.body());
        assertEquals("main", st.get("cluster").asText());
        assertEquals(f.primaryName(), st.get("primary").asText());
        assertEquals(3, st.get("nodes").size(), s.body());
        for (String field : new String[] {"role", "state", "lagHistory", "routed", "circuit"}) {
            assertTrue(st.get("nodes").get(0).has(field), field + " in " + s.body());
        }
        assertTrue(st.get("unparsed").asLong() >= 2, s.body());
        assertEquals("FROBNICATE ?, ?", st.get("unparsedTop").get(0).get("digest").asText(), s.body());
        assertTrue(st.get("unparsedTop").get(0).get("count").asLong() >= 2, s.body());
        assertTrue(!s.body().contains("hunter2"), "literals are not shown");
        assertTrue(st.get("fallbacks").isObject(), s.body());
        assertTrue(!s.body().contains(f.cluster.password()), "no backend password in the status");
        assertEquals(json.readTree(get("/status").body()).get("nodes").size(), 3, "/status still answers with the same content");

        // /api/events: a drain and undrain (with the token) make two events; none after the newest
        String replica = f.replicaNames().get(0);
        assertEquals(200, post("/drain?node=" + replica).statusCode());
        assertEquals(200, post("/undrain?node=" + replica).statusCode());
        JsonNode events = json.readTree(get("/api/events").body());
        assertTrue(events.isArray() && events.size() > 0, events.toString());
        JsonNode e = events.get(events.size() - 1);
        assertTrue(e.has("timeMillis") && e.has("node") && e.has("type") && e.has("message"), e.toString());
        assertTrue(events.toString().contains("\"type\":\"drained\"") && events.toString().contains(replica), events.toString());
        assertEquals(0, json.readTree(get("/api/events?since=" + e.get("timeMillis").asLong()).body()).size());
        assertEquals(events.size(), json.readTree(get("/api/events?since=0").body()).size());
        HttpResponse<String> bad = get("/api/events?since=yesterday");
        assertEquals(400, bad.statusCode(), bad.body());
        assertTrue(bad.body().contains("epoch milliseconds"), bad.body());

        HttpResponse<String> html = get("/");
        assertEquals(200, html.statusCode());
        assertTrue(html.headers().firstValue("Content-Type").orElse("").startsWith("text/html"));
        assertTrue(html.headers().firstValue("Content-Security-Policy").orElse("").contains("default-src 'self'"));
        assertTrue(html.body().contains("/page/status.js") && !html.body().contains("test-token"), html.body());
        assertEquals(200, get("/page/status.js").statusCode());
        assertEquals(404, get("/demo").statusCode(), "the demo endpoints exist only in the demo");
    }

    @Test
    @Order(2)
    void pageListsTheNodes() throws Exception {
        Chromium b = browser();
        // all UP at some poll: the undrain of the first test holds the replica out for a moment
        JsonNode shown = b.await("three node cards, all UP", "return [...document.querySelectorAll('.node')].map(n => n.dataset.node + ':'"
                + " + n.dataset.role + ':' + n.dataset.state)", v -> v.size() == 3 && !v.toString().contains("LAGGING")
                && !v.toString().contains("DRAINED"), WAIT);
        assertTrue(shown.toString().contains(f.primaryName() + ":PRIMARY:UP"), shown.toString());
        for (String r : f.replicaNames()) {
            assertTrue(shown.toString().contains(r + ":REPLICA:UP"), shown.toString());
        }
        assertTrue(b.script("return document.getElementById('summary').textContent").asText().contains("primary " + f.primaryName()));
        // statements/s from the routed counters' growth: the reader's SELECTs land on the replicas
        JsonNode rates = b.await("statements/s of the replicas", "return window.sluice.rates", x -> f.replicaNames().stream()
                .anyMatch(r -> x.path(r).asDouble() > 0), WAIT);
        String shownRate = b.script("return [...document.querySelectorAll('.node .rate')].map(e => e.textContent).join('|')").asText();
        assertTrue(shownRate.matches(".*\\d+(\\.\\d)? \\(total [1-9].*"), shownRate + " " + rates);
        // open backend connections per node, from the proxy's pools: the reader holds one on a replica
        String conns = b.await("open connections shown", "return [...document.querySelectorAll('.node .conns')].map(e => e.textContent)",
                v -> v.toString().matches(".*\"[1-9]\\d*\".*"), WAIT).toString();
        assertTrue(conns.matches("\\[(\"\\d+\",?){3}\\]"), conns);
        JsonNode unparsed = b.script("return document.querySelector('#unparsed-top tbody').textContent");
        assertTrue(unparsed.asText().contains("FROBNICATE ?, ?"), unparsed.toString());
    }

    @Test
    @Order(3)
    void aDelayedReplicaShowsAsLaggingWithItsChartRising() throws Exception {
        Chromium b = browser();
        DbNode replica = f.cluster.replicas().get(0);
        String c = card(replica.name());
        long start = System.nanoTime();
        f.cluster.setApplyDelay(replica, Duration.ofSeconds(8)); // heartbeats keep coming: its lag climbs to 8 s
        try {
            JsonNode v = b.await(replica.name() + " LAGGING with a rising chart",
                    "const c = document.querySelector('" + c + "'); const p = JSON.parse(c.querySelector('canvas').dataset.points);"
                            + " return {state: c.dataset.state, badge: c.querySelector('.state').textContent,"
                            + " last: p.length ? p[p.length - 1] : null, points: p.length, lag: c.querySelector('.lag').textContent}",
                    x -> x.path("state").asText().equals("LAGGING") && x.path("last").asLong(0) > 4000, WAIT);
            assertEquals("LAGGING", v.get("badge").asText());
            assertTrue(v.get("lag").asText().endsWith(" s") || v.get("lag").asText().contains(" s "), v.toString());
            System.out.printf("%s shown LAGGING with chart at %d ms after %d ms%n", replica.name(), v.get("last").asLong(),
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
            // the page's JS variable agrees with the canvas' data attribute
            JsonNode points = b.script("return window.sluice.points['" + replica.name() + "']");
            assertTrue(points.get(points.size() - 1).asLong() > 4000, points.toString());
            b.await("the drop in the event timeline", "return [...document.querySelectorAll('#events li')].map(l => l.textContent)",
                    x -> x.toString().contains("dropped-for-lag") && x.toString().contains(replica.name()), WAIT);
            saveScreenshot(b.screenshotPng());
        } finally {
            f.cluster.setApplyDelay(replica, Duration.ZERO);
        }
        b.await(replica.name() + " readmitted", "return document.querySelector('" + c + "').dataset.state",
                x -> x.asText().equals("UP"), WAIT);
    }

    @Test
    @Order(4)
    void drainFromThePageNeedsTheToken() throws Exception {
        Chromium b = browser();
        String node = f.replicaNames().get(1);
        String c = card(node);
        b.script("sessionStorage.clear(); document.getElementById('message').hidden = true; return null");
        b.click(c + " button.drain");
        JsonNode refused = b.await("a visible refusal", "const m = document.getElementById('message');"
                + " return {shown: !m.hidden && m.offsetHeight > 0, error: m.classList.contains('error'), text: m.textContent}",
                x -> x.path("shown").asBoolean() && x.path("text").asText().contains("refused"), WAIT);
        assertTrue(refused.get("error").asBoolean(), refused.toString());
        assertTrue(refused.get("text").asText().contains("HTTP 401") && refused.get("text").asText().contains("token"), refused.toString());
        assertEquals("UP", apiNode(node).get("state").asText(), "refused: nothing drained");

        b.type("#token", "test-token");
        b.click("#token-form button[type=submit]");
        assertEquals("test-token", b.script("return sessionStorage.getItem('sluice-admin-token')").asText());
        assertTrue(b.script("return document.documentElement.outerHTML").asText().indexOf("test-token") < 0,
                "the token is kept in sessionStorage, not in the page");
        b.click(c + " button.drain");
        b.await(node + " DRAINED on the page", "return document.querySelector('" + c + "').dataset.state",
                x -> x.asText().equals("DRAINED"), WAIT);
        assertEquals("DRAINED", apiNode(node).get("state").asText());
        assertTrue(b.script("return document.getElementById('message').textContent").asText().contains("drained " + node));

        b.click(c + " button.drain"); // now labelled Undrain
        b.await(node + " back UP", "return document.querySelector('" + c + "').dataset.state", x -> x.asText().equals("UP"), WAIT);
    }

    @Test
    @Order(5)
    void fitsAPhoneScreen() throws Exception {
        Chromium b = browser();
        b.resize(390, 844);
        JsonNode v = b.await("a single column without horizontal scrolling", "return {scroll: document.documentElement.scrollWidth,"
                + " inner: window.innerWidth, cols: getComputedStyle(document.getElementById('nodes')).gridTemplateColumns.split(' ').length}",
                x -> x.path("inner").asInt() > 0 && x.path("inner").asInt() < 600, WAIT);
        assertTrue(v.get("scroll").asInt() <= v.get("inner").asInt(), "no horizontal scrolling: " + v);
        assertEquals(1, v.get("cols").asInt(), v.toString());
        Files.write(Path.of("target", "status-page-phone.png"), b.screenshotPng()); // for a look; not checked in
    }

    @Test
    @Order(6)
    void demoLagEndpointDelaysAReplica() throws Exception {
        DbNode replica = f.cluster.replicas().get(1);
        try (AdminServer demo = new AdminServer(new InetSocketAddress("127.0.0.1", 0), null, f.server.runtime())) {
            DemoEndpoints.of(f.cluster).forEach(demo::route);
            demo.start();
            String base = "http://127.0.0.1:" + demo.port();
            HttpResponse<String> info = http.send(HttpRequest.newBuilder(URI.create(base + "/demo")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, info.statusCode());
            assertTrue(info.body().contains(replica.name()), info.body());
            assertEquals(400, demoPost(base + "/demo/lag?node=" + f.primaryName() + "&ms=1000").statusCode(), "only replicas");
            assertEquals(400, demoPost(base + "/demo/lag?node=" + replica.name() + "&ms=-5").statusCode());
            try {
                HttpResponse<String> r = demoPost(base + "/demo/lag?node=" + replica.name() + "&ms=5000");
                assertEquals(200, r.statusCode(), r.body());
                long deadline = System.nanoTime() + WAIT.toNanos();
                while (!"LAGGING".equals(apiNode(replica.name()).get("state").asText())) {
                    assertTrue(System.nanoTime() < deadline, "the delayed replica never left the read set");
                    Thread.sleep(200);
                }
            } finally {
                assertEquals(200, demoPost(base + "/demo/lag?node=" + replica.name() + "&ms=0").statusCode());
            }
        }
    }

    @Test
    @Order(7)
    void switchoverFromThePageShowsItsStepsInTheTimeline() throws Exception {
        Chromium b = browser(); // the token is still in this tab's sessionStorage
        String target = f.replicaNames().get(1);
        b.await(target + " UP", "return document.querySelector('" + card(target) + "').dataset.state", x -> x.asText().equals("UP"), WAIT);
        b.click(card(target) + " button.switch");
        b.acceptDialog();
        JsonNode done = b.await("the switchover's answer", "return document.getElementById('message').textContent",
                x -> x.asText().contains(": done") || x.asText().contains("refused") || x.asText().contains("failed"), Duration.ofSeconds(120));
        assertTrue(done.asText().startsWith("switchover to " + target + ": done"), done.asText());
        b.await("the page showing the new primary", "return document.getElementById('summary').textContent",
                x -> x.asText().startsWith("primary " + target), WAIT);
        JsonNode steps = b.await("the switchover's steps grouped in the timeline",
                "const li = document.querySelector('#events li[data-type=\"switchover-started\"]');"
                        + " return li ? [...li.querySelectorAll('ul li')].map(s => s.textContent) : []",
                x -> x.toString().contains("promoted " + target), WAIT);
        assertTrue(steps.toString().contains("caught-up"), steps.toString());
    }

    private static HttpResponse<String> demoPost(String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static void saveScreenshot(byte[] png) throws Exception {
        assertTrue(png.length > 1000 && png[1] == 'P' && png[2] == 'N' && png[3] == 'G', "a PNG");
        Files.write(Path.of("target", "status-page.png"), png);
        if (Boolean.getBoolean("sluice.updateDocs")) {
            Files.write(Path.of("..", "docs", "status-page.png"), png);
        }
    }
}
