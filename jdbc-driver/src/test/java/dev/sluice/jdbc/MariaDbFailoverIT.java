package dev.sluice.jdbc;

import dev.sluice.testsupport.Clusters;
import org.junit.jupiter.api.BeforeAll;

class MariaDbFailoverIT extends AbstractFailoverIT {
    @BeforeAll
    static void start() {
        cluster = Clusters.startMariaDb("failover-maria", 2);
    }

    @Override
    String scheme() {
        return "mariadb";
    }

    @Override
    String adminUser() {
        return "root";
    }

    @Override
    String createTable() {
        return "CREATE TABLE fo (id bigint PRIMARY KEY)";
    }

    @Override
    String whereSql() {
        return "@@port";
    }
}
