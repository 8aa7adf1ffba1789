package dev.sluice.proxy;

import dev.sluice.admin.AdminServer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.jdbc.SluiceAdmin;
import dev.sluice.jdbc.SluiceDriver;
import dev.sluice.testsupport.Clusters;
import dev.sluice.testsupport.DbCluster;
import dev.sluice.testsupport.DbNode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import picocli.CommandLine;

/**
 * The admin HTTP API end to end: a real PostgreSQL cluster, its runtime from the driver behind an
 * {@link AdminServer}, and the CLI in {@code --admin} mode (plus raw HTTP for the status codes).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AdminApiIT {
    static final String TOKEN = "s3cret-admin-token";
    static DbCluster cluster;
    static Path config;
    static String driverUrl;
    static Connection conn;
    static AdminServer server;
    static AdminServer readOnly;
    static String adminUrl;
    static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    static final ObjectMapper json = new ObjectMapper();

    record Run(int exit, String out, String err) {
        String all() {
            return out + err;
        }
    }

    @BeforeAll
    static void start() throws Exception {
        cluster = Clusters.startPostgres("admin-pg", 2);
        StringBuilder y = new StringBuilder("clusters:\n  main:\n    engine: postgresql\n    database: " + cluster.database()
                + "\n    user: " + cluster.user() + "\n    password: " + cluster.password() + "\n    admin-user: postgres\n    nodes:\n");
        for (DbNode n : cluster.nodes()) {
            y.append("      - { name: ").append(n.name()).append(", host: ").append(n.host()).append(", port: ").append(n.port()).append(" }\n");
        }
        config = Files.createTempFile("sluice-admin", ".yaml");
        Files.writeString(config, y);
        // the runtime a proxy would own: failover off, only the API acts
        driverUrl = "jdbc:sluice:file:" + config.toAbsolutePath() + "?failover=off";
        conn = DriverManager.getConnection(driverUrl);
        SluiceAdmin admin = conn.unwrap(SluiceAdmin.class);
        server = new AdminServer(new InetSocketAddress("127.0.0.1", 0), TOKEN, admin);
        server.start();
        readOnly = new AdminServer(new InetSocketAddress("127.0.0.1", 0), null, admin);
        readOnly.start();
        adminUrl = "http://127.0.0.1:" + server.port();
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.close();
        }
        if (readOnly != null) {
            readOnly.close();
        }
        if (conn != null) {
            conn.close();
            SluiceDriver.close(driverUrl, null); // before the servers stop, so probes don't report them dying
        }
        if (cluster != null) {
            cluster.close();
        }
        if (config != null) {
            Files.deleteIfExists(config);
        }
    }

    static synchronized Run sluice(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
        try { // the commands take System.out/err when constructed, so construct them after the swap
            int exit = new CommandLine(new SluiceCli()).execute(args);
            // err also holds this JVM's server log lines: assertions look for the CLI's own "sluice: " text
            return new Run(exit, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    /** {@code sluice CMD ARGS --admin URL --token TOKEN}. */
    static Run admin(String... args) {
        List<String> a = new ArrayList<>(List.of(args));
        a.addAll(List.of("--admin", adminUrl, "--token", TOKEN));
        return sluice(a.toArray(String[]::new));
    }

    static HttpResponse<String> request(String method, String path, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(adminUrl + path)).method(method, HttpRequest.BodyPublishers.noBody());
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The STATE column of {@code node} in {@code sluice status} output. */
    static String stateIn(String statusOut, String node) {
        for (String line : statusOut.split("\n")) {
            String[] cols = line.trim().split("\\s+");
            if (cols.length >= 3 && cols[0].equals(node)) {
                return cols[2];
            }
        }
        return "(no row for " + node + ")";
    }

    /** Runs {@code sluice status} through the API until {@code done} holds or 5 s pass; returns the last run. */
    static Run pollStatus(Predicate<Run> done) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        Run r = sluice("status", "--admin", adminUrl);
        while (!done.test(r) && System.nanoTime() < deadline) {
            Thread.sleep(50);
            r = sluice("status", "--admin", adminUrl);
        }
        return r;
    }

    static boolean inRecovery(DbNode n) throws Exception {
        try (Connection c = cluster.connectAdmin(n); Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    @Test
    @Order(1)
    void statusJsonHasTheClusterAndNoPassword() throws Exception {
        HttpResponse<String> r = request("GET", "/status", null);
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"), r.headers().toString());
        JsonNode s = json.readTree(r.body());
        assertEquals("main", s.get("cluster").asText());
        assertEquals("postgresql", s.get("engine").asText());
        assertEquals(cluster.primary().name(), s.get("primary").asText());
        assertEquals(cluster.nodes().size(), s.get("nodes").size(), r.body());
        for (JsonNode n : s.get("nodes")) {
            boolean primary = n.get("name").asText().equals(cluster.primary().name());
            assertEquals(primary ? "PRIMARY" : "REPLICA", n.get("role").asText(), n.toString());
            assertEquals("UP", n.get("state").asText(), n.toString());
            assertTrue(n.has("lagMillis") && n.has("lagHistory") && n.has("routed"), n.toString());
        }
        assertTrue(s.get("events").isArray(), r.body());
        assertFalse(r.body().contains(cluster.password()), "the status page never shows a password");

        HttpResponse<String> h = request("GET", "/health", null);
        assertEquals(200, h.statusCode());
        assertEquals("ok", h.body().trim());
    }

    @Test
    @Order(2)
    void statusThroughTheCliListsNodesAndPrimary() {
        Run r = sluice("status", "--admin", adminUrl);
        assertEquals(0, r.exit(), r.all());
        assertTrue(r.out().contains("primary: " + cluster.primary().name()), r.out());
        for (DbNode n : cluster.nodes()) {
            assertEquals("UP", stateIn(r.out(), n.name()), r.out());
        }
    }

    @Test
    @Order(3)
    void drainAndUndrainAReplica() throws Exception {
        String r1 = cluster.replicas().get(0).name();
        Run d = admin("drain", r1);
        assertEquals(0, d.exit(), d.all());
        assertTrue(d.out().contains("drained " + r1), d.out());
        Run s = pollStatus(r -> stateIn(r.out(), r1).equals("DRAINED"));
        assertEquals("DRAINED", stateIn(s.out(), r1), s.out());

        Run u = admin("undrain", r1);
        assertEquals(0, u.exit(), u.all());
        assertTrue(u.out().contains("undrained " + r1), u.out());
        s = pollStatus(r -> stateIn(r.out(), r1).equals("UP"));
        assertEquals("UP", stateIn(s.out(), r1), s.out());
    }

    @Test
    @Order(4)
    void wrongOrMissingTokenIsAUsageErrorAndChangesNothing() throws Exception {
        String r1 = cluster.replicas().get(0).name();
        Run wrong = sluice("drain", r1, "--admin", adminUrl, "--token", "not-the-token");
        assertEquals(2, wrong.exit(), wrong.all());
        assertTrue(wrong.err().contains("wrong admin token") && wrong.err().contains(adminUrl), wrong.err());

        HttpResponse<String> missing = request("POST", "/drain?node=" + r1, null);
        assertEquals(401, missing.statusCode(), missing.body());
        assertTrue(json.readTree(missing.body()).get("error").asText().contains("Authorization: Bearer"), missing.body());
        assertEquals("UP", stateIn(sluice("status", "--admin", adminUrl).out(), r1), "a refused drain drains nothing");
    }

    @Test
    @Order(5)
    void withoutAConfiguredTokenMutationsAreDisabled() {
        String url = "http://127.0.0.1:" + readOnly.port();
        String r1 = cluster.replicas().get(0).name();
        Run r = sluice("drain", r1, "--admin", url, "--token", TOKEN);
        assertEquals(1, r.exit(), r.all());
        assertTrue(r.err().contains("admin-token not configured: mutating endpoints are disabled"), r.err());
        Run s = sluice("status", "--admin", url);
        assertEquals(0, s.exit(), s.all());
        assertEquals("UP", stateIn(s.out(), r1), s.out());
    }

    @Test
    @Order(6)
    void badRequestsGetTheirStatusAndAMessageNamingWhatWasWrong() throws Exception {
        HttpResponse<String> r = request("GET", "/nope", null);
        assertEquals(404, r.statusCode(), r.body());
        assertTrue(json.readTree(r.body()).get("error").asText().contains("/nope"), r.body());

        r = request("GET", "/drain?node=x", TOKEN);
        assertEquals(405, r.statusCode(), r.body());
        assertEquals("POST", r.headers().firstValue("Allow").orElse(""));

        r = request("POST", "/promote?force=maybe", TOKEN);
        assertEquals(400, r.statusCode(), r.body());
        assertTrue(json.readTree(r.body()).get("error").asText().contains("'force'"), r.body());

        r = request("POST", "/promote?nod=" + cluster.replicas().get(0).name(), TOKEN);
        assertEquals(400, r.statusCode(), r.body());
        assertTrue(json.readTree(r.body()).get("error").asText().contains("'nod'"), "a typo must not promote the best candidate: " + r.body());

        r = request("POST", "/drain?node=pg-nope", TOKEN);
        assertEquals(400, r.statusCode(), r.body());
        assertTrue(json.readTree(r.body()).get("error").asText().contains("pg-nope"), r.body());

        Run cli = admin("drain", "pg-nope");
        assertEquals(2, cli.exit(), cli.all());
        assertTrue(cli.err().contains("no node 'pg-nope'") && cli.err().contains(cluster.primary().name()), cli.err());
    }

    @Test
    @Order(7)
    void usageErrorsAndAnUnreachableEndpointExitTwo() throws Exception {
        Run both = sluice("status", "-c", config.toString(), "--admin", adminUrl);
        assertEquals(2, both.exit(), both.all());
        assertTrue(both.err().contains("exactly one of -c/--config FILE") && both.err().contains("not both"), both.err());
        Run neither = sluice("status");
        assertEquals(2, neither.exit(), neither.all());
        assertTrue(neither.err().contains("exactly one of -c/--config FILE"), neither.err());
        Run notUrl = sluice("status", "--admin", "127.0.0.1:6480");
        assertEquals(2, notUrl.exit(), notUrl.all());
        assertTrue(notUrl.err().contains("--admin '127.0.0.1:6480'"), notUrl.err());

        int freePort;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            freePort = s.getLocalPort();
        }
        String dead = "http://127.0.0.1:" + freePort;
        Run r = sluice("status", "--admin", dead);
        assertEquals(2, r.exit(), r.all());
        assertTrue(r.err().contains(dead + " unreachable: connection refused"), r.err());
    }

    @Test
    @Order(8)
    void promoteIsRefusedWhileThePrimaryLives() throws Exception {
        DbNode r0 = cluster.replicas().get(0);
        Run r = admin("promote", r0.name());
        assertEquals(1, r.exit(), r.all());
        assertTrue(r.out().contains("alive"), r.out());

        HttpResponse<String> h = request("POST", "/promote?node=" + r0.name(), TOKEN);
        assertEquals(409, h.statusCode(), h.body());
        JsonNode body = json.readTree(h.body());
        assertFalse(body.get("promoted").asBoolean());
        assertTrue(body.get("error").asText().contains("alive"), h.body());
        assertTrue(inRecovery(r0), "nothing promoted");
    }

    @Test
    @Order(9)
    void dryRunPrintsThePlanAndChangesNothing() throws Exception {
        DbNode target = cluster.replicas().get(1);
        Run r = admin("switchover", "--to", target.name(), "--dry-run");
        assertEquals(0, r.exit(), r.all());
        assertTrue(r.out().contains("candidate " + cluster.replicas().get(0).name()), r.out());
        assertTrue(r.out().contains("dry run"), r.out());
        assertTrue(inRecovery(target), "a dry run promotes nothing");
        assertEquals(cluster.primary().name(), json.readTree(request("GET", "/status", null).body()).get("primary").asText());
    }

    @Test
    @Order(10)
    void switchoverThroughTheApiMovesThePrimary() throws Exception {
        DbNode target = cluster.replicas().get(1);
        Run r = admin("switchover", "--to", target.name());
        assertEquals(0, r.exit(), r.all());
        assertTrue(r.out().contains("promoted " + target.name()), "each step is printed: " + r.out());
        assertTrue(r.out().contains("switched over to " + target.name()), r.out());
        assertFalse(inRecovery(target), "the target is now writable");
        Run s = pollStatus(x -> x.out().contains("primary: " + target.name()));
        assertTrue(s.out().contains("primary: " + target.name()), s.out());
    }
}
