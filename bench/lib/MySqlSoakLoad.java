import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The load of bench/soak ENGINE=mysql: CLIENTS threads, one MySQL connection each (MariaDB Connector/J, text
 * protocol), for DURATION seconds, each picking by weight
 * <ul>
 *   <li>a read: {@code SELECT balance FROM soak_accounts WHERE id = ?} in autocommit (kind 0), or</li>
 *   <li>a write transaction: {@code BEGIN; UPDATE soak_accounts ... ; INSERT INTO soak_ledger (client, seq, ...);
 *       SELECT balance ...; COMMIT} (kind 1).</li>
 * </ul>
 * Unlike pgbench, a client does not stop at its first error: every error is counted by kind (read/write, the step
 * it failed in, SQLSTATE, error code, message with numbers masked), the connection is replaced when it is broken,
 * and the client goes on. Lost writes are checkable afterwards: every acknowledged COMMIT's (client, seq) goes to
 * {@code acked.txt}, every COMMIT whose outcome is unknown (error or lost connection during COMMIT) to
 * {@code in-doubt.txt}; the caller compares them with the ledger rows on the primary.
 *
 * <p>Outputs in OUT_DIR: {@code txlog/tx.<client>} in pgbench's {@code --log} format
 * ({@code client tx_no latency_us kind epoch_s epoch_us}, successful transactions only), {@code summary.txt},
 * {@code errors.txt} (the first 200 errors with their time), acked.txt, in-doubt.txt; progress on stdout.
 *
 * <p>Run as a single-file program: {@code java -cp mariadb-java-client.jar MySqlSoakLoad.java key=value ...}
 * (keys: host port user password db clients duration read-weight write-weight accounts out progress).
 */
public class MySqlSoakLoad {
    static final int MAX_LOGGED_ERRORS = 200;

    final String url;
    final int clients;
    final int durationS;
    final int readWeight;
    final int writeWeight;
    final int accounts;
    final Path out;
    final int progressS;

    final LongAdder readsOk = new LongAdder();
    final LongAdder writesOk = new LongAdder();
    final LongAdder errorsAll = new LongAdder();
    final LongAdder reconnects = new LongAdder();
    final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
    final AtomicInteger loggedErrors = new AtomicInteger();
    final AtomicInteger connected = new AtomicInteger();
    final PrintWriter errorLog;
    long startMillis;
    long endNanos;
    volatile long allConnectedMillis = -1;

    MySqlSoakLoad(Map<String, String> o) throws IOException {
        url = "jdbc:mariadb://" + o.getOrDefault("host", "127.0.0.1") + ":" + need(o, "port") + "/" + need(o, "db")
                + "?user=" + need(o, "user") + "&password=" + need(o, "password")
                // a hung statement becomes an error (counted) instead of a client stuck for the rest of the run
                + "&connectTimeout=30000&socketTimeout=60000";
        clients = Integer.parseInt(need(o, "clients"));
        durationS = Integer.parseInt(need(o, "duration"));
        readWeight = Integer.parseInt(o.getOrDefault("read-weight", "9"));
        writeWeight = Integer.parseInt(o.getOrDefault("write-weight", "1"));
        accounts = Integer.parseInt(need(o, "accounts"));
        out = Path.of(need(o, "out"));
        progressS = Integer.parseInt(o.getOrDefault("progress", "5"));
        Files.createDirectories(out.resolve("txlog"));
        errorLog = new PrintWriter(Files.newBufferedWriter(out.resolve("errors.txt")), true);
    }

    static String need(Map<String, String> o, String key) {
        String v = o.get(key);
        if (v == null) {
            throw new IllegalArgumentException("missing argument " + key + "=...");
        }
        return v;
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> o = new HashMap<>();
        for (String a : args) {
            int eq = a.indexOf('=');
            if (eq < 1) {
                throw new IllegalArgumentException("arguments are key=value, not '" + a + "'");
            }
            o.put(a.substring(0, eq), a.substring(eq + 1));
        }
        new MySqlSoakLoad(o).run();
    }

    void run() throws Exception {
        startMillis = System.currentTimeMillis();
        endNanos = System.nanoTime() + durationS * 1_000_000_000L;
        List<Client> all = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            Client c = new Client(i);
            all.add(c);
            // small stacks: 1,000 threads that only run JDBC calls
            Thread t = new Thread(null, c, "client-" + i, 256 * 1024);
            threads.add(t);
            t.start();
        }
        long prevOk = 0;
        long next = System.nanoTime();
        while (threads.stream().anyMatch(Thread::isAlive)) {
            next += progressS * 1_000_000_000L;
            long sleep = (next - System.nanoTime()) / 1_000_000;
            if (sleep > 0) {
                Thread.sleep(sleep);
            }
            long ok = readsOk.sum() + writesOk.sum();
            System.out.printf("progress: %d s, %.1f tps, reads %d, writes %d, errors %d, connected %d%n",
                    (System.currentTimeMillis() - startMillis) / 1000, (ok - prevOk) / (double) progressS,
                    readsOk.sum(), writesOk.sum(), errorsAll.sum(), connected.get());
            prevOk = ok;
        }
        for (Thread t : threads) {
            t.join();
        }
        long elapsed = System.currentTimeMillis() - startMillis;
        try (PrintWriter acked = new PrintWriter(Files.newBufferedWriter(out.resolve("acked.txt")));
             PrintWriter doubt = new PrintWriter(Files.newBufferedWriter(out.resolve("in-doubt.txt")))) {
            for (Client c : all) {
                for (int s : c.acked) {
                    acked.println(c.id + "\t" + s);
                }
                for (int s : c.inDoubt) {
                    doubt.println(c.id + "\t" + s);
                }
            }
        }
        long inDoubt = all.stream().mapToLong(c -> c.inDoubt.size()).sum();
        try (PrintWriter s = new PrintWriter(Files.newBufferedWriter(out.resolve("summary.txt")))) {
            long ok = readsOk.sum() + writesOk.sum();
            double runS = (elapsed - Math.max(0, allConnectedMillis)) / 1000.0;
            s.printf("clients\t%d%n", clients);
            s.printf("all connected after ms\t%d%n", allConnectedMillis);
            s.printf("elapsed s\t%.1f%n", elapsed / 1000.0);
            s.printf("reads ok\t%d%n", readsOk.sum());
            s.printf("write transactions committed\t%d%n", writesOk.sum());
            s.printf("tps (after all connected)\t%.0f%n", ok / runS);
            s.printf("errors\t%d%n", errorsAll.sum());
            s.printf("commits in doubt\t%d%n", inDoubt);
            s.printf("reconnects\t%d%n", reconnects.sum());
            for (Map.Entry<String, LongAdder> e : new TreeMap<>(errors).entrySet()) {
                s.printf("error\t%d\t%s%n", e.getValue().sum(), e.getKey());
            }
        }
        errorLog.close();
        System.out.println("done: " + Files.readString(out.resolve("summary.txt")));
    }

    void error(String kind, String step, SQLException e) {
        errorsAll.increment();
        String msg = String.valueOf(e.getMessage()).replace('\n', ' ').replaceAll("\\d+", "N");
        if (msg.length() > 160) {
            msg = msg.substring(0, 160);
        }
        errors.computeIfAbsent(kind + " " + step + " " + e.getSQLState() + "/" + e.getErrorCode() + " " + msg,
                k -> new LongAdder()).increment();
        if (loggedErrors.incrementAndGet() <= MAX_LOGGED_ERRORS) {
            errorLog.printf("%d s %s %s %s/%d %s%n", (System.currentTimeMillis() - startMillis) / 1000,
                    Thread.currentThread().getName(), kind + " " + step, e.getSQLState(), e.getErrorCode(),
                    String.valueOf(e.getMessage()).replace('\n', ' '));
        }
    }

    final class Client implements Runnable {
        final int id;
        final List<Integer> acked = new ArrayList<>();
        final List<Integer> inDoubt = new ArrayList<>();
        Connection conn;
        Statement st;
        long txNo;
        int seq;

        Client(int id) {
            this.id = id;
        }

        @Override
        public void run() {
            try (PrintWriter log = new PrintWriter(new BufferedWriter(
                    Files.newBufferedWriter(out.resolve("txlog").resolve("tx." + id)), 1 << 15))) {
                if (!connect()) {
                    return;
                }
                if (connected.incrementAndGet() == clients) {
                    allConnectedMillis = System.currentTimeMillis() - startMillis;
                }
                ThreadLocalRandom rnd = ThreadLocalRandom.current();
                while (System.nanoTime() < endNanos) {
                    boolean write = rnd.nextInt(readWeight + writeWeight) >= readWeight;
                    int account = 1 + rnd.nextInt(accounts);
                    long t0 = System.nanoTime();
                    boolean ok = write ? write(account, rnd.nextInt(-5000, 5001)) : read(account);
                    if (ok) {
                        long now = System.currentTimeMillis();
                        log.printf("%d %d %d %d %d %d%n", id, txNo++, (System.nanoTime() - t0) / 1000, write ? 1 : 0,
                                now / 1000, (now % 1000) * 1000);
                    } else if (!usable()) {
                        close();
                        reconnects.increment();
                        if (!connect()) {
                            return;
                        }
                    }
                }
            } catch (IOException e) {
                throw new RuntimeException(e);
            } finally {
                close();
            }
        }

        boolean read(int account) {
            try (ResultSet rs = st.executeQuery("SELECT balance FROM soak_accounts WHERE id = " + account)) {
                if (!rs.next()) {
                    error("read", "select", new SQLException("account " + account + " not found", "02000"));
                    return false;
                }
                readsOk.increment();
                return true;
            } catch (SQLException e) {
                error("read", "select", e);
                return false;
            }
        }

        boolean write(int account, int delta) {
            int s = ++seq;
            String step = "begin";
            try {
                st.execute("BEGIN");
                step = "update";
                st.executeUpdate("UPDATE soak_accounts SET balance = balance + " + delta + " WHERE id = " + account);
                step = "insert";
                st.executeUpdate("INSERT INTO soak_ledger (client, seq, account, delta) VALUES (" + id + ", " + s + ", "
                        + account + ", " + delta + ")");
                step = "select";
                try (ResultSet rs = st.executeQuery("SELECT balance FROM soak_accounts WHERE id = " + account)) {
                    rs.next();
                }
                step = "commit";
                st.execute("COMMIT");
                acked.add(s);
                writesOk.increment();
                return true;
            } catch (SQLException e) {
                error("write", step, e);
                if (step.equals("commit")) {
                    inDoubt.add(s); // the server may or may not have committed it: checked against the ledger
                } else {
                    try {
                        st.execute("ROLLBACK");
                    } catch (SQLException ignored) {
                        // the connection is replaced below when it is broken
                    }
                }
                return false;
            }
        }

        boolean usable() {
            try {
                return conn != null && !conn.isClosed() && conn.isValid(5);
            } catch (SQLException e) {
                return false;
            }
        }

        /** Connects, retrying each second until it works or the run is over (each failure counted). */
        boolean connect() {
            while (System.nanoTime() < endNanos) {
                try {
                    conn = DriverManager.getConnection(url);
                    st = conn.createStatement();
                    return true;
                } catch (SQLException e) {
                    error("connect", "login", e);
                    try {
                        Thread.sleep(1000);
                    } catch (InterruptedException ie) {
                        Thread.currentThread().interrupt();
                        return false;
                    }
                }
            }
            return false;
        }

        void close() {
            try {
                if (conn != null) {
                    conn.close();
                }
            } catch (SQLException ignored) {
                // closing a broken connection
            }
            conn = null;
        }
    }
}
