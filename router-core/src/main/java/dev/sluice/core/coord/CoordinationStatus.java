package dev.sluice.core.coord;

import java.util.List;

/**
 * The coordination section of a status snapshot ({@code /api/status} → {@code coordination}).
 *
 * @param mode          {@code local} (one instance, no coordination) or {@code zookeeper}
 * @param instance      this instance's name
 * @param leader        the instance that runs failovers (null while none is elected)
 * @param instances     every live instance with the epoch and primary it applied
 * @param sessionState  ZooKeeper connection: CONNECTED, SUSPENDED, LOST, RECONNECTED (local: {@code none})
 * @param writesAllowed false while the fail-safe refuses writes
 * @param epoch         the shared epoch as this instance last saw it
 */
public record CoordinationStatus(String mode, String instance, String leader, List<Instance> instances,
                                 String sessionState, boolean writesAllowed, String writesRefusedReason, long epoch) {

    /** One instance as it registered itself: what it routes by. */
    public record Instance(String name, long epoch, String primary, boolean leader, boolean writesAllowed) {
    }
}
