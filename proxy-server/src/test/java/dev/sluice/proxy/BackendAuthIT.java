package dev.sluice.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sluice.proxy.pg.PgProxy;
import dev.sluice.testsupport.Clusters;
import dev.sluice.testsupport.DbCluster;
import dev.sluice.testsupport.DbNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The proxy logs in to its backends with each method PostgreSQL may ask for: SCRAM-SHA-256 (the harness's
 * default), md5, cleartext password and trust. Each backend user gets its own pg_hba.conf line on every node
 * (written through the server: {@code pg_read_file} / {@code COPY … TO} the hba_file, then a reload).
 */
class BackendAuthIT {
    static DbCluster cluster;

    @BeforeAll
    static void start() throws Exception {
        cluster = Clusters.startPostgres("backend-auth-pg", 1);
        try (Connection c = cluster.connectAdmin(cluster.primary()); Statement st = c.createStatement()) {
            st.execute("SET password_encryption = 'md5'");
            st.execute("CREATE ROLE be_md5 LOGIN PASSWORD 'md5-pw'");
            st.execute("CREATE ROLE be_plain LOGIN PASSWORD 'plain-pw'");
            st.execute("RESET password_encryption");
            st.execute("CREATE ROLE be_trust LOGIN");
            st.execute("GRANT ALL ON DATABASE " + cluster.database() + " TO be_md5, be_plain, be_trust");
        }
        cluster.waitForReplication(java.time.Duration.ofSeconds(10));
        for (DbNode n : cluster.nodes()) {
            try (Connection c = cluster.connectAdmin(n); Statement st = c.createStatement()) {
                String hba;
                try (ResultSet rs = st.executeQuery("SELECT pg_read_file(current_setting('hba_file'))")) {
                    rs.next();
                    hba = rs.getString(1);
                }
                // first match wins: these lines go before the harness's catch-all scram line; one row per line
                // (COPY's text format would escape a newline inside a value)
                java.util.List<String> lines = new java.util.ArrayList<>(java.util.List.of("host all be_md5 127.0.0.1/32 md5",
                        "host all be_plain 127.0.0.1/32 password", "host all be_trust 127.0.0.1/32 trust"));
                lines.addAll(java.util.Arrays.asList(hba.split("\n")));
                StringBuilder arr = new StringBuilder("ARRAY[");
                for (int i = 0; i < lines.size(); i++) {
                    arr.append(i == 0 ? "" : ",").append("'").append(lines.get(i).replace("'", "''")).append("'");
                }
                arr.append("]::text[]");
                st.execute("COPY (SELECT unnest(" + arr + ")) TO '" + hbaFile(st) + "'");
                st.execute("SELECT pg_reload_conf()");
            }
        }
    }

    static String hbaFile(Statement st) throws Exception {
        try (ResultSet rs = st.executeQuery("SELECT current_setting('hba_file')")) {
            rs.next();
            return rs.getString(1);
        }
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @ParameterizedTest
    @CsvSource({"be_md5, md5-pw", "be_plain, plain-pw", "be_trust, ''", "sluice, sluice-pw"})
    void theProxyLogsInToBackendsWithEachMethod(String backendUser, String backendPassword) throws Exception {
        StringBuilder y = new StringBuilder("clusters:\n  main:\n    engine: postgresql\n    database: " + cluster.database()
                + "\n    user: " + backendUser + "\n" + (backendPassword.isEmpty() ? "" : "    password: " + backendPassword + "\n")
                + "    admin-user: postgres\n    nodes:\n");
        for (DbNode n : cluster.nodes()) {
            y.append("      - { name: ").append(n.name()).append(", host: ").append(n.host()).append(", port: ").append(n.port()).append(" }\n");
        }
        y.append("proxy:\n  listen: 127.0.0.1:0\n  admin-listen: off\n  users:\n    - { name: app, password: \"")
                .append(PgProxy.scramVerifier("app-pw")).append("\" }\n");
        Path f = Files.createTempFile("backend-auth", ".yaml");
        Files.writeString(f, y);
        try (ProxyServer s = new ProxyServer(ProxyConfig.load(f));
             Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + s.pg().address().getPort() + "/"
                     + cluster.database(), "app", "app-pw");
             Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("/* sluice:primary */ SELECT current_user")) {
            rs.next();
            assertEquals(backendUser, rs.getString(1), "the backend session runs as the configured user");
        } finally {
            Files.deleteIfExists(f);
        }
    }
}
