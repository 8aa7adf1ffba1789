package dev.sluice.jdbc;

import dev.sluice.core.health.ClusterStatus;

/**
 * Operator view of the cluster behind a Sluice connection: {@code conn.unwrap(SluiceAdmin.class)}.
 * Every connection of the same URL and properties shares one cluster runtime, so this is its status.
 */
public interface SluiceAdmin {
    /** Nodes, roles, states, lag now and over 10 minutes, fallbacks, events (see docs/health.md). */
    ClusterStatus clusterStatus();

    /** Takes a node out of routing ({@code true}) or puts it back; effective at once. */
    void drain(String node, boolean drained);

    /**
     * Promotes {@code node} (or the most advanced replica when null) — see docs/failover.md. Without
     * {@code force} it refuses while the primary is alive or a replica still streams from it.
     */
    dev.sluice.core.failover.FailoverResult promote(String node, boolean force);

    /** Planned switchover to {@code node} (or the most advanced replica); {@code dryRun} only prints the plan. */
    dev.sluice.core.failover.FailoverResult switchover(String node, boolean dryRun);

    /** Cluster mode: the option overrides shared by every instance (docs/cluster-mode.md); empty otherwise. */
    default java.util.Map<String, String> sharedConfig() {
        return java.util.Map.of();
    }

    /**
     * Cluster mode: sets (or with a null value removes) one shared option, validated before it is published;
     * returns the shared overrides now in force. Throws {@link dev.sluice.core.config.ConfigException} for an
     * invalid change, {@link IllegalStateException} outside cluster mode.
     */
    default java.util.Map<String, String> setSharedOption(String option, String value) {
        throw new IllegalStateException("shared configuration needs cluster mode");
    }
}
