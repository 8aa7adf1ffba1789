package dev.sluice.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The mariadb command-line client (Debian's, libmariadb underneath), scripted in batch mode through the
 * proxy: where each statement ran (asked of the server itself with {@code @@port}), a wrong password, TLS.
 */
class MariadbCliIT {
    static MyProxyFixture f;
    static String mariadb;

    @BeforeAll
    static void start() throws Exception {
        mariadb = ClientTools.require("mariadb", "apt-get install mariadb-client");
        f = MyProxyFixture.start("cli-maria", 2);
    }

    @AfterAll
    static void stop() {
        if (f != null) {
            f.close();
        }
    }

    /** mariadb -N -B against {@code fx} as {@code host}, the password from MYSQL_PWD; {@code args} then the script on stdin. */
    static ProxyFixture.Run cli(MyProxyFixture fx, String host, Map<String, String> env, String stdin, String... args) throws Exception {
        // --no-defaults first: Debian's /etc/mysql/*.cnf must not change what the test sends
        List<String> cmd = new ArrayList<>(List.of(mariadb, "--no-defaults", "--protocol=TCP", "-h", host, "-P", String.valueOf(fx.port()),
                "-u", MyProxyFixture.USER, "--connect-timeout=10", "-N", "-B"));
        cmd.addAll(List.of(args));
        cmd.add(fx.database());
        return MyProxyFixture.run(cmd, env, stdin, Duration.ofSeconds(60));
    }

    static ProxyFixture.Run cli(String stdin, String... args) throws Exception {
        return cli(f, f.host(), f.cliEnv(), stdin, args);
    }

    @Test
    void readsGoToReplicasWritesAndTransactionsToThePrimary() throws Exception {
        ProxyFixture.Run setup = cli("CREATE TABLE t_cli (id int PRIMARY KEY, port int, note varchar(40));\n"
                + "INSERT INTO t_cli VALUES (1, @@port, 'first') RETURNING port;\n");
        assertEquals(0, setup.exit(), setup.err());
        assertEquals(1, setup.lines().size(), setup.out());
        f.assertOnPrimary(Integer.parseInt(setup.lines().get(0)), "INSERT ... RETURNING");
        f.cluster.waitForReplication(Duration.ofSeconds(30));

        ProxyFixture.Run r = cli("""
                SELECT @@port;
                SELECT @@port;
                SELECT note, @@port FROM t_cli WHERE id = 1;
                SELECT port, @@port FROM t_cli WHERE id = 1 FOR UPDATE;
                BEGIN;
                SELECT @@port;
                UPDATE t_cli SET note = 'updated', port = @@port WHERE id = 1;
                SELECT note, @@port FROM t_cli WHERE id = 1;
                COMMIT;
                START TRANSACTION;
                INSERT INTO t_cli VALUES (2, @@port, 'rolled back');
                ROLLBACK;
                SELECT note, port, @@port FROM t_cli WHERE id = 1 FOR UPDATE;
                SELECT COUNT(*), @@port FROM t_cli WHERE id = 2 FOR UPDATE;
                """);
        assertEquals(0, r.exit(), r.err());
        List<String> l = r.lines();
        assertEquals(8, l.size(), r.out());
        f.assertOnReadNode(Integer.parseInt(l.get(0)), "autocommit SELECT @@port");
        f.assertOnReadNode(Integer.parseInt(l.get(1)), "autocommit SELECT @@port");
        String[] read = l.get(2).split("\t");
        assertEquals("first", read[0]);
        f.assertOnReadNode(Integer.parseInt(read[1]), "autocommit SELECT from a table");
        String[] locked = l.get(3).split("\t");
        f.assertOnPrimary(Integer.parseInt(locked[1]), "SELECT ... FOR UPDATE");
        f.assertOnPrimary(Integer.parseInt(l.get(4)), "first SELECT after BEGIN");
        String[] own = l.get(5).split("\t");
        assertEquals("updated", own[0], "the transaction sees its own write");
        f.assertOnPrimary(Integer.parseInt(own[1]), "SELECT after an UPDATE in the transaction");
        String[] after = l.get(6).split("\t");
        assertEquals("updated", after[0], "committed");
        f.assertOnPrimary(Integer.parseInt(after[1]), "the UPDATE inside BEGIN..COMMIT");
        f.assertOnPrimary(Integer.parseInt(after[2]), "SELECT ... FOR UPDATE after COMMIT");
        assertEquals("0", l.get(7).split("\t")[0], "ROLLBACK undid the INSERT");
        f.assertOnPrimary(Integer.parseInt(l.get(7).split("\t")[1]), "SELECT COUNT(*) ... FOR UPDATE");

        // the committed row reaches the replicas; autocommit reads there see it
        f.cluster.waitForReplication(Duration.ofSeconds(30));
        ProxyFixture.Run again = cli(null, "-e", "SELECT note, @@port FROM t_cli WHERE id = 1");
        assertEquals(0, again.exit(), again.err());
        String[] rep = again.lines().get(0).split("\t");
        assertEquals("updated", rep[0]);
        f.assertOnReadNode(Integer.parseInt(rep[1]), "autocommit read after replication");
    }

    @Test
    void anErrorInTheScriptStopsItWithTheServersCode() throws Exception {
        ProxyFixture.Run r = cli("SELECT 1;\nSELECT * FROM no_such_table;\nSELECT 2;\n");
        assertEquals(1, r.exit(), r.out());
        assertEquals(List.of("1"), r.lines(), "the script stopped at the error");
        assertTrue(r.err().contains("ERROR 1146 (42S02) at line 2"), r.err());
        ProxyFixture.Run syntax = cli(null, "-e", "SELEC 1");
        assertTrue(syntax.err().contains("ERROR 1064 (42000)"), syntax.err());
    }

    @Test
    void wrongPasswordOrUnknownUserGives1045() throws Exception {
        ProxyFixture.Run wrong = cli(f, f.host(), Map.of("MYSQL_PWD", "not-the-password"), null, "-e", "SELECT 1");
        assertEquals(1, wrong.exit(), wrong.out());
        assertTrue(wrong.err().contains("ERROR 1045 (28000)"), wrong.err());
        assertTrue(wrong.err().contains("Access denied for user 'app'"), wrong.err());
        assertTrue(wrong.out().isBlank(), wrong.out());

        List<String> cmd = List.of(mariadb, "--no-defaults", "--protocol=TCP", "-h", f.host(), "-P", String.valueOf(f.port()),
                "-u", "nobody", "--connect-timeout=10", "-N", "-B", "-e", "SELECT 1");
        ProxyFixture.Run unknown = MyProxyFixture.run(cmd, f.cliEnv(), null, Duration.ofSeconds(60));
        assertEquals(1, unknown.exit(), unknown.out());
        assertTrue(unknown.err().contains("ERROR 1045 (28000)"), unknown.err());

        ProxyFixture.Run right = cli(null, "-e", "SELECT 42");
        assertEquals(0, right.exit(), right.err());
        assertEquals(List.of("42"), right.lines(), "the right password still works after failures");
    }

    /** The client's own "status" command: its "SSL:" line says whether the connection is TLS. */
    static String sslLine(ProxyFixture.Run r) {
        assertEquals(0, r.exit(), r.err());
        return r.lines().stream().filter(s -> s.startsWith("SSL:")).findFirst().orElseThrow(() -> new AssertionError(r.out()));
    }

    @Test
    void withoutACertificateVerifiedTlsIsRefused() throws Exception {
        // the 10.11 client's --ssl is only a wish: without server TLS it connects in plain text
        assertTrue(sslLine(cli(null, "--ssl", "-e", "status")).contains("Not in use"));
        ProxyFixture.Run r = cli(null, "--ssl-verify-server-cert", "-e", "SELECT 1");
        assertNotEquals(0, r.exit(), r.out());
        assertTrue(r.err().contains("ERROR 2026") && r.err().contains("SSL is required, but the server does not support it"), r.err());
    }

    @Test
    void withACertificateTheCliNegotiatesTls(@TempDir Path dir) throws Exception {
        String tls = MyProxyFixture.tlsProxyExtra(dir);
        try (MyProxyFixture t = MyProxyFixture.start("cli-tls-maria", 0, null, tls)) {
            Map<String, String> env = t.cliEnv();
            assertTrue(sslLine(cli(t, t.host(), env, null, "--ssl", "-e", "status")).contains("Cipher in use is TLS"));
            // the certificate the proxy serves is the configured one: verified against itself as the CA
            String ca = "--ssl-ca=" + dir.resolve("cert.pem");
            assertTrue(sslLine(cli(t, "localhost", env, null, "--ssl-verify-server-cert", ca, "-e", "status")).contains("Cipher in use"));
            ProxyFixture.Run q = cli(t, "127.0.0.1", env, null, "--ssl-verify-server-cert", ca,
                    "-e", "CREATE TABLE t_tls_probe (id int); INSERT INTO t_tls_probe VALUES (@@port); SELECT id FROM t_tls_probe FOR UPDATE");
            assertEquals(0, q.exit(), q.err());
            t.assertOnPrimary(Integer.parseInt(q.lines().get(0)), "a write over TLS");
            // a verifying client refuses a certificate it has no CA for
            ProxyFixture.Run untrusted = cli(t, t.host(), env, null, "--ssl-verify-server-cert", "-e", "SELECT 1");
            assertNotEquals(0, untrusted.exit(), untrusted.out());
            assertTrue(untrusted.err().contains("ERROR 2026"), untrusted.err());
            // TLS is offered, not required: a client that skips it still gets in
            assertTrue(sslLine(cli(t, t.host(), env, null, "--skip-ssl", "-e", "status")).contains("Not in use"));
        }
    }
}
