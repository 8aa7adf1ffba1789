package dev.sluice.core.shard;

import java.util.List;

/**
 * A value a plan needs at execution time: a literal from the SQL text, or a bound parameter (1-based, in the
 * order the statement's {@code ?} appear, or the number of a {@code $n}) whose value arrives with each execute.
 */
public sealed interface ValueRef {

    /** Stands for a parameter whose value the driver cannot see (a stream, a Blob …): it chooses no shard. */
    Object OPAQUE = new Object() {
        @Override
        public String toString() {
            return "<opaque>";
        }
    };

    /** The value with these parameters (index 0 = parameter 1); null for SQL NULL or an unset parameter. */
    Object resolve(List<?> params);

    record Literal(Object value) implements ValueRef {
        @Override
        public Object resolve(List<?> params) {
            return value;
        }

        @Override
        public String toString() {
            return value instanceof String s ? "'" + s + "'" : String.valueOf(value);
        }
    }

    record Param(int index) implements ValueRef {
        @Override
        public Object resolve(List<?> params) {
            return index >= 1 && index <= params.size() ? params.get(index - 1) : null;
        }

        @Override
        public String toString() {
            return "$" + index;
        }
    }
}
