package dev.sluice.jdbc;

import dev.sluice.core.route.RouteDecision;

/**
 * Implemented by Sluice's statements: {@code stmt.unwrap(SluiceRouted.class).lastRoute()} tells where the
 * last execution went and why.
 */
public interface SluiceRouted {
    /** The last routing decision (node and reason), or null before the first execution. */
    RouteDecision lastRoute();
}
