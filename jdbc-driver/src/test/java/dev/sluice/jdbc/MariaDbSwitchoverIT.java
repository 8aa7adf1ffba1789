package dev.sluice.jdbc;

import dev.sluice.testsupport.Clusters;
import org.junit.jupiter.api.BeforeAll;

class MariaDbSwitchoverIT extends AbstractSwitchoverIT {
    @BeforeAll
    static void start() {
        cluster = Clusters.startMariaDb("switchover-maria", 2);
    }

    @Override
    String scheme() {
        return "mariadb";
    }

    @Override
    String adminParams() {
        return "&admin-user=root&replication-user=repl&replication-password=repl-pw";
    }

    @Override
    String whereSql() {
        return "@@port";
    }
}
