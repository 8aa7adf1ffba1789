package dev.sluice.proxy;

import dev.sluice.core.route.RouteDecision;
import dev.sluice.jdbc.SluiceDriver;
import dev.sluice.jdbc.SluiceRouted;
import dev.sluice.testsupport.Clusters;
import dev.sluice.testsupport.DbCluster;
import dev.sluice.testsupport.DbNode;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The quickstart. PostgreSQL (default): a local primary with two replicas behind the Sluice proxy and its
 * admin API ({@link ProxyDemo}), running until Ctrl-C. MariaDB (no wire proxy yet): the same cluster shape
 * through the {@code jdbc:sluice:} driver, printing for each statement where Sluice routed it, why, and
 * which server answered.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Start a local replicated cluster behind Sluice and show where each statement goes.")
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--engine", defaultValue = "both",
            description = "postgresql or mariadb (that proxy), both (the two proxies), or driver (the JDBC driver's tour on MariaDB) "
                    + "(default: ${DEFAULT-VALUE})")
    String engine;

    @Option(names = "--port", defaultValue = "6432", description = "PostgreSQL proxy port (default: ${DEFAULT-VALUE}; 0 = any free port)")
    int port;

    @Option(names = "--admin-port", defaultValue = "6480", description = "PostgreSQL proxy's admin API port (default: ${DEFAULT-VALUE}; 0 = any)")
    int adminPort;

    @Option(names = "--mysql-port", defaultValue = "6033", description = "MySQL proxy port (default: ${DEFAULT-VALUE}; 0 = any free port)")
    int mysqlPort;

    @Option(names = "--mysql-admin-port", defaultValue = "6481", description = "MySQL proxy's admin API port (default: ${DEFAULT-VALUE}; 0 = any)")
    int mysqlAdminPort;

    @Option(names = "--exit", description = "Stop after the guided tour instead of running until Ctrl-C.")
    boolean exitAfterTour;

    @Option(names = "--keep-running", description = "MariaDB: keep the cluster running until Ctrl-C, printing the JDBC URL.")
    boolean keepRunning;

    @Override
    public Integer call() throws Exception {
        boolean pg = engine.equals("both") || engine.equals("postgresql");
        boolean maria = engine.equals("both") || engine.equals("mariadb");
        if (engine.equals("driver")) {
            try (DbCluster c = Clusters.startMariaDb("demo-maria", 2)) {
                run(c, false);
                SluiceDriver.closeAll(); // before the servers stop, so probes don't report them dying
            }
            return 0;
        }
        if (!pg && !maria) {
            System.err.println("--engine: expected postgresql, mariadb, both or driver, got '" + engine + "'");
            return 2;
        }
        List<ProxyDemo> demos = new java.util.ArrayList<>();
        // Ctrl-C ends the JVM without unwinding this thread: clean up from a shutdown hook
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            synchronized (demos) {
                demos.forEach(ProxyDemo::close);
                if (!demos.isEmpty()) {
                    System.out.println("sluice demo: proxies stopped, clusters removed");
                }
                demos.clear();
            }
        }, "sluice-demo-cleanup"));
        try {
            if (pg) {
                ProxyDemo d = new ProxyDemo(true, System.out, port, adminPort);
                synchronized (demos) {
                    demos.add(d);
                }
                d.start();
            }
            if (maria) {
                ProxyDemo d = new ProxyDemo(false, System.out, mysqlPort, mysqlAdminPort);
                synchronized (demos) {
                    demos.add(d);
                }
                d.start();
            }
            if (exitAfterTour) {
                return 0;
            }
            System.out.println();
            System.out.println("The proxies keep running.");
            synchronized (demos) {
                demos.forEach(ProxyDemo::printHints);
            }
            System.out.println("Every routing decision is logged below. Ctrl-C stops the proxies and removes the clusters.");
            System.out.println();
            Thread.currentThread().join();
            return 0;
        } finally {
            synchronized (demos) {
                demos.forEach(ProxyDemo::close);
                demos.clear();
            }
        }
    }

    private void run(DbCluster c, boolean pg) throws Exception {
        Map<Integer, String> byPort = new HashMap<>();
        StringBuilder hosts = new StringBuilder();
        for (DbNode n : c.nodes()) {
            byPort.put(n.port(), n.name());
            hosts.append(hosts.length() == 0 ? "" : ",").append(n.host()).append(':').append(n.port());
        }
        String url = "jdbc:sluice:" + (pg ? "postgresql" : "mariadb") + "://" + hosts + "/" + c.database()
                + "?user=" + c.user() + "&password=" + c.password();
        System.out.println();
        System.out.println("== " + (pg ? "PostgreSQL" : "MariaDB") + " cluster: primary " + c.primary().name()
                + " :" + c.primary().port() + ", replicas " + c.replicas().stream().map(n -> n.name() + " :" + n.port()).toList());
        System.out.println("   URL: " + url.replace(c.password(), "***"));
        String where = pg ? "inet_server_port()" : "@@port";
        try (Connection conn = DriverManager.getConnection(url)) {
            Statement st = conn.createStatement();
            st.execute("CREATE TABLE IF NOT EXISTS demo (id " + (pg ? "serial" : "int auto_increment") + " PRIMARY KEY, note varchar(40), written_by int)");
            c.waitForReplication(Duration.ofSeconds(10));
            List<String> statements = List.of(
                    "SELECT 'hello', " + where,
                    "SELECT count(*), " + where + " FROM demo",
                    "INSERT INTO demo(note, written_by) VALUES ('written', " + where + ")",
                    "SELECT max(written_by), " + where + " FROM demo",
                    "SELECT id, " + where + " FROM demo ORDER BY id LIMIT 1 FOR UPDATE",
                    pg ? "SELECT currval('demo_id_seq'), " + where : "SELECT LAST_INSERT_ID(), " + where,
                    "/* sluice:primary */ SELECT 'hinted', " + where,
                    "SELECT 'another read', " + where);
            for (String sql : statements) {
                show(st, sql, byPort);
            }
            System.out.println("-- a transaction stays on one node:");
            conn.setAutoCommit(false);
            show(st, "SELECT 'in transaction', " + where, byPort);
            show(st, "UPDATE demo SET note = 'updated' WHERE id = 1", byPort);
            conn.commit();
            System.out.println("-- a read-only transaction goes to one replica:");
            conn.setReadOnly(true);
            show(st, "SELECT 'read-only tx', " + where, byPort);
            show(st, "SELECT 'same tx', " + where, byPort);
            conn.commit();
            conn.setReadOnly(false);
            conn.setAutoCommit(true);
        }
        if (keepRunning) {
            System.out.println("Cluster running; connect with the URL above (password: " + c.password() + "). Ctrl-C to stop.");
            Thread.currentThread().join();
        }
    }

    private static void show(Statement st, String sql, Map<Integer, String> byPort) throws SQLException {
        String answered = "-";
        if (st.execute(sql)) {
            try (ResultSet rs = st.getResultSet()) {
                if (rs.next()) {
                    int cols = rs.getMetaData().getColumnCount();
                    int port = rs.getInt(cols);
                    answered = byPort.getOrDefault(port, "port " + port);
                    for (int i = 1; i < cols; i++) { // e.g. max(written_by): the node that wrote the row
                        String v = rs.getString(i);
                        if (v != null && v.matches("\\d{1,5}") && byPort.containsKey(Integer.parseInt(v))) {
                            answered += " (" + rs.getMetaData().getColumnLabel(i) + " = " + byPort.get(Integer.parseInt(v)) + ")";
                        }
                    }
                }
            }
        }
        RouteDecision d = st.unwrap(SluiceRouted.class).lastRoute();
        System.out.printf("  %-70s -> %-12s %-46s server: %s%n", abbreviate(sql), d.node(), d.reason(), answered);
    }

    private static String abbreviate(String s) {
        return s.length() <= 70 ? s : s.substring(0, 67) + "...";
    }
}
