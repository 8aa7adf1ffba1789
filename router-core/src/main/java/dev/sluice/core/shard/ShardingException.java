package dev.sluice.core.shard;

/**
 * A statement that sharding cannot answer correctly (a cross-shard join, a shape the merge does not support,
 * a second shard in a transaction …). The message always says why; the driver reports it as SQLState
 * {@code 0A000} (feature not supported): never a partial or wrong answer instead.
 */
public final class ShardingException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ShardingException(String message) {
        super(message);
    }
}
