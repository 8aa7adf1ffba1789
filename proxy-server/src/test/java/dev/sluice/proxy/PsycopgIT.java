package dev.sluice.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * psycopg2 (libpq underneath, Debian's python3-psycopg2) through the proxy: SCRAM login, parameters,
 * autocommit and transactions, server-side cursors, COPY in both directions. The script prints facts;
 * this test judges them (where each statement ran, what came back).
 */
class PsycopgIT {
    /** Debian's package is built for the system Python; a pyenv python3 earlier on PATH would lack it. */
    static final String PYTHON = "/usr/bin/python3";
    static ProxyFixture f;

    @BeforeAll
    static void start() throws Exception {
        ClientTools.require(PYTHON, "apt-get install python3");
        ProxyFixture.Run probe = ProxyFixture.run(List.of(PYTHON, "-c", "import psycopg2; print(psycopg2.__version__)"), Map.of(), null,
                Duration.ofSeconds(60));
        if (probe.exit() != 0) {
            throw new AssertionError("psycopg2 is not importable by " + PYTHON + " (apt-get install python3-psycopg2, or run bin/install-prereqs): "
                    + probe.err());
        }
        f = ProxyFixture.start("psycopg-pg", 2, null, null);
    }

    @AfterAll
    static void stop() {
        if (f != null) {
            f.close();
        }
    }

    @Test
    void psycopg2WorksThroughTheProxyAndReadsGoToReplicas() throws Exception {
        Map<String, String> env = new HashMap<>(f.pgEnv());
        env.put("SLUICE_DSN", f.conninfo(null));
        ProxyFixture.Run r = ClientTools.run(List.of(PYTHON, ClientTools.script("psycopg_client.py").toString()), env, Duration.ofSeconds(180));
        assertEquals(0, r.exit(), "psycopg2 script failed:\n" + r.out() + "\n" + r.err());
        Map<String, List<String>> facts = ClientTools.facts(r);
        String primary = f.primaryName();
        List<String> replicas = f.replicaNames();

        assertEquals(ProxyFixture.USER, ClientTools.one(facts, "scram", r));
        assertEquals(5, facts.get("insert_port").size(), r.out());
        for (String p : facts.get("insert_port")) {
            assertEquals(primary, node(p), "autocommit INSERT ran on the primary");
        }
        Set<String> readNodes = new HashSet<>();
        for (String p : facts.get("autocommit_read_port")) {
            readNodes.add(node(p));
        }
        assertTrue(replicas.containsAll(readNodes), "autocommit reads ran on replicas only: " + readNodes);
        assertEquals("3|name-3 'quoted' ü|4.5", ClientTools.one(facts, "row3", r), "parameters and text round-trip");

        assertEquals(primary, node(ClientTools.one(facts, "tx_read_port", r)), "read in a read-write transaction");
        assertEquals(primary, node(ClientTools.one(facts, "tx_update_port", r)));
        assertEquals("101.5", ClientTools.one(facts, "tx_sees_own_write", r));
        assertEquals("0", ClientTools.one(facts, "rolled_back_rows", r));
        assertTrue(replicas.contains(node(ClientTools.one(facts, "readonly_tx_port", r))), "a READ ONLY transaction runs on a replica");

        assertEquals("1,2,3,4,5", ClientTools.one(facts, "named_cursor_ids", r), "server-side cursor fetched every row in order");
        String cursorPorts = ClientTools.one(facts, "named_cursor_ports", r);
        assertEquals(primary, node(cursorPorts), "the cursor's transaction ran on one node, the primary: " + cursorPorts);
        assertEquals("1,2,3,4,5", ClientTools.one(facts, "held_cursor_ids", r), "WITH HOLD cursor across autocommit FETCHes");

        assertEquals("50", ClientTools.one(facts, "copy_in_rows", r));
        assertEquals("50", ClientTools.one(facts, "copy_out_rows", r));
        assertEquals("100,copied-100,100.25", ClientTools.one(facts, "copy_out_first", r));
        assertEquals("149,copied-149,149.25", ClientTools.one(facts, "copy_out_last", r));
        assertEquals("22P02", ClientTools.one(facts, "copy_bad", r), "bad COPY data: the server's SQLSTATE reaches the client");
        node(ClientTools.one(facts, "after_copy_error_port", r)); // the connection still answers

        assertEquals("20000", ClientTools.one(facts, "big_copy_rows", r));
        // sum(1000..20999) and 20000 names of length 4 + digits + 1 + 200
        long sum = 0;
        long len = 0;
        for (int i = 1000; i < 21000; i++) {
            sum += i;
            len += ("big-" + i + "-").length() + 200;
        }
        assertEquals("20000|" + sum + "|" + len, ClientTools.one(facts, "big_copy_check", r), "every copied row arrived intact");
        assertEquals("57014", ClientTools.one(facts, "copy_fail", r), "CopyFail from the client: the server's 57014");
        node(ClientTools.one(facts, "after_copy_fail_port", r));
        assertEquals(primary, node(ClientTools.one(facts, "multi_statement_port", r)), "a write in a multi-statement query");
        Set<String> settingNodes = new HashSet<>();
        for (String s : facts.get("session_setting")) {
            String[] sp = s.split("@");
            assertEquals("Asia/Tokyo|sluice_nowhere, public", sp[0], "SET holds on " + node(sp[1]));
            settingNodes.add(node(sp[1]));
        }
        assertEquals(new HashSet<>(replicas), settingNodes, "the settings were checked on every replica");
        assertEquals("hello through the proxy", ClientTools.one(facts, "notify", r), "NOTIFY reached the LISTENing client");
        assertEquals(primary, node(ClientTools.one(facts, "after_listen_read_port", r)), "LISTEN pins the session to the primary");
        String[] tmp = ClientTools.one(facts, "temp_table", r).split("@");
        assertEquals("7", tmp[0]);
        assertEquals(primary, node(tmp[1]), "a session with a temp table reads it on the primary");
        assertEquals("ok", ClientTools.one(facts, "done", r));
    }

    private static String node(String port) {
        return f.node(Integer.parseInt(port.strip()));
    }
}
