package dev.sluice.testsupport;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeoutException;

/** Engine-independent bookkeeping: node roles, lifecycle, clean-up. */
abstract class AbstractCluster implements DbCluster {
    static final String DATABASE = "sluice";
    static final String APP_USER = "sluice";
    static final String APP_PASSWORD = "sluice-pw";
    static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
    static final int START_ATTEMPTS = 5;

    protected final Path dir;
    protected final List<DbNode> nodes = new CopyOnWriteArrayList<>();
    private final Process watchdog;
    private volatile boolean closed;

    AbstractCluster(Path dir) {
        this.dir = dir;
        this.watchdog = Janitor.startWatchdog(dir);
        Janitor.register(this);
    }

    // ---- engine-specific hooks -------------------------------------------------------------------

    /** Starts the server of {@code n} and waits until it accepts connections; sets its handle and pid file. */
    protected abstract void startProcess(DbNode n, boolean mayChangePort);

    /** Clean shutdown of a running node (no need to fall back to kill: the caller does). */
    protected abstract void stopProcess(DbNode n);

    /** Internal superuser connection not bound to the app database. */
    protected abstract Connection adminConnection(DbNode n) throws SQLException;

    /** Replication position the primary has written so far. */
    protected abstract String primaryPosition(Connection primary) throws SQLException;

    /** Whether {@code replica} has applied {@code position}; may block up to {@code maxWait}. */
    protected abstract boolean hasApplied(Connection replica, String position, Duration maxWait) throws SQLException;

    protected abstract void doPromote(DbNode n) throws SQLException;

    protected abstract void repoint(DbNode replica, DbNode primary) throws SQLException;

    protected abstract void doPause(DbNode replica, boolean pause) throws SQLException;

    protected abstract void doSetApplyDelay(DbNode replica, Duration d) throws SQLException;

    // ---- DbCluster ---------------------------------------------------------------------------------

    @Override
    public String database() {
        return DATABASE;
    }

    @Override
    public String user() {
        return APP_USER;
    }

    @Override
    public String password() {
        return APP_PASSWORD;
    }

    @Override
    public Path directory() {
        return dir;
    }

    @Override
    public DbNode primary() {
        for (DbNode n : nodes) {
            if (n.role() == DbNode.Role.PRIMARY) {
                return n;
            }
        }
        throw new ClusterException("No primary in " + nodes);
    }

    @Override
    public List<DbNode> replicas() {
        List<DbNode> r = new ArrayList<>();
        for (DbNode n : nodes) {
            if (n.role() == DbNode.Role.REPLICA) {
                r.add(n);
            }
        }
        return List.copyOf(r);
    }

    @Override
    public List<DbNode> nodes() {
        return List.copyOf(nodes);
    }

    @Override
    public void waitForReplication(Duration timeout) throws SQLException, TimeoutException {
        long deadline = System.nanoTime() + timeout.toNanos();
        String position;
        try (Connection c = adminConnection(primary())) {
            position = primaryPosition(c);
        }
        for (DbNode r : replicas()) {
            if (r.isRunning() && !r.paused()) {
                awaitApplied(r, position, deadline, timeout);
            }
        }
    }

    @Override
    public void waitForReplication(DbNode replica, Duration timeout) throws SQLException, TimeoutException {
        checkMember(replica);
        long deadline = System.nanoTime() + timeout.toNanos();
        String position;
        try (Connection c = adminConnection(primary())) {
            position = primaryPosition(c);
        }
        awaitApplied(replica, position, deadline, timeout);
    }

    private void awaitApplied(DbNode r, String position, long deadline, Duration timeout)
            throws SQLException, TimeoutException {
        try (Connection c = adminConnection(r)) {
            while (true) {
                long left = deadline - System.nanoTime();
                if (hasApplied(c, position, Duration.ofNanos(Math.max(0, left)))) {
                    return;
                }
                if (System.nanoTime() >= deadline) {
                    throw new TimeoutException(r.name() + " did not apply primary position " + position
                            + " within " + timeout);
                }
                ProcessRunner.sleep(10);
            }
        }
    }

    @Override
    public synchronized void kill(DbNode n) {
        checkMember(n);
        ProcessRunner.killTree(n.handle(), STOP_TIMEOUT);
        n.paused(false);
    }

    @Override
    public synchronized void stop(DbNode n) {
        checkMember(n);
        stopQuietly(n);
    }

    private void stopQuietly(DbNode n) {
        if (n.isRunning()) {
            try {
                stopProcess(n);
            } catch (RuntimeException e) {
                System.err.println("sluice: clean stop of " + n + " failed, killing it: " + e.getMessage());
            }
            if (!ProcessRunner.awaitExit(n.handle(), STOP_TIMEOUT)) {
                ProcessRunner.killTree(n.handle(), STOP_TIMEOUT);
            }
        }
        n.paused(false);
    }

    @Override
    public synchronized void start(DbNode n) {
        checkMember(n);
        if (n.isRunning()) {
            return;
        }
        startProcess(n, false);
        n.paused(false);
        DbNode upstream = n.pendingUpstream();
        if (upstream != null && n.role() == DbNode.Role.REPLICA) {
            try {
                repoint(n, upstream);
                n.pendingUpstream(null);
            } catch (SQLException e) {
                throw new ClusterException("Could not re-point " + n + " at " + upstream, e);
            }
        }
    }

    @Override
    public synchronized void promote(DbNode n) {
        checkMember(n);
        if (n.role() != DbNode.Role.REPLICA || !n.isRunning()) {
            throw new ClusterException("Can only promote a running replica, not " + n);
        }
        DbNode old = primary();
        try {
            doPromote(n);
        } catch (SQLException e) {
            throw new ClusterException("Could not promote " + n, e);
        }
        old.role(DbNode.Role.DETACHED);
        n.role(DbNode.Role.PRIMARY);
        n.paused(false);
        n.pendingUpstream(null);
        for (DbNode r : replicas()) {
            if (r.isRunning()) {
                try {
                    repoint(r, n);
                    r.pendingUpstream(null);
                } catch (SQLException e) {
                    throw new ClusterException("Could not re-point " + r + " at " + n, e);
                }
            } else {
                r.pendingUpstream(n);
            }
        }
    }

    @Override
    public synchronized void pauseReplay(DbNode replica) {
        checkRunningReplica(replica);
        try {
            doPause(replica, true);
        } catch (SQLException e) {
            throw new ClusterException("Could not pause replay on " + replica, e);
        }
        replica.paused(true);
    }

    @Override
    public synchronized void resumeReplay(DbNode replica) {
        checkRunningReplica(replica);
        try {
            doPause(replica, false);
        } catch (SQLException e) {
            throw new ClusterException("Could not resume replay on " + replica, e);
        }
        replica.paused(false);
    }

    @Override
    public synchronized void setApplyDelay(DbNode replica, Duration d) {
        checkRunningReplica(replica);
        if (d.isNegative()) {
            throw new IllegalArgumentException("negative delay " + d);
        }
        try {
            doSetApplyDelay(replica, d);
        } catch (SQLException e) {
            throw new ClusterException("Could not set apply delay on " + replica, e);
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        List<CompletableFuture<Void>> stops = new ArrayList<>();
        for (DbNode n : nodes) {
            stops.add(CompletableFuture.runAsync(() -> stopQuietly(n)));
        }
        for (CompletableFuture<Void> f : stops) {
            f.join();
        }
        finish();
    }

    /** Called from the shutdown hook: SIGKILL everything, no clean shutdown. */
    void emergencyKill() {
        closed = true;
        for (DbNode n : nodes) {
            ProcessRunner.killTree(n.handle(), Duration.ofSeconds(5));
        }
        finish();
    }

    private void finish() {
        Janitor.unregister(this);
        if (!Janitor.keep()) {
            Janitor.deleteRecursively(dir);
        }
        if (watchdog != null) {
            watchdog.destroy();
        }
    }

    // ---- helpers -----------------------------------------------------------------------------------

    protected void checkMember(DbNode n) {
        if (!nodes.contains(n)) {
            throw new IllegalArgumentException(n + " is not a node of this cluster");
        }
        if (closed) {
            throw new IllegalStateException("cluster " + dir + " is closed");
        }
    }

    private void checkRunningReplica(DbNode n) {
        checkMember(n);
        if (n.role() != DbNode.Role.REPLICA || !n.isRunning()) {
            throw new ClusterException("Not a running replica: " + n);
        }
    }

    /** Records the server pid in {@code node.pid}. */
    protected static void recordPid(DbNode n, ProcessHandle h) {
        n.handle(h);
        ProcessRunner.writeString(n.pidFile(), h.pid() + "\n");
    }

    /** Work that may throw SQLException. */
    @FunctionalInterface
    protected interface NodeTask {
        void run(DbNode n) throws SQLException;
    }

    /** Runs {@code task} for every node concurrently; rethrows the first failure. */
    protected static void inParallel(List<DbNode> targets, NodeTask task) throws SQLException {
        List<CompletableFuture<Void>> fs = new ArrayList<>();
        for (DbNode n : targets) {
            fs.add(CompletableFuture.runAsync(() -> {
                try {
                    task.run(n);
                } catch (SQLException e) {
                    throw new CompletionException(e);
                }
            }));
        }
        for (CompletableFuture<Void> f : fs) {
            try {
                f.join();
            } catch (CompletionException e) {
                Throwable cause = e.getCause();
                for (CompletableFuture<Void> other : fs) {
                    try {
                        other.join();
                    } catch (CompletionException ignored) {
                        // report the first failure only
                    }
                }
                if (cause instanceof SQLException se) {
                    throw se;
                }
                if (cause instanceof RuntimeException re) {
                    throw re;
                }
                throw new ClusterException(String.valueOf(cause), cause);
            }
        }
    }

    protected static ClusterException startFailure(DbNode n, String what, Throwable cause) {
        return new ClusterException("Could not start " + n.name() + " (port " + n.port() + ", dir "
                + n.directory() + "): " + what + "\n" + ProcessRunner.tailText(n.logFile()), cause);
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + nodes;
    }
}
