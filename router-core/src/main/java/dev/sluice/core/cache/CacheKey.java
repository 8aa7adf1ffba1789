package dev.sluice.core.cache;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Objects;

/**
 * What identifies one cached result: the normalized statement text, its bound parameters, and everything of
 * the session that could change the answer (user, database/schema, a digest of the session-state statements,
 * protocol details such as result formats), folded into {@code context} by {@link CacheSession}.
 *
 * <p>{@code params} must have value semantics ({@code equals}/{@code hashCode} by content) and must never
 * change afterwards: a {@link ByteBuffer} over a private copy of wire bytes, or an immutable {@link List} of
 * immutable values. Null when the statement has none.
 */
public final class CacheKey {
    private final String sql;
    private final Object params;
    private final String context;
    private final int hash;

    public CacheKey(String sql, Object params, String context) {
        this.sql = Objects.requireNonNull(sql, "sql");
        this.params = params;
        this.context = Objects.requireNonNull(context, "context");
        this.hash = (sql.hashCode() * 31 + Objects.hashCode(params)) * 31 + context.hashCode();
    }

    public String sql() {
        return sql;
    }

    /** An estimate of the memory this key holds, in bytes, for the cache's byte bound. */
    int weight() {
        long w = 64 + 2L * sql.length() + 2L * context.length();
        if (params instanceof ByteBuffer b) {
            w += 32 + b.capacity();
        } else if (params instanceof List<?> l) {
            w += 32 + 48L * l.size();
            for (Object o : l) {
                w += o instanceof String s ? 2L * s.length() : o instanceof ByteBuffer b ? b.capacity() : 0;
            }
        }
        return (int) Math.min(Integer.MAX_VALUE, w);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CacheKey k && k.hash == hash && k.sql.equals(sql) && Objects.equals(k.params, params)
                && k.context.equals(context);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public String toString() {
        return "CacheKey{" + sql + (params == null ? "" : ", params") + "}";
    }
}
