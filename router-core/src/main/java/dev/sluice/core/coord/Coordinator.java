package dev.sluice.core.coord;

import dev.sluice.core.failover.FailoverResult;
import java.util.Map;

/**
 * How the instances of one cluster (proxies, in-app drivers) agree on one topology and one failover decision.
 * {@link #local} is the default: a single instance that agrees with itself. Cluster mode plugs in an
 * implementation backed by a coordination service (module {@code coordination-zk}); router-core knows only
 * this interface.
 *
 * <p>Contract: the shared record changes only through {@link #seed} (create if absent) and
 * {@link #tryPublishPromotion} (compare-and-set on the epoch), so two instances can never hold different
 * primaries for the same epoch. Remote changes reach the {@link Listener}.
 */
public interface Coordinator extends AutoCloseable {

    /** Told about changes made by any instance (this one included). Called on the coordinator's thread. */
    interface Listener {
        void topologyChanged(SharedTopology t);

        /** The shared option overrides (validated by the publisher; validate again before applying). */
        void optionsChanged(Map<String, String> options);

        /** Something the operator should see in the event log (session lost, leader elected, writes refused). */
        default void coordinationEvent(String type, String message) {
        }
    }

    /** An admin request executed by the leader on behalf of another instance. */
    record Request(String op, String node, boolean flag) {
        public static final String PROMOTE = "promote";
        public static final String SWITCHOVER = "switchover";
    }

    /** Executes forwarded requests; installed on every instance, used while it leads. */
    interface RequestHandler {
        FailoverResult handle(Request r);
    }

    /** True in cluster mode: the shared record is authoritative and only the leader runs failovers. */
    boolean clustered();

    String instanceName();

    /** Joins: connects, reads the shared record and config, starts the election. Listener calls start here. */
    void start(Listener listener, RequestHandler handler);

    /** The shared record last seen, or null before any exists (always null when not clustered). */
    SharedTopology current();

    /** Creates the shared record when there is none; returns the record in force afterwards. */
    SharedTopology seed(String primary, long epoch);

    /**
     * Compare-and-set: {@code newPrimary} becomes the primary in epoch {@code expectedEpoch + 1} if the shared
     * epoch is still {@code expectedEpoch}. Returns the new record, or null when another instance changed it
     * first (or the coordination service cannot be reached): the caller must not promote then.
     */
    SharedTopology tryPublishPromotion(long expectedEpoch, String newPrimary);

    /** Records a drain (or undrain) in the shared record; every instance applies it. */
    void publishDrained(String node, boolean drained);

    /** The shared option overrides in force (empty when none or not clustered). */
    Map<String, String> sharedOptions();

    /** Publishes option overrides for every instance; the caller has validated them. */
    void publishOptions(Map<String, String> options);

    /** True when this instance may run failovers and switchovers (always true when not clustered). */
    boolean isLeader();

    /** Sends a promote/switchover to the leader and waits for its result. */
    FailoverResult askLeader(Request r);

    /** False while the fail-safe refuses writes (coordination lost for longer than the grace period). */
    boolean writesAllowed();

    /** Why writes are refused, for the error a client sees; null while they are allowed. */
    String writesRefusedReason();

    /** Tells the other instances which epoch and primary this one routes by. */
    void reportApplied(long epoch, String primary);

    CoordinationStatus status();

    @Override
    void close();

    /** The single-instance coordinator: agrees with itself, never refuses writes. */
    static Coordinator local(String instanceName) {
        return new LocalCoordinator(instanceName);
    }
}
