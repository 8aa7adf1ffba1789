package dev.sluice.core.route;

import dev.sluice.core.sql.Classification;

/**
 * Where one statement goes and why.
 *
 * @param node           the node to run it on
 * @param allConnections true for session state: run it on {@code node} and on every other backend
 *                       connection the session holds; it is also recorded for replay on later ones
 * @param reason         why, e.g. {@code read:replica}, {@code write:insert}, {@code in-transaction}
 * @param classification what the classifier said
 */
public record RouteDecision(String node, boolean allConnections, String reason, Classification classification) {
}
