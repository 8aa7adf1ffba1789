package dev.sluice.core.route;

/** A node's role as last discovered by probing (never assumed from configuration order). */
public enum NodeRole {
    PRIMARY,
    REPLICA,
    /** Did not answer the last probe. */
    DOWN,
    /** Not probed yet. */
    UNKNOWN
}
