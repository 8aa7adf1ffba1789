package dev.sluice.jdbc;

import dev.sluice.testsupport.Clusters;
import org.junit.jupiter.api.BeforeAll;

class PostgresSwitchoverIT extends AbstractSwitchoverIT {
    @BeforeAll
    static void start() {
        cluster = Clusters.startPostgres("switchover-pg", 2);
    }

    @Override
    String scheme() {
        return "postgresql";
    }

    @Override
    String adminParams() {
        return "&admin-user=postgres";
    }

    @Override
    String whereSql() {
        return "inet_server_port()";
    }
}
