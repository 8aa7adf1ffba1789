package dev.sluice.core.route;

import java.util.Objects;

/** One node as the latest probe saw it: its role, why, and since when (epoch millis). */
public record NodeStatus(String name, NodeRole role, String reason, long sinceMillis) {
    public NodeStatus {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(reason, "reason");
    }
}
