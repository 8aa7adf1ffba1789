package dev.sluice.jdbc;

import dev.sluice.core.config.ClusterConfig;
import dev.sluice.core.config.Engine;
import dev.sluice.core.config.NodeConfig;
import java.util.Properties;

/** The real driver's URL and login properties for one node. */
final class NodeUrls {
    private NodeUrls() {
    }

    static String url(ClusterConfig c, NodeConfig n) {
        // MariaDB Connector/J speaks to MySQL servers too, so both engines use it
        String scheme = c.engine() == Engine.POSTGRESQL ? "jdbc:postgresql://" : "jdbc:mariadb://";
        String host = n.host().contains(":") ? "[" + n.host() + "]" : n.host();
        return scheme + host + ":" + n.port() + "/" + c.database();
    }

    /** Login and driver properties; timeouts bounded so a dead node can't hang a probe. */
    static Properties probeProperties(ClusterConfig c) {
        Properties p = baseProperties(c);
        int ms = c.probeTimeoutMs();
        if (c.engine() == Engine.POSTGRESQL) {
            int secs = Math.max(1, (ms + 999) / 1000);
            p.setProperty("connectTimeout", String.valueOf(secs));
            p.setProperty("socketTimeout", String.valueOf(secs));
            p.setProperty("loginTimeout", String.valueOf(secs));
            // a query timeout sends a cancel over a new connection; against a blackholed node pgjdbc would wait
            // 10 s (its default) for that cancel while closing the statement
            p.setProperty("cancelSignalTimeout", String.valueOf(secs));
        } else {
            p.setProperty("connectTimeout", String.valueOf(ms));
            p.setProperty("socketTimeout", String.valueOf(ms));
        }
        return p;
    }

    static Properties baseProperties(ClusterConfig c) {
        Properties p = new Properties();
        c.driverProperties().forEach(p::setProperty);
        if (c.user() != null) {
            p.setProperty("user", c.user());
        }
        if (c.password() != null) {
            p.setProperty("password", c.password());
        }
        return p;
    }
}
