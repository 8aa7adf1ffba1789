package dev.sluice.core.health;

/** A node's health as routing sees it. Each state is entered with a reason and a time. */
public enum NodeState {
    /** Reachable; for a replica, within the lag bound. */
    UP,
    /** A replica whose heartbeat lag is over the bound or unknown: no reads until it catches up. */
    LAGGING,
    /** Not answering probes, or its circuit breaker is open after live connection failures. */
    DOWN,
    /** Taken out of routing by an operator. */
    DRAINED
}
