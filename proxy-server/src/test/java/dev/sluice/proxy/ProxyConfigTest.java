package dev.sluice.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.core.config.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The proxy: section is validated at startup; every error names the key and never echoes a secret. */
class ProxyConfigTest {
    static final String CLUSTER = "clusters:\n  main:\n    engine: postgresql\n    database: app\n    user: app\n    password: pw\n"
            + "    nodes:\n      - { name: a, host: 127.0.0.1, port: 5432 }\n";
    static final String VERIFIER = "SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy";

    static ProxyConfig load(String yaml) throws Exception {
        Path f = Files.createTempFile("proxy-config", ".yaml");
        try {
            Files.writeString(f, yaml);
            return ProxyConfig.load(f);
        } finally {
            Files.deleteIfExists(f);
        }
    }

    static String error(String proxySection) {
        return assertThrows(ConfigException.class, () -> load(CLUSTER + "proxy:\n" + proxySection)).getMessage();
    }

    @Test
    void defaults() throws Exception {
        ProxyConfig c = load(CLUSTER + "proxy:\n  users:\n    - { name: u, password: \"" + VERIFIER + "\" }\n");
        assertEquals(6432, c.listen().getPort());
        assertEquals("127.0.0.1", c.listen().getHostString());
        assertEquals("scram-sha-256", c.auth());
        assertEquals(6480, c.adminListen().getPort());
        assertTrue(c.cluster().failoverAuto(), "failover is on by default in the proxy");
    }

    @Test
    void explicitFailoverOffIsKept() throws Exception {
        ProxyConfig c = load(CLUSTER.replace("    nodes:", "    failover: off\n    nodes:") + "proxy:\n  auth: trust\n");
        assertTrue(!c.cluster().failoverAuto());
    }

    @Test
    void errorsNameTheKey() {
        assertTrue(error("  auth: trust\n  lisen: 1.2.3.4:5\n").contains("proxy.lisen: unknown option"));
        assertTrue(error("  auth: kerberos\n").contains("proxy.auth: expected scram-sha-256, md5, trust for a postgresql cluster, got 'kerberos'"));
        assertTrue(error("  auth: md5\n").contains("proxy.users: auth is md5 but no users"));
        assertTrue(error("  auth: trust\n  listen: nowhere\n").contains("proxy.listen: expected host:port"));
        assertTrue(error("  auth: trust\n  tls-required: true\n").contains("tls-required: true but no tls-cert"));
        assertTrue(error("  auth: trust\n  tls-cert: /no/such/cert.pem\n  tls-key: /no/such/key.pem\n").contains("tls-cert: /no/such/cert.pem is not a readable file"));
        assertTrue(error("  auth: trust\n  max-client-connections: lots\n").contains("max-client-connections: expected a number, got 'lots'"));
    }

    @Test
    void plaintextPasswordsAreRefusedWithoutEchoingThem() {
        String msg = error("  users:\n    - { name: u, password: hunter2 }\n");
        assertTrue(msg.contains("users[0] (u).password: expected a SCRAM-SHA-256 verifier or an md5 hash"), msg);
        assertTrue(!msg.contains("hunter2"), msg);
    }

    @Test
    void mysqlClustersGetTheMysqlDefaultsAndSecrets() throws Exception {
        String maria = CLUSTER.replace("postgresql", "mariadb");
        ProxyConfig c = load(maria + "proxy:\n  users:\n    - { name: app, password: \"" + dev.sluice.proxy.mysql.MyAuth.nativeHash("pw") + "\" }\n");
        assertEquals("password", c.auth());
        assertEquals(6033, c.listen().getPort());
        assertEquals(6432, load(CLUSTER + "proxy:\n  auth: trust\n").listen().getPort());
        String msg = assertThrows(ConfigException.class, () -> load(maria + "proxy:\n  auth: scram-sha-256\n")).getMessage();
        assertTrue(msg.contains("proxy.auth: expected password, trust for a mariadb cluster, got 'scram-sha-256'"), msg);
        msg = assertThrows(ConfigException.class, () -> load(maria + "proxy:\n  users:\n    - { name: app, password: \""
                + dev.sluice.proxy.pg.PgProxy.scramVerifier("pw") + "\" }\n")).getMessage();
        assertTrue(msg.contains("(app).password: expected a mysql_native_password hash"), msg);
        assertTrue(!msg.contains("SCRAM-SHA-256$"), "the secret is not echoed: " + msg);
    }

    @Test
    void alertOptions() throws Exception {
        ProxyConfig none = load(CLUSTER + "proxy:\n  auth: trust\n");
        assertTrue(!none.alerts().enabled());
        assertEquals(60_000, none.alerts().dedupMs());
        ProxyConfig c = load(CLUSTER + "proxy:\n  auth: trust\n  alert-webhooks: https://hooks.example.com/T0/secret-part\n"
                + "  alert-command: logger -t sluice\n  alert-dedup-ms: 0\n  alert-timeout-ms: 2000\n");
        assertEquals(java.util.List.of(java.net.URI.create("https://hooks.example.com/T0/secret-part")), c.alerts().webhooks());
        assertEquals("logger -t sluice", c.alerts().command());
        assertEquals(0, c.alerts().dedupMs());
        assertEquals(2000, c.alerts().timeoutMs());
        assertTrue(!c.toString().contains("secret-part") && !c.alerts().toString().contains("logger"), c.toString());
        ProxyConfig two = load(CLUSTER + "proxy:\n  auth: trust\n  alert-webhooks:\n    - http://a:1/x\n    - http://b/y\n");
        assertEquals(2, two.alerts().webhooks().size());
    }

    @Test
    void alertOptionErrorsDoNotEchoTheUrl() {
        String e = error("  auth: trust\n  alert-webhooks: [\"ftp://h/tok3n\"]\n");
        assertTrue(e.contains("proxy.alert-webhooks[0]: expected an http:// or https:// URL") && !e.contains("tok3n"), e);
        assertTrue(error("  auth: trust\n  alert-dedup-ms: -1\n").contains("alert-dedup-ms: must be at least 0"));
        assertTrue(error("  auth: trust\n  alert-command: \" \"\n").contains("alert-command: empty"));
    }

    @Test
    void toStringHasNoAdminToken() throws Exception {
        ProxyConfig c = load(CLUSTER + "proxy:\n  auth: trust\n  admin-token: s3cret-token\n");
        assertTrue(!c.toString().contains("s3cret-token"), c.toString());
    }

    @Test
    void trustOnlyOnLoopback() throws Exception {
        assertEquals("trust", load(CLUSTER + "proxy:\n  auth: trust\n  listen: 127.0.0.1:6432\n").auth());
        assertEquals("trust", load(CLUSTER + "proxy:\n  auth: trust\n  listen: \"[::1]:6432\"\n").auth());
        for (String host : new String[] {"0.0.0.0", "10.1.2.3"}) {
            String e = error("  auth: trust\n  listen: " + host + ":6432\n");
            assertTrue(e.contains("proxy.auth: trust (no password) is only accepted when listen is a loopback address"), e);
            assertTrue(e.contains("listen is " + host), e);
        }
        // the default is scram-sha-256, which needs users: nothing is open by default
        assertTrue(error("").contains("proxy.users: auth is scram-sha-256 but no users"));
    }

    @Test
    void authFailureOptions() throws Exception {
        ProxyConfig d = load(CLUSTER + "proxy:\n  auth: trust\n");
        assertEquals(5, d.authFailureLimit());
        assertEquals(60_000, d.authFailureWindowMs());
        ProxyConfig c = load(CLUSTER + "proxy:\n  auth: trust\n  auth-failure-limit: 0\n  auth-failure-window-ms: 1000\n");
        assertEquals(0, c.authFailureLimit());
        assertEquals(1000, c.authFailureWindowMs());
        assertTrue(error("  auth: trust\n  auth-failure-limit: -1\n").contains("proxy.auth-failure-limit: must be at least 0"));
        assertTrue(error("  auth: trust\n  auth-failure-window-ms: 0\n").contains("proxy.auth-failure-window-ms: must be at least 1"));
    }

    @Test
    void adminExposureIsWarnedAbout() throws Exception {
        assertEquals(java.util.List.of(), load(CLUSTER + "proxy:\n  auth: trust\n").warnings());
        ProxyConfig open = load(CLUSTER + "proxy:\n  auth: trust\n  admin-listen: 0.0.0.0:6480\n");
        assertEquals(1, open.warnings().size(), open.warnings().toString());
        assertTrue(open.warnings().get(0).contains("proxy.admin-listen: 0.0.0.0 is not a loopback address and no admin-token is set"),
                open.warnings().toString());
        ProxyConfig clear = load(CLUSTER + "proxy:\n  auth: trust\n  admin-listen: 0.0.0.0:6480\n  admin-token: s3cret-token\n");
        assertTrue(clear.warnings().get(0).contains("admin-tls is off"), clear.warnings().toString());
        assertTrue(!clear.warnings().toString().contains("s3cret-token"));
        assertTrue(error("  auth: trust\n  admin-tls: true\n").contains("proxy.admin-tls: true but no tls-cert"));
        assertTrue(error("  auth: trust\n  admin-token: \" \"\n").contains("proxy.admin-token: empty"));
    }

    @Test
    void worldReadableFileIsWarnedAbout() throws Exception {
        assertTrue(java.nio.file.FileSystems.getDefault().supportedFileAttributeViews().contains("posix"), "needs POSIX file permissions");
        Path f = Files.createTempFile("proxy-config", ".yaml");
        try {
            Files.writeString(f, CLUSTER + "proxy:\n  auth: trust\n");
            Files.setPosixFilePermissions(f, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
            ProxyConfig c;
            try (LogCapture log = new LogCapture()) {
                c = ProxyConfig.load(f);
                assertTrue(log.text().contains("WARN") && log.text().contains("is readable by every user of this machine"), log.text());
            }
            assertEquals(1, c.warnings().size(), c.warnings().toString());
            assertTrue(c.warnings().get(0).contains(f + " is readable by every user of this machine (mode rw-r--r--)"), c.warnings().get(0));
            assertTrue(c.warnings().get(0).contains("chmod o-r"));
            Files.setPosixFilePermissions(f, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r-----"));
            assertEquals(java.util.List.of(), ProxyConfig.load(f).warnings());
        } finally {
            Files.deleteIfExists(f);
        }
    }

    static final String SHARDED = "clusters:\n"
            + "  c1: { engine: postgresql, database: d1, user: app, password: pw, nodes: [ { name: a, host: 127.0.0.1, port: 5432 } ] }\n"
            + "  c2: { engine: postgresql, database: d2, user: app, password: pw, failover: off, nodes: [ { name: b, host: 127.0.0.1, port: 5432 } ] }\n"
            + "databases:\n  app:\n    shards: [ { name: s1, cluster: c1 }, { name: s2, cluster: c2 } ]\n"
            + "    tables:\n      orders: { key: customer_id, strategy: hash }\n";

    @Test
    void shardedDatabase() throws Exception {
        ProxyConfig c = load(SHARDED + "proxy:\n  auth: trust\n  database: app\n");
        assertTrue(c.isSharded());
        assertEquals("app", c.sharded().map().database());
        assertEquals(java.util.List.of("c1", "c2"), c.sharded().shards().stream().map(x -> x.name()).toList());
        assertTrue(c.sharded().shards().get(0).failoverAuto(), "failover is on by default for each shard");
        assertTrue(!c.sharded().shards().get(1).failoverAuto(), "a shard's explicit failover: off is kept");
        assertEquals("c1", c.cluster().name(), "cluster() is the first shard's");
        assertTrue(c.toString().contains("database=app"), c.toString());
        assertTrue(!load(CLUSTER + "proxy:\n  auth: trust\n").isSharded());
    }

    @Test
    void shardedDatabaseErrorsNameTheKey() {
        String both = assertThrows(ConfigException.class, () -> load(SHARDED + "proxy:\n  auth: trust\n  database: app\n  cluster: c1\n")).getMessage();
        assertTrue(both.contains("proxy.database: 'app' and proxy.cluster: 'c1' both given"), both);
        String missing = assertThrows(ConfigException.class, () -> load(SHARDED + "proxy:\n  auth: trust\n  database: shop\n")).getMessage();
        assertTrue(missing.contains("proxy.database: 'shop' is not under databases: in the file (has [app])"), missing);
        String none = assertThrows(ConfigException.class, () -> load(CLUSTER + "proxy:\n  auth: trust\n  database: app\n")).getMessage();
        assertTrue(none.contains("proxy.database: 'app' is not under databases: in the file (it has no databases: section)"), none);
        String mixed = assertThrows(ConfigException.class, () -> load(SHARDED.replace("c2: { engine: postgresql", "c2: { engine: mariadb")
                + "proxy:\n  auth: trust\n  database: app\n")).getMessage();
        assertTrue(mixed.contains("shard s2 is mariadb but shard s1 is postgresql"), mixed);
        String bad = assertThrows(ConfigException.class, () -> load(SHARDED.replace("cluster: c2", "cluster: c9")
                + "proxy:\n  auth: trust\n  database: app\n")).getMessage();
        assertTrue(bad.contains("c9"), bad);
    }
}
