package dev.sluice.proxy;

import dev.sluice.proxy.mysql.MyAuth;
import dev.sluice.testsupport.DbCluster;
import dev.sluice.testsupport.DbNode;
import java.nio.file.Files;
import java.nio.file.Path;

/** Config files for proxies in front of test clusters. */
public final class ProxyConfigs {
    public static final String MYSQL_USER = "app";
    public static final String MYSQL_PASSWORD = "app-secret";
    public static final String MYSQL_SHA2_USER = "app2";
    public static final String MYSQL_SHA2_PASSWORD = "app2-secret";

    private ProxyConfigs() {
    }

    /** A MySQL proxy config for {@code c}; {@code proxyExtra} lines are appended to the proxy: section. */
    public static String mysqlYaml(DbCluster c, String clusterExtra, String proxyExtra) {
        StringBuilder y = new StringBuilder("clusters:\n  main:\n    engine: mariadb\n    database: " + c.database()
                + "\n    user: " + c.user() + "\n    password: " + c.password() + "\n    pool-max-size: 40\n"
                + (clusterExtra == null ? "" : clusterExtra) + "    nodes:\n");
        for (DbNode n : c.nodes()) {
            y.append("      - { name: ").append(n.name()).append(", host: ").append(n.host()).append(", port: ").append(n.port()).append(" }\n");
        }
        y.append("proxy:\n  listen: 127.0.0.1:0\n  admin-listen: 127.0.0.1:0\n  admin-token: test-token\n  users:\n")
                .append("    - { name: ").append(MYSQL_USER).append(", password: \"").append(MyAuth.nativeHash(MYSQL_PASSWORD)).append("\" }\n")
                .append("    - { name: ").append(MYSQL_SHA2_USER).append(", password: \"").append(MyAuth.sha2Hash(MYSQL_SHA2_PASSWORD)).append("\" }\n")
                .append(proxyExtra == null ? "" : proxyExtra);
        return y.toString();
    }

    /** Starts a MySQL proxy for {@code c} and waits until it sees the primary and every replica. */
    public static ProxyServer startMysql(DbCluster c, String proxyExtra) throws Exception {
        Path f = Files.createTempFile("sluice-mysql-proxy", ".yaml");
        Files.writeString(f, mysqlYaml(c, null, proxyExtra));
        ProxyServer s = new ProxyServer(ProxyConfig.load(f));
        Files.deleteIfExists(f);
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (System.nanoTime() < deadline) {
            var t = s.runtime().router().topology();
            if (t.primary() != null && t.replicas().size() >= c.replicas().size()) {
                return s;
            }
            Thread.onSpinWait();
            java.util.concurrent.locks.LockSupport.parkNanos(50_000_000L);
        }
        s.close();
        throw new AssertionError("the proxy never saw the primary and " + c.replicas().size() + " replicas");
    }
}
