package dev.sluice.core.sql;

import java.util.Objects;

/**
 * The result of classifying one SQL string (possibly several statements). Immutable and cacheable.
 *
 * @param kind   what the statement does
 * @param reason short machine-readable reason, e.g. {@code select}, {@code select-for-update},
 *               {@code primary-function:nextval}, {@code multi-statement:write}, {@code unparsed}
 * @param hint   route hint from a leading {@code sluice:} comment
 * @param effect pin/unpin of the session to the primary
 * @param maxLagMillis staleness budget from a leading {@code /* sluice:max-lag=200ms *}{@code /} hint, or -1
 */
public record Classification(StatementKind kind, String reason, RouteHint hint, SessionEffect effect, long maxLagMillis) {
    public Classification {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(hint, "hint");
        Objects.requireNonNull(effect, "effect");
    }

    public Classification(StatementKind kind, String reason, RouteHint hint, SessionEffect effect) {
        this(kind, reason, hint, effect, -1);
    }

    public static Classification of(StatementKind kind, String reason) {
        return new Classification(kind, reason, RouteHint.NONE, SessionEffect.NONE);
    }

    public Classification withHint(RouteHint h) {
        return new Classification(kind, reason, h, effect, maxLagMillis);
    }

    public Classification withEffect(SessionEffect e) {
        return new Classification(kind, reason, hint, e, maxLagMillis);
    }

    public Classification withMaxLag(long millis) {
        return new Classification(kind, reason, hint, effect, millis);
    }
}
