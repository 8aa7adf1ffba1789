package dev.sluice.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** psql, scripted, through the proxy: where each statement ran, asked of the server itself. */
class PsqlIT {
    static ProxyFixture f;

    @BeforeAll
    static void start() throws Exception {
        f = ProxyFixture.start("psql-pg", 2, null, null);
    }

    @AfterAll
    static void stop() {
        if (f != null) {
            f.close();
        }
    }

    static ProxyFixture.Run psql(String script) throws Exception {
        return ProxyFixture.run(List.of("psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", f.conninfo(null)), f.pgEnv(), script, Duration.ofSeconds(60));
    }

    @Test
    void readsGoToReplicasWritesToThePrimary() throws Exception {
        ProxyFixture.Run r = psql("""
                CREATE TABLE IF NOT EXISTS t_psql (id int primary key, port int);
                INSERT INTO t_psql VALUES (1, inet_server_port()) RETURNING port;
                SELECT inet_server_port();
                SELECT inet_server_port();
                BEGIN;
                SELECT inet_server_port();
                UPDATE t_psql SET port = inet_server_port() WHERE id = 1 RETURNING port;
                COMMIT;
                """);
        assertEquals(0, r.exit(), r.err());
        List<String> l = r.lines();
        // CREATE TABLE prints nothing with -At; INSERT ... RETURNING prints the port, then "INSERT 0 1"
        List<String> ports = l.stream().filter(s -> s.matches("\\d+")).toList();
        assertEquals(5, ports.size(), r.out());
        assertEquals(f.primaryName(), f.node(Integer.parseInt(ports.get(0))), "insert");
        assertTrue(f.replicaNames().contains(f.node(Integer.parseInt(ports.get(1)))), "autocommit read on a replica: " + l);
        assertTrue(f.replicaNames().contains(f.node(Integer.parseInt(ports.get(2)))), "autocommit read on a replica: " + l);
        assertEquals(f.primaryName(), f.node(Integer.parseInt(ports.get(3))), "read in a read-write transaction");
        assertEquals(f.primaryName(), f.node(Integer.parseInt(ports.get(4))), "update in the transaction");
    }
}
