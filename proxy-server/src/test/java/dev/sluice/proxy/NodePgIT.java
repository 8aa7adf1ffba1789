package dev.sluice.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * node-postgres through the proxy: the extended protocol as a pure-JavaScript driver speaks it, a named
 * prepared statement parsed once by the client and executed on several backends (the proxy re-creates it
 * on each), transactions, and errors that must reach the client with the server's SQLSTATE.
 */
class NodePgIT {
    /** Pinned: the test is about the proxy, not about whatever pg release came out this week. */
    static final String PG_VERSION = "8.13.3";
    static ProxyFixture f;
    static Path modules;

    @BeforeAll
    static void start() throws Exception {
        String node = ClientTools.require("node", "apt-get install nodejs");
        String npm = ClientTools.require("npm", "apt-get install npm");
        modules = installPg(npm);
        ProxyFixture.Run v = ProxyFixture.run(List.of(node, "-e", "console.log(require('pg/package.json').version)"),
                Map.of("NODE_PATH", modules.toString()), null, Duration.ofSeconds(60));
        assertEquals(PG_VERSION, v.out().strip(), "installed pg: " + v.err());
        f = ProxyFixture.start("nodepg-pg", 2, null, null);
    }

    /** npm-installs pg into target/ once; later runs reuse it (the install needs the npm registry). */
    static Path installPg(String npm) throws Exception {
        Path dir = Path.of("target", "node-clients", "pg-" + PG_VERSION).toAbsolutePath();
        Path marker = dir.resolve("node_modules/pg/package.json");
        if (!Files.exists(marker) || !Files.readString(marker).contains("\"version\": \"" + PG_VERSION + "\"")) {
            Files.createDirectories(dir);
            // a package.json of its own keeps npm from walking up and installing into some parent project
            Files.writeString(dir.resolve("package.json"), "{\"name\":\"sluice-node-clients\",\"private\":true}\n");
            ProxyFixture.Run r = ProxyFixture.run(List.of(npm, "install", "--no-audit", "--no-fund", "--prefix", dir.toString(), "pg@" + PG_VERSION),
                    Map.of(), null, Duration.ofMinutes(5));
            if (r.exit() != 0 || !Files.exists(marker)) {
                throw new AssertionError("npm install pg@" + PG_VERSION + " failed (exit " + r.exit() + "):\n" + r.out() + "\n" + r.err());
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
    void nodePostgresPreparedStatementsTransactionsAndErrors() throws Exception {
        Map<String, String> env = new HashMap<>(f.pgEnv());
        env.put("NODE_PATH", modules.toString());
        env.put("PGHOST", f.host());
        env.put("PGPORT", String.valueOf(f.port()));
        env.put("PGDATABASE", f.cluster.database());
        env.put("PGUSER", ProxyFixture.USER);
        ProxyFixture.Run r = ClientTools.run(List.of("node", ClientTools.script("node_pg_client.js").toString()), env, Duration.ofSeconds(180));
        assertEquals(0, r.exit(), "node-postgres script failed:\n" + r.out() + "\n" + r.err());
        Map<String, List<String>> facts = ClientTools.facts(r);
        String primary = f.primaryName();

        assertEquals(5, facts.get("insert_port").size(), r.out());
        for (String p : facts.get("insert_port")) {
            assertEquals(primary, node(p), "parameterized INSERT ran on the primary");
        }
        assertEquals("20", ClientTools.one(facts, "prepared_runs", r));
        Set<String> preparedNodes = new java.util.TreeSet<>();
        for (String p : ClientTools.one(facts, "prepared_ports", r).split(",")) {
            preparedNodes.add(node(p));
        }
        // the balancer spreads 20 autocommit reads over both replicas: the statement the client parsed once
        // was re-created by the proxy on a backend it had never been parsed on
        assertEquals(new java.util.TreeSet<>(f.replicaNames()), preparedNodes, "named statement ran on both replicas");

        assertEquals(primary, node(ClientTools.one(facts, "tx_update_port", r)));
        assertEquals(primary, node(ClientTools.one(facts, "tx_prepared_port", r)), "prepared statement inside the transaction: primary");
        assertEquals("updated", ClientTools.one(facts, "tx_prepared_label", r), "the transaction sees its own write");
        assertEquals("0", ClientTools.one(facts, "rolled_back_rows", r));

        assertEquals("42601", ClientTools.one(facts, "error_syntax", r));
        assertEquals("42P01", ClientTools.one(facts, "error_undefined_table", r));
        assertEquals("42601", ClientTools.one(facts, "error_syntax_simple", r));
        for (String label : List.of("syntax", "undefined_table", "syntax_simple")) {
            assertEquals("42", ClientTools.one(facts, "after_error_" + label, r), "connection usable after " + label);
        }
        assertEquals("42P01", ClientTools.one(facts, "tx_error", r));
        assertEquals("25P02", ClientTools.one(facts, "tx_aborted", r), "the failed transaction stays failed until ROLLBACK");
        assertEquals("label-4 ✓", ClientTools.one(facts, "after_tx_error_prepared", r));
        assertEquals("42601", ClientTools.one(facts, "broken_prepared_0", r));
        assertEquals("42601", ClientTools.one(facts, "broken_prepared_1", r), "a failed Parse is retried by the client and fails again");
        assertEquals("42", ClientTools.one(facts, "fixed_prepared", r));
        assertEquals("true", ClientTools.one(facts, "big_result_ok", r), "100000 rows, all there, in order");
        assertEquals("50/1", ClientTools.one(facts, "load_writes", r), "50 transactional inserts from 10 pooled connections, all on one node");
        assertEquals("ok", ClientTools.one(facts, "done", r));
        assertTrue(facts.get("connected").contains("true"));
    }

    private static String node(String port) {
        return f.node(Integer.parseInt(port.strip()));
    }
}
