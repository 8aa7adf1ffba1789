package dev.sluice.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.core.route.RouteDecision;
import dev.sluice.testsupport.DbCluster;
import dev.sluice.testsupport.DbNode;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Golden routing cases ({@code golden/routing-<engine>.jsonl}: sql, session, expected node, reason) run
 * through the driver against a real cluster. Which node ran a statement is read from the servers' own
 * statement logs (PostgreSQL {@code log_statement = all}, MariaDB general log): each case's SQL carries a
 * unique marker comment, and the test looks for it in every node's log.
 *
 * <p>expected: {@code primary}, {@code replica}, or {@code primary+replay} (session state: runs on the
 * primary and is replayed on the replica a later read opens).
 */
abstract class AbstractGoldenRoutingIT {
    static DbCluster cluster;
    static final List<Path> LOGS = new ArrayList<>(); // per test class, reset in setup

    abstract String engineName();

    abstract String urlScheme();

    /** Extra URL parameters (e.g. the user-configured primary function). */
    abstract String extraParams();

    /** Turns on statement logging on one node and returns the file it logs to. */
    abstract Path enableStatementLog(DbNode n) throws Exception;

    static void enableLogs(AbstractGoldenRoutingIT self) throws Exception {
        LOGS.clear();
        for (DbNode n : cluster.nodes()) {
            LOGS.add(self.enableStatementLog(n));
        }
    }

    @AfterAll
    static void shutdown() throws Exception {
        SluiceDriver.closeAll();
        if (cluster != null) {
            cluster.close();
        }
    }

    String url() {
        StringBuilder hosts = new StringBuilder();
        for (DbNode n : cluster.nodes()) {
            hosts.append(hosts.length() == 0 ? "" : ",").append(n.host()).append(':').append(n.port());
        }
        return "jdbc:sluice:" + urlScheme() + "://" + hosts + "/" + cluster.database() + "?user=" + cluster.user()
                + "&password=" + cluster.password() + extraParams();
    }

    @TestFactory
    Stream<DynamicTest> goldenCases() throws Exception {
        String file = "/golden/routing-" + engineName() + ".jsonl";
        InputStream in = getClass().getResourceAsStream(file);
        if (in == null) {
            fail("missing golden file " + file);
        }
        List<DynamicTest> tests = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            int no = 0;
            while ((line = r.readLine()) != null) {
                no++;
                if (line.isBlank()) {
                    continue;
                }
                JsonNode c = json.readTree(line);
                int lineNo = no;
                tests.add(DynamicTest.dynamicTest(lineNo + ": " + c.get("sql").asText(), () -> runCase(lineNo, c)));
            }
        }
        assertTrue(tests.size() >= 40, "golden routing file " + file + " has only " + tests.size() + " cases");
        return tests.stream();
    }

    private void runCase(int lineNo, JsonNode c) throws Exception {
        String sql = c.get("sql").asText();
        String session = c.get("session").asText();
        String expected = c.get("expected").asText();
        String reason = c.get("reason").asText();
        boolean error = c.has("error") && c.get("error").asBoolean();
        String marker = "golden" + lineNo + "m" + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE);
        String where = "line " + lineNo + " [" + sql + "]";
        try (Connection conn = DriverManager.getConnection(url()); Statement st = conn.createStatement()) {
            if (c.has("setup")) {
                for (JsonNode s : c.get("setup")) {
                    st.execute(s.asText());
                }
            }
            switch (session) {
                case "autocommit" -> { }
                case "transaction" -> {
                    conn.setAutoCommit(false);
                    st.execute("SELECT 1");
                }
                case "read-only-transaction" -> {
                    conn.setReadOnly(true);
                    conn.setAutoCommit(false);
                    st.execute("SELECT 1");
                }
                default -> fail(where + ": unknown session '" + session + "'");
            }
            try {
                st.execute(sql + " /* " + marker + " */");
                if (error) {
                    fail(where + ": expected the server to refuse it");
                }
            } catch (SQLException e) {
                if (!error) {
                    throw new AssertionError(where + ": " + e.getMessage(), e);
                }
            }
            RouteDecision d = st.unwrap(SluiceRouted.class).lastRoute();
            assertTrue(d.reason().startsWith(reason), where + ": reason '" + d.reason() + "' does not start with '" + reason + "'");
            if (expected.equals("primary+replay")) {
                conn.setAutoCommit(true);
                st.execute("SELECT 1"); // opens a replica connection, which must replay the statement
            }
            if (!conn.getAutoCommit()) {
                conn.rollback();
            }
        }
        Set<String> ran = nodesThatLogged(marker);
        String primary = cluster.primary().name();
        Set<String> replicas = new TreeSet<>();
        cluster.replicas().forEach(n -> replicas.add(n.name()));
        switch (expected) {
            case "primary" -> assertEquals(Set.of(primary), ran, where + ": ran on " + ran);
            case "replica" -> assertTrue(ran.size() == 1 && replicas.containsAll(ran), where + ": expected one replica, ran on " + ran);
            case "primary+replay" -> assertTrue(ran.contains(primary) && ran.size() >= 2 && ran.stream().filter(replicas::contains).count() >= 1,
                    where + ": expected the primary and a replay on a replica, ran on " + ran);
            default -> fail(where + ": unknown expectation " + expected);
        }
    }

    /** Nodes whose statement log contains the marker; polls briefly because logs are written asynchronously. */
    private Set<String> nodesThatLogged(String marker) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(3).toNanos();
        Set<String> found = new TreeSet<>();
        while (true) {
            found.clear();
            for (int i = 0; i < LOGS.size(); i++) {
                Path log = LOGS.get(i);
                if (Files.exists(log) && ranForAClient(Files.readString(log, StandardCharsets.ISO_8859_1), marker)) {
                    found.add(cluster.nodes().get(i).name());
                }
            }
            if (!found.isEmpty() && System.nanoTime() > deadline - Duration.ofMillis(2700).toNanos()) {
                return found; // found, and waited a moment for any second node to show up
            }
            if (System.nanoTime() > deadline) {
                return found;
            }
            Thread.sleep(50);
        }
    }

    /** Whether a client session (not replication) ran the statement carrying the marker. */
    boolean ranForAClient(String log, String marker) {
        return log.contains(marker);
    }

    static void waitForReplication() throws Exception {
        cluster.waitForReplication(Duration.ofSeconds(15));
    }
}
