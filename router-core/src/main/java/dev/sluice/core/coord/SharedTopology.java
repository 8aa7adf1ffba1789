package dev.sluice.core.coord;

import java.util.Set;

/**
 * The topology every instance of a cluster agrees on in cluster mode: who is primary in which epoch, and which
 * nodes are drained. One record, changed whole and only by compare-and-set on the epoch, so the epoch and the
 * primary can never be seen apart.
 *
 * @param primary the node writes go to in this epoch (null: none chosen yet)
 * @param previous the primary of the epoch before, fenced in this one (null: none)
 * @param epoch   incremented by every promotion; never goes back
 * @param drained nodes taken out of routing by an operator
 * @param by      the instance that wrote this record (for the status page and logs)
 */
public record SharedTopology(String primary, String previous, long epoch, Set<String> drained, String by) {
    public SharedTopology {
        drained = drained == null ? Set.of() : Set.copyOf(drained);
    }
}
