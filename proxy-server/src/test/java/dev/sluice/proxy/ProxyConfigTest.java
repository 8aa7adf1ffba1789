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
        assertTrue(error("  auth: kerberos\n").contains("proxy.auth: expected scram-sha-256, md5 or trust, got 'kerberos'"));
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
    void onlyPostgresClustersCanBeProxied() {
        String msg = assertThrows(ConfigException.class, () -> load(CLUSTER.replace("postgresql", "mariadb") + "proxy:\n  auth: trust\n")).getMessage();
        assertTrue(msg.contains("the proxy speaks the PostgreSQL protocol"), msg);
    }
}
