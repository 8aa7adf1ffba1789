package dev.sluice.core.sql;

/** A route hint from a leading comment: {@code /* sluice:primary *}{@code /} or {@code /* sluice:replica *}{@code /}. */
public enum RouteHint {
    NONE,
    PRIMARY,
    REPLICA
}
