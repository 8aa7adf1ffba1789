package dev.sluice.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * node mysql2 through the proxy with both its APIs: query() (text protocol) and execute() (server-side
 * prepared statements, prepared once per connection and cached: the proxy must run them on whichever backend
 * it routes to), transactions, errors, large results, KILL QUERY, a pool.
 */
class NodeMysql2IT {
    /** Pinned: the test is about the proxy, not about whatever mysql2 release came out this week. */
    static final String MYSQL2_VERSION = "3.24.6";
    static MyProxyFixture f;
    static Path modules;

    @BeforeAll
    static void start() throws Exception {
        String node = ClientTools.require("node", "apt-get install nodejs");
        String npm = ClientTools.require("npm", "apt-get install npm");
        modules = installMysql2(npm);
        ProxyFixture.Run v = MyProxyFixture.run(List.of(node, "-e", "console.log(require('mysql2/package.json').version)"),
                Map.of("NODE_PATH", modules.toString()), null, Duration.ofSeconds(60));
        assertEquals(MYSQL2_VERSION, v.out().strip(), "installed mysql2: " + v.err());
        f = MyProxyFixture.start("mysql2-maria", 2);
        try (Connection c = f.cluster.connectAdmin(f.cluster.primary()); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE t_node (id int PRIMARY KEY, label varchar(40), written_on int)");
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO t_node VALUES (?, ?, 0)")) {
                for (int i = 1; i <= 10; i++) {
                    ps.setInt(1, i);
                    ps.setString(2, "label-" + i + " ✓");
                    ps.executeUpdate();
                }
            }
        }
        f.cluster.waitForReplication(Duration.ofSeconds(30));
    }

    /** npm-installs mysql2 into target/ once; later runs reuse it (the install needs the npm registry). */
    static Path installMysql2(String npm) throws Exception {
        Path dir = Path.of("target", "node-clients", "mysql2-" + MYSQL2_VERSION).toAbsolutePath();
        Path marker = dir.resolve("node_modules/mysql2/package.json");
        if (!Files.exists(marker) || !Files.readString(marker).contains("\"version\": \"" + MYSQL2_VERSION + "\"")) {
            Files.createDirectories(dir);
            // a package.json of its own keeps npm from walking up and installing into some parent project
            Files.writeString(dir.resolve("package.json"), "{\"name\":\"sluice-node-mysql-clients\",\"private\":true}\n");
            ProxyFixture.Run r = MyProxyFixture.run(List.of(npm, "install", "--no-audit", "--no-fund", "--prefix", dir.toString(),
                    "mysql2@" + MYSQL2_VERSION), Map.of(), null, Duration.ofMinutes(5));
            if (r.exit() != 0 || !Files.exists(marker)) {
                throw new AssertionError("npm install mysql2@" + MYSQL2_VERSION + " failed (exit " + r.exit() + "):\n" + r.out() + "\n" + r.err());
            }
        }
        return dir.resolve("node_modules");
    }

    @AfterAll
    static void stop() {
        if (f != null) {
            f.close();
        }
    }

    @Test
    void mysql2QueryAndExecuteThroughTheProxy() throws Exception {
        Map<String, String> env = new HashMap<>();
        env.put("NODE_PATH", modules.toString());
        env.put("SLUICE_HOST", f.host());
        env.put("SLUICE_PORT", String.valueOf(f.port()));
        env.put("SLUICE_USER", MyProxyFixture.USER);
        env.put("SLUICE_PASSWORD", MyProxyFixture.PASSWORD);
        env.put("SLUICE_DB", f.database());
        ProxyFixture.Run r = ClientTools.run(List.of("node", ClientTools.script("node_mysql2_client.js").toString()), env,
                Duration.ofSeconds(180));
        assertEquals(0, r.exit(), "mysql2 script failed:\n" + r.out() + "\n" + r.err());
        Map<String, List<String>> facts = ClientTools.facts(r);

        assertEquals(5, facts.get("query_insert_port").size(), r.out());
        facts.get("query_insert_port").forEach(p -> f.assertOnPrimary(port(p), "query(): INSERT ... RETURNING"));
        Set<String> queryReaders = new TreeSet<>();
        for (String p : facts.get("query_read_port")) {
            f.assertOnReadNode(port(p), "query(): autocommit SELECT");
            queryReaders.add(f.node(p));
        }
        assertEquals(new TreeSet<>(f.readNodes()), queryReaders, "query(): reads reach every read node");
        f.assertOnPrimary(port(ClientTools.one(facts, "query_for_update_port", r)), "query(): SELECT ... FOR UPDATE");

        assertEquals("20", ClientTools.one(facts, "execute_runs", r));
        assertEquals("true", ClientTools.one(facts, "execute_labels_ok", r), "execute(): every row right");
        Set<String> executeReaders = new TreeSet<>();
        for (String p : ClientTools.one(facts, "execute_ports", r).split(",")) {
            f.assertOnReadNode(port(p), "execute(): autocommit SELECT");
            executeReaders.add(f.node(p));
        }
        // the statement the client prepared once ran on every replica: the proxy prepared it on each backend
        assertEquals(new TreeSet<>(f.readNodes()), executeReaders, "execute(): one prepared statement, run on every read node");
        assertEquals(5, facts.get("execute_insert_port").size(), r.out());
        facts.get("execute_insert_port").forEach(p -> f.assertOnPrimary(port(p), "execute(): INSERT ... RETURNING"));
        assertEquals("42", ClientTools.one(facts, "prepared_value", r));
        f.assertOnReadNode(port(ClientTools.one(facts, "prepared_port", r)), "prepare() + execute(): a read");
        assertEquals("label-3 ✓", ClientTools.one(facts, "reprepared_label", r), "unprepared (COM_STMT_CLOSE) and prepared again");

        f.assertOnPrimary(port(ClientTools.one(facts, "tx_first_port", r)), "first statement after beginTransaction()");
        f.assertOnPrimary(port(ClientTools.one(facts, "tx_execute_port", r)), "execute() in the transaction");
        f.assertOnPrimary(port(ClientTools.one(facts, "tx_query_port", r)), "query() in the transaction");
        assertEquals("updated", ClientTools.one(facts, "tx_label", r), "the transaction sees its own write");
        assertEquals("0", ClientTools.one(facts, "rolled_back_rows", r));

        assertEquals("1064", ClientTools.one(facts, "error_query_syntax", r));
        assertEquals("1064", ClientTools.one(facts, "error_execute_syntax", r), "a failed prepare");
        assertEquals("1064", ClientTools.one(facts, "error_execute_syntax_again", r), "a failed prepare, retried, fails again");
        assertEquals("1146", ClientTools.one(facts, "error_execute_undefined_table", r));
        assertEquals("1062", ClientTools.one(facts, "error_execute_duplicate", r));
        assertEquals("42", ClientTools.one(facts, "after_errors", r), "the connection goes on after the errors");

        long sum = 100_000L * 100_001L / 2;
        assertEquals("100000|" + sum + "|true", ClientTools.one(facts, "big_query", r), "100000 text rows, all there, in order");
        assertEquals("100000|" + sum, ClientTools.one(facts, "big_execute", r), "100000 binary rows");

        assertEquals("1317", ClientTools.one(facts, "kill_query", r), "KILL QUERY <threadId> interrupted the SLEEP");
        long ms = Long.parseLong(ClientTools.one(facts, "kill_query_ms", r));
        assertTrue(ms < 5000, "the killed SLEEP(10) returned after " + ms + " ms");
        f.assertOnReadNode(port(ClientTools.one(facts, "after_kill_query_port", r)), "the connection goes on after KILL QUERY");

        assertEquals("50/1", ClientTools.one(facts, "pool_writes", r), "50 transactional inserts from a pool, all on one node");
        f.assertOnPrimary(port(ClientTools.one(facts, "pool_write_port", r)), "the pool's transactions");
        assertEquals("1045", ClientTools.one(facts, "auth_error", r));
        assertEquals("ok", ClientTools.one(facts, "done", r));
    }

    private static int port(String p) {
        return Integer.parseInt(p.strip());
    }
}
