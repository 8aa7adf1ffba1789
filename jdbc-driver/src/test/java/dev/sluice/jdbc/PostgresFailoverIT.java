package dev.sluice.jdbc;

import dev.sluice.testsupport.Clusters;
import org.junit.jupiter.api.BeforeAll;

class PostgresFailoverIT extends AbstractFailoverIT {
    @BeforeAll
    static void start() {
        cluster = Clusters.startPostgres("failover-pg", 2);
    }

    @Override
    String scheme() {
        return "postgresql";
    }

    @Override
    String adminUser() {
        return "postgres";
    }

    @Override
    String createTable() {
        return "CREATE TABLE fo (id bigint PRIMARY KEY)";
    }

    @Override
    String whereSql() {
        return "inet_server_port()";
    }
}
