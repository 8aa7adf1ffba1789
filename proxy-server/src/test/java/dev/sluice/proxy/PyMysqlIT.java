package dev.sluice.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.Statement;
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
 * pymysql (pure Python, Debian's python3-pymysql) through the proxy: mysql_native_password login, parameters,
 * autocommit and transactions (BEGIN and SET autocommit=0), errors, large and streamed results,
 * multi-statements, session state, KILL QUERY / KILL by the handshake's thread id, a wrong password. The
 * script prints facts; this test judges them.
 */
class PyMysqlIT {
    /** Debian's package is for the system Python; a pyenv python3 earlier on PATH would lack it. */
    static final String PYTHON = "/usr/bin/python3";
    static MyProxyFixture f;

    @BeforeAll
    static void start() throws Exception {
        ClientTools.require(PYTHON, "apt-get install python3");
        ProxyFixture.Run probe = MyProxyFixture.run(List.of(PYTHON, "-c", "import pymysql; print(pymysql.__version__)"), Map.of(), null,
                Duration.ofSeconds(60));
        if (probe.exit() != 0) {
            throw new AssertionError("pymysql is not importable by " + PYTHON + " (apt-get install python3-pymysql, or run bin/install-prereqs): "
                    + probe.err());
        }
        f = MyProxyFixture.start("pymysql-maria", 2);
        try (Connection c = f.cluster.connectAdmin(f.cluster.primary()); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE t_py (id int PRIMARY KEY, name varchar(60), amount decimal(10,2), written_on int)");
        }
        f.cluster.waitForReplication(Duration.ofSeconds(30));
    }

    @AfterAll
    static void stop() {
        if (f != null) {
            f.close();
        }
    }

    @Test
    void pymysqlWorksThroughTheProxyAndReadsGoToReplicas() throws Exception {
        Map<String, String> env = new HashMap<>();
        env.put("SLUICE_HOST", f.host());
        env.put("SLUICE_PORT", String.valueOf(f.port()));
        env.put("SLUICE_USER", MyProxyFixture.USER);
        env.put("SLUICE_PASSWORD", MyProxyFixture.PASSWORD);
        env.put("SLUICE_DB", f.database());
        ProxyFixture.Run r = ClientTools.run(List.of(PYTHON, ClientTools.script("pymysql_client.py").toString()), env, Duration.ofSeconds(180));
        assertEquals(0, r.exit(), "pymysql script failed:\n" + r.out() + "\n" + r.err());
        Map<String, List<String>> facts = ClientTools.facts(r);

        assertEquals(5, facts.get("insert_port").size(), r.out());
        for (String p : facts.get("insert_port")) {
            f.assertOnPrimary(port(p), "autocommit INSERT ... RETURNING");
        }
        assertEquals("10", ClientTools.one(facts, "executemany_rows", r), "executemany: one multi-row INSERT");
        Set<String> readNodes = new HashSet<>();
        for (String p : facts.get("autocommit_read_port")) {
            f.assertOnReadNode(port(p), "autocommit SELECT");
            readNodes.add(f.node(p));
        }
        assertEquals(f.readNodes(), readNodes, "ten autocommit reads reach every read node");
        assertEquals("name 'quoted' ü|4.5|None", ClientTools.one(facts, "params", r), "parameters and text round-trip");
        f.assertOnReadNode(port(ClientTools.one(facts, "params_port", r)), "a parameterised read");
        f.assertOnPrimary(port(ClientTools.one(facts, "for_update_port", r)), "SELECT ... FOR UPDATE");

        f.assertOnPrimary(port(ClientTools.one(facts, "tx_read_port", r)), "first read after BEGIN");
        f.assertOnPrimary(port(ClientTools.one(facts, "tx_update_port", r)), "read after the UPDATE in the transaction");
        assertEquals("101.50", ClientTools.one(facts, "tx_sees_own_write", r));
        assertEquals("0", ClientTools.one(facts, "rolled_back_rows", r));
        f.assertOnPrimary(port(ClientTools.one(facts, "autocommit_off_port", r)), "a read with autocommit=0 (a transaction)");
        f.assertOnReadNode(port(ClientTools.one(facts, "autocommit_on_again_port", r)), "a read after autocommit=1 again");

        assertEquals("1064", ClientTools.one(facts, "error_syntax", r));
        assertEquals("1146", ClientTools.one(facts, "error_undefined_table", r));
        assertEquals("1062", ClientTools.one(facts, "error_duplicate", r));
        for (String label : List.of("syntax", "undefined_table", "duplicate")) {
            assertEquals("42", ClientTools.one(facts, "after_error_" + label, r), "connection usable after " + label);
        }
        assertEquals("1146", ClientTools.one(facts, "tx_error", r));
        f.assertOnPrimary(port(ClientTools.one(facts, "tx_after_error_port", r)), "the transaction goes on after an error");
        assertEquals("before the error", ClientTools.one(facts, "tx_error_committed", r));

        long sum = 100_000L * 100_001L / 2;
        assertEquals("100000|" + sum + "|True", ClientTools.one(facts, "big_result", r), "100000 rows, all there");
        assertEquals("100000|" + sum, ClientTools.one(facts, "streamed_result", r), "an unbuffered cursor streamed every row");
        String[] multi = ClientTools.one(facts, "multi_statement", r).split("[@,]");
        assertEquals("multi", multi[0], "the UPDATE in the multi-statement text ran before the SELECT after it");
        f.assertOnPrimary(port(multi[1]), "first SELECT of a multi-statement text with a write");
        f.assertOnPrimary(port(multi[2]), "last SELECT of a multi-statement text with a write");

        assertEquals(4, facts.get("session_state").size(), r.out());
        for (String s : facts.get("session_state")) {
            String[] sp = s.split("@");
            assertEquals("42|ANSI_QUOTES", sp[0], "user variable and sql_mode hold on " + f.node(sp[1]));
        }
        String[] tmp = ClientTools.one(facts, "temp_table", r).split("@");
        assertEquals("7", tmp[0]);
        f.assertOnPrimary(port(tmp[1]), "a temporary table lives and is read on the primary");

        assertEquals("1317", ClientTools.one(facts, "kill_query", r), "KILL QUERY <thread_id()> interrupted the SLEEP");
        long ms = Long.parseLong(ClientTools.one(facts, "kill_query_ms", r));
        assertTrue(ms < 5000, "the killed SLEEP(10) returned after " + ms + " ms");
        f.assertOnReadNode(port(ClientTools.one(facts, "after_kill_query_port", r)), "the connection goes on after KILL QUERY");
        assertTrue(Set.of("2013", "2006", "1927").contains(ClientTools.one(facts, "after_kill", r)), "KILL <thread_id()> ended the connection: "
                + ClientTools.one(facts, "after_kill", r));
        assertEquals("42", ClientTools.one(facts, "killer_still_works", r));
        assertEquals("1045", ClientTools.one(facts, "auth_error", r));
        assertEquals("ok", ClientTools.one(facts, "done", r));
    }

    private static int port(String p) {
        return Integer.parseInt(p.strip());
    }
}
