package dev.sluice.core.failover;

import dev.sluice.core.config.NodeConfig;
import java.time.Duration;

/**
 * The database side of failover, implemented where the I/O lives (the driver uses JDBC with the admin
 * credentials). Every call is bounded in time and throws with a message naming what failed.
 */
public interface FailoverIo {
    /** What a replica says about its upstream and how far it has got. */
    ReplicaReport report(NodeConfig replica) throws Exception;

    /** Lets a replica apply everything it has received (resuming a paused replay), up to {@code max}. */
    void applyReceived(NodeConfig replica, Duration max) throws Exception;

    /** PostgreSQL pg_promote(); MariaDB STOP SLAVE, RESET SLAVE ALL, read_only OFF; MySQL the REPLICA forms. */
    void promote(NodeConfig replica) throws Exception;

    /** Points a replica at a new primary; returns a note (e.g. "streaming", "not streaming: may need pg_rewind"). */
    String repoint(NodeConfig replica, NodeConfig newPrimary) throws Exception;

    /** Makes an old primary refuse writes (read_only / default_transaction_read_only) or runs the fence command. */
    void fence(NodeConfig oldPrimary) throws Exception;

    /** Undoes {@link #fence} (a switchover that could not complete gives the primary back). */
    void unfence(NodeConfig primary) throws Exception;

    /** The primary's current write position (LSN / GTID). */
    String position(NodeConfig primary) throws Exception;

    /** Waits until a replica has applied {@code position}; throws after {@code max}. */
    void waitForPosition(NodeConfig replica, String position, Duration max) throws Exception;

    /**
     * Makes a demoted primary replicate from the new one where SQL can (MariaDB/MySQL: CHANGE MASTER / SOURCE);
     * returns what it did or what is left (PostgreSQL needs a restart as a standby: the rejoin hook).
     */
    String rejoin(NodeConfig oldPrimary, NodeConfig newPrimary) throws Exception;
}
