package dev.sluice.testsupport;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeoutException;

/**
 * A replicated database cluster made of real server processes on 127.0.0.1.
 * Obtain one from {@link Clusters}; always close it (try-with-resources / {@code @AfterAll}).
 * Operations other than {@link #connectAdmin} and {@link #waitForReplication} throw the unchecked
 * {@link ClusterException} on failure.
 */
public interface DbCluster extends AutoCloseable {
    Engine engine();

    /** {@code "sluice"}: created on the primary and replicated. */
    String database();

    /** App user with all privileges on {@link #database()} ({@code "sluice"}), password-authenticated. */
    String user();

    /** {@code "sluice-pw"}. */
    String password();

    /** The node that is primary now (after {@link #promote}, the promoted one). */
    DbNode primary();

    /** Current replicas (running or not), in creation order. */
    List<DbNode> replicas();

    /** All nodes in creation order. */
    List<DbNode> nodes();

    /** Directory holding all node directories of this cluster. */
    Path directory();

    /** Superuser connection to the {@code sluice} database (PG: {@code postgres}; MariaDB: {@code root}). */
    Connection connectAdmin(DbNode n) throws SQLException;

    /**
     * Blocks until every running replica that is not paused via {@link #pauseReplay} has applied
     * everything the primary has written so far.
     */
    void waitForReplication(Duration timeout) throws SQLException, TimeoutException;

    /** Like {@link #waitForReplication(Duration)} but for one replica (which must be running). */
    void waitForReplication(DbNode replica, Duration timeout) throws SQLException, TimeoutException;

    /** SIGKILL the server process (and, for PostgreSQL, its child processes). */
    void kill(DbNode n);

    /** Clean shutdown (SIGKILL after a timeout). */
    void stop(DbNode n);

    /** Restart a stopped/killed node with the same data dir and port; waits until it accepts connections. */
    void start(DbNode n);

    /**
     * Makes replica {@code n} the primary and re-points the other replicas at it (running ones now,
     * stopped ones when they are started). The previous primary, if still running, is left alone and is
     * afterwards neither {@link #primary()} nor one of {@link #replicas()}.
     */
    void promote(DbNode n);

    /** PG {@code pg_wal_replay_pause()}; MariaDB {@code STOP SLAVE SQL_THREAD}. Lost on restart of the node. */
    void pauseReplay(DbNode replica);

    void resumeReplay(DbNode replica);

    /** PG {@code recovery_min_apply_delay}; MariaDB {@code MASTER_DELAY} (rounded up to whole seconds). */
    void setApplyDelay(DbNode replica, Duration d);

    /** Stops every process (SIGKILL after a timeout) and deletes the directory unless {@code -Dsluice.keepClusters=true}. */
    @Override
    void close();
}
