package dev.sluice.core.failover;

/**
 * @param upstreamConnected the replica still streams from its primary (PostgreSQL pg_stat_wal_receiver status
 *                          'streaming'; MariaDB/MySQL IO thread running) — then the primary is not dead
 * @param received          last received position (LSN / GTID), or null
 * @param replayed          last replayed position, or null
 * @param detail            what it said, for the event log
 */
public record ReplicaReport(boolean upstreamConnected, String received, String replayed, String detail) {
}
