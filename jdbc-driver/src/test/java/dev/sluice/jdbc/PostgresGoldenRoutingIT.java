package dev.sluice.jdbc;

import dev.sluice.testsupport.Clusters;
import dev.sluice.testsupport.DbNode;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import org.junit.jupiter.api.BeforeAll;

class PostgresGoldenRoutingIT extends AbstractGoldenRoutingIT {
    @BeforeAll
    static void start() throws Exception {
        cluster = Clusters.startPostgres("golden-pg", 2);
        try (Connection c = cluster.connectAdmin(cluster.primary()); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE gt (id serial PRIMARY KEY, v text)");
            st.execute("INSERT INTO gt(v) VALUES ('one'), ('two')");
            st.execute("CREATE SEQUENCE gseq");
            st.execute("CREATE FUNCTION gr_fn() RETURNS int LANGUAGE sql AS 'SELECT 1'");
            st.execute("CREATE PROCEDURE gr_proc() LANGUAGE sql AS 'SELECT 1'");
            st.execute("GRANT ALL ON SCHEMA public TO " + cluster.user());
            st.execute("GRANT ALL ON ALL TABLES IN SCHEMA public TO " + cluster.user());
            st.execute("GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO " + cluster.user());
        }
        waitForReplication();
        enableLogs(new PostgresGoldenRoutingIT());
    }

    @Override
    String engineName() {
        return "postgresql";
    }

    @Override
    String urlScheme() {
        return "postgresql";
    }

    @Override
    String extraParams() {
        return "&primary-functions=gr_fn";
    }

    @Override
    Path enableStatementLog(DbNode n) throws Exception {
        try (Connection c = cluster.connectAdmin(n); Statement st = c.createStatement()) {
            st.execute("ALTER SYSTEM SET log_statement = 'all'");
            st.execute("SELECT pg_reload_conf()");
        }
        return n.logFile();
    }
}
