package dev.sluice.core.shard;

import java.util.List;
import java.util.stream.Collectors;

/**
 * What a WHERE clause says about a table's shard key, as a tree that is evaluated with each execution's
 * parameters into a set of shards. Sound by construction: a row the statement can touch always lies in the
 * returned set. AND intersects, OR unites, anything that does not constrain the key is {@link #ALL}.
 */
public sealed interface KeyFilter {

    KeyFilter ALL = new All();

    /** The shards (bit mask) that can hold rows matching this filter. */
    long shards(ShardMap map, TableRule t, List<?> params);

    record All() implements KeyFilter {
        @Override
        public long shards(ShardMap map, TableRule t, List<?> params) {
            return map.allShards();
        }

        @Override
        public String toString() {
            return "all";
        }
    }

    /** {@code key = v} or {@code key IN (v1, v2 …)}. */
    record In(List<ValueRef> values) implements KeyFilter {
        @Override
        public long shards(ShardMap map, TableRule t, List<?> params) {
            long mask = 0;
            for (ValueRef v : values) {
                Comparable<?> c = t.type().coerce(v.resolve(params));
                if (c == null) {
                    return map.allShards(); // NULL, opaque or not of the key's type: the database decides, everywhere
                }
                int s = map.shardOf(t, c);
                if (s >= 0) {
                    mask |= 1L << s;
                }
            }
            return mask;
        }

        @Override
        public String toString() {
            return values.size() == 1 ? "key=" + values.get(0) : "key in " + values;
        }
    }

    /** {@code key BETWEEN a AND b}, {@code key < v}, {@code key >= v} …; a null end is unbounded. */
    record Between(ValueRef from, boolean fromInclusive, ValueRef to, boolean toInclusive) implements KeyFilter {
        @Override
        public long shards(ShardMap map, TableRule t, List<?> params) {
            Comparable<?> lo = null;
            Comparable<?> hi = null;
            if (from != null && (lo = t.type().coerce(from.resolve(params))) == null) {
                return map.allShards();
            }
            if (to != null && (hi = t.type().coerce(to.resolve(params))) == null) {
                return map.allShards();
            }
            return map.shardsBetween(t, lo, fromInclusive, hi, toInclusive);
        }

        @Override
        public String toString() {
            return "key in " + (from == null ? "(MIN" : (fromInclusive ? "[" : "(") + from) + "," + (to == null ? "MAX)" : to + (toInclusive ? "]" : ")"));
        }
    }

    record And(List<KeyFilter> parts) implements KeyFilter {
        @Override
        public long shards(ShardMap map, TableRule t, List<?> params) {
            long mask = map.allShards();
            for (KeyFilter p : parts) {
                mask &= p.shards(map, t, params);
            }
            return mask;
        }

        @Override
        public String toString() {
            return parts.stream().map(Object::toString).collect(Collectors.joining(" and ", "(", ")"));
        }
    }

    record Or(List<KeyFilter> parts) implements KeyFilter {
        @Override
        public long shards(ShardMap map, TableRule t, List<?> params) {
            long mask = 0;
            for (KeyFilter p : parts) {
                mask |= p.shards(map, t, params);
            }
            return mask;
        }

        @Override
        public String toString() {
            return parts.stream().map(Object::toString).collect(Collectors.joining(" or ", "(", ")"));
        }
    }
}
