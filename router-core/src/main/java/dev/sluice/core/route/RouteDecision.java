package dev.sluice.core.route;

import dev.sluice.core.sql.Classification;

/**
 * Where one statement goes and why. Immutable. The reason string is built only when someone reads it
 * (logs, status, tests): routing a read must not pay for a string concatenation nobody looks at.
 */
public final class RouteDecision {
    private final String node;
    private final boolean allConnections;
    private final String route;
    private final Classification classification;
    private final boolean withDetail;
    private String reason; // racy single-check caching: every thread computes the same value

    /**
     * @param node           the node to run it on
     * @param allConnections true for session state: run it on {@code node} and on every other backend
     *                       connection the session holds; it is also recorded for replay on later ones
     * @param reason         why, e.g. {@code read:replica:select}, {@code write:insert}, {@code in-transaction:update}
     * @param classification what the classifier said
     */
    public RouteDecision(String node, boolean allConnections, String reason, Classification classification) {
        this(node, allConnections, reason, classification, false);
    }

    private RouteDecision(String node, boolean allConnections, String route, Classification classification, boolean withDetail) {
        this.node = node;
        this.allConnections = allConnections;
        this.route = route;
        this.classification = classification;
        this.withDetail = withDetail;
    }

    /** A decision whose reason is {@code route + ":" + classification.reason()}, built lazily. */
    public static RouteDecision withDetail(String node, boolean allConnections, String route, Classification classification) {
        return new RouteDecision(node, allConnections, route, classification, true);
    }

    public String node() {
        return node;
    }

    public boolean allConnections() {
        return allConnections;
    }

    public String reason() {
        String r = reason;
        if (r == null) {
            r = withDetail ? route + ":" + classification.reason() : route;
            reason = r;
        }
        return r;
    }

    public Classification classification() {
        return classification;
    }

    @Override
    public String toString() {
        return "RouteDecision{" + node + (allConnections ? ", all connections" : "") + ", " + reason() + "}";
    }
}
