package dev.sluice.testsupport;

import java.nio.file.Path;

/** One database server process of a {@link DbCluster}. */
public final class DbNode {
    /** Role of a node as tracked by the harness. */
    enum Role { PRIMARY, REPLICA, DETACHED }

    private final Engine engine;
    private final String name;
    private final int serverId;
    private final Path dir;
    private volatile int port;
    private volatile Role role;
    private volatile boolean paused;
    private volatile ProcessHandle handle;
    private volatile DbNode pendingUpstream;

    DbNode(Engine engine, String name, int serverId, Path dir, int port, Role role) {
        this.engine = engine;
        this.name = name;
        this.serverId = serverId;
        this.dir = dir;
        this.port = port;
        this.role = role;
    }

    /** Node name, e.g. {@code pg-primary}, {@code pg-replica1}, {@code mariadb-replica2}. */
    public String name() {
        return name;
    }

    public String host() {
        return "127.0.0.1";
    }

    public int port() {
        return port;
    }

    /** MariaDB {@code server_id}; for PostgreSQL a stable id 1..n in creation order. */
    public int serverId() {
        return serverId;
    }

    /** Direct JDBC URL of this node for the {@code sluice} database (no parameters). */
    public String jdbcUrl() {
        String scheme = engine == Engine.POSTGRESQL ? "postgresql" : "mariadb";
        return "jdbc:" + scheme + "://" + host() + ":" + port + "/" + AbstractCluster.DATABASE;
    }

    /** Whether the server process is alive. */
    public boolean isRunning() {
        return ProcessRunner.isAlive(handle);
    }

    /** OS pid of the server process (PostgreSQL postmaster / mariadbd), or -1 if never started. */
    public long pid() {
        ProcessHandle h = handle;
        return h == null ? -1 : h.pid();
    }

    /** Directory holding this node's data dir ({@code data/}), log ({@code server.log}) and pid file. */
    public Path directory() {
        return dir;
    }

    /** Server log file of this node. */
    public Path logFile() {
        return dir.resolve("server.log");
    }

    Engine engine() {
        return engine;
    }

    Path dataDir() {
        return dir.resolve("data");
    }

    Path pidFile() {
        return dir.resolve("node.pid");
    }

    void port(int newPort) {
        this.port = newPort;
    }

    Role role() {
        return role;
    }

    void role(Role newRole) {
        this.role = newRole;
    }

    boolean paused() {
        return paused;
    }

    void paused(boolean p) {
        this.paused = p;
    }

    ProcessHandle handle() {
        return handle;
    }

    void handle(ProcessHandle h) {
        this.handle = h;
    }

    DbNode pendingUpstream() {
        return pendingUpstream;
    }

    void pendingUpstream(DbNode upstream) {
        this.pendingUpstream = upstream;
    }

    @Override
    public String toString() {
        return name + "[127.0.0.1:" + port + ", " + role + (isRunning() ? "" : ", down") + "]";
    }
}
