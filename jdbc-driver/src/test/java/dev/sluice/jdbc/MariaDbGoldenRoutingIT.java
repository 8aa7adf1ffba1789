package dev.sluice.jdbc;

import dev.sluice.testsupport.Clusters;
import dev.sluice.testsupport.DbNode;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import org.junit.jupiter.api.BeforeAll;

class MariaDbGoldenRoutingIT extends AbstractGoldenRoutingIT {
    @BeforeAll
    static void start() throws Exception {
        cluster = Clusters.startMariaDb("golden-maria", 2);
        try (Connection c = cluster.connectAdmin(cluster.primary()); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE gt (id int auto_increment PRIMARY KEY, v varchar(40))");
            st.execute("INSERT INTO gt(v) VALUES ('one'), ('two')");
            st.execute("CREATE FUNCTION gr_fn() RETURNS int DETERMINISTIC RETURN 1");
            st.execute("CREATE PROCEDURE gr_proc() SELECT 1");
            st.execute("GRANT EXECUTE ON " + cluster.database() + ".* TO '" + cluster.user() + "'@'%'");
        }
        waitForReplication();
        enableLogs(new MariaDbGoldenRoutingIT());
    }

    @Override
    String engineName() {
        return "mariadb";
    }

    @Override
    String urlScheme() {
        return "mariadb";
    }

    @Override
    String extraParams() {
        return "&primary-functions=gr_fn&driver.allowMultiQueries=true";
    }

    private static final java.util.regex.Pattern LINE =
            java.util.regex.Pattern.compile("^(?:\\d{6}\\s+\\d{1,2}:\\d{2}:\\d{2})?\\s+(\\d+)\\s+(\\w+(?: \\w+)?)\\t(.*)$");

    /**
     * The general log also shows statements the replication SQL thread applies (DDL is replicated as
     * text, marker included). Only threads that logged in as the application user count: the SQL
     * thread never has a Connect line.
     */
    @Override
    boolean ranForAClient(String log, String marker) {
        java.util.Set<String> clientThreads = new java.util.HashSet<>();
        String thread = null;
        for (String line : log.split("\n")) {
            java.util.regex.Matcher m = LINE.matcher(line);
            if (m.matches()) {
                thread = m.group(1);
                if (m.group(2).equals("Connect") && m.group(3).startsWith(cluster.user() + "@")) {
                    clientThreads.add(thread);
                }
            }
            if (line.contains(marker) && thread != null && clientThreads.contains(thread)) {
                return true;
            }
        }
        return false;
    }

    @Override
    Path enableStatementLog(DbNode n) throws Exception {
        Path log = n.directory().resolve("general.log");
        try (Connection c = cluster.connectAdmin(n); Statement st = c.createStatement()) {
            st.execute("SET GLOBAL general_log_file = '" + log + "'");
            st.execute("SET GLOBAL log_output = 'FILE'");
            st.execute("SET GLOBAL general_log = 1");
        }
        return log;
    }
}
