package dev.sluice.core.failover;

import java.util.List;

/** What a promotion attempt did: each step as it happened, and the outcome. */
public record FailoverResult(boolean promoted, String newPrimary, long epoch, String message, List<String> steps) {
}
