package dev.sluice.core.shard;

import dev.sluice.core.config.ConfigException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Reads the {@code databases:} section of a Sluice YAML tree (format in docs/sharding.md). Like
 * {@code ConfigTree}, it takes maps, lists and scalars, so router-core needs no YAML library, and every error
 * names the key and the bad value.
 */
public final class ShardMapParser {
    private static final BigInteger TWO_64 = BigInteger.ONE.shiftLeft(64);

    private ShardMapParser() {
    }

    /**
     * The sharded database {@code name} of a whole configuration tree (its {@code databases:} section), whose shards
     * name clusters of {@code clusters}.
     */
    public static ShardMap fromRoot(Object root, String name, Collection<String> clusters, String source) {
        Object dbs = root instanceof Map<?, ?> m ? m.get("databases") : null;
        if (dbs == null) {
            throw new ConfigException(source + ": has no databases: section, so there is no sharded database '" + name + "'");
        }
        Map<String, ShardMap> all = databases(dbs, clusters, source + ": databases");
        ShardMap db = all.get(name);
        if (db == null) {
            throw new ConfigException("URL parameter database: '" + name + "' is not under databases: in " + source + " (has " + all.keySet() + ")");
        }
        return db;
    }

    /** Every sharded database of a whole configuration tree (empty when it has no {@code databases:} section). */
    public static Map<String, ShardMap> allFromRoot(Object root, Collection<String> clusters, String source) {
        Object dbs = root instanceof Map<?, ?> m ? m.get("databases") : null;
        return dbs == null ? Map.of() : databases(dbs, clusters, source + ": databases");
    }

    /** Every database of {@code tree} (the value of {@code databases:}); shards must name one of {@code clusters}. */
    public static Map<String, ShardMap> databases(Object tree, Collection<String> clusters, String where) {
        Map<String, Object> dbs = map(tree, where);
        if (dbs.isEmpty()) {
            throw new ConfigException(where + ": at least one database is required (or leave the section out)");
        }
        Map<String, ShardMap> out = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : dbs.entrySet()) {
            out.put(e.getKey(), database(e.getKey(), e.getValue(), clusters, where + "." + e.getKey()));
        }
        return out;
    }

    static ShardMap database(String name, Object tree, Collection<String> clusters, String where) {
        Map<String, Object> m = map(tree, where);
        for (String k : m.keySet()) {
            if (!k.equals("shards") && !k.equals("tables")) {
                throw new ConfigException(where + "." + k + ": unknown key (known: shards, tables)");
            }
        }
        List<ShardMap.Shard> shards = shards(m.get("shards"), clusters, where + ".shards");
        Map<String, TableRule> tables = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : map(m.get("tables"), where + ".tables").entrySet()) {
            String key = e.getKey().toLowerCase(Locale.ROOT);
            if (tables.containsKey(key)) {
                throw new ConfigException(where + ".tables." + e.getKey() + ": table appears twice (names are case-insensitive)");
            }
            tables.put(key, table(e.getKey(), e.getValue(), shards, where + ".tables." + e.getKey()));
        }
        return new ShardMap(name, shards, tables);
    }

    private static List<ShardMap.Shard> shards(Object v, Collection<String> clusters, String where) {
        if (!(v instanceof List<?> list) || list.isEmpty()) {
            throw new ConfigException(where + ": expected a list of shards ({name, cluster}), got " + describe(v));
        }
        if (list.size() > ShardMap.MAX_SHARDS) {
            throw new ConfigException(where + ": at most " + ShardMap.MAX_SHARDS + " shards, got " + list.size());
        }
        List<String> names = new ArrayList<>();
        List<String> clusterNames = new ArrayList<>();
        List<KeyRange> keyspaces = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            String w = where + "[" + i + "]";
            Map<String, Object> s = map(list.get(i), w);
            String name = null;
            String cluster = null;
            KeyRange ks = null;
            for (Map.Entry<String, Object> e : s.entrySet()) {
                switch (e.getKey()) {
                    case "name" -> name = scalar(e.getValue(), w + ".name");
                    case "cluster" -> cluster = scalar(e.getValue(), w + ".cluster");
                    case "keyspace" -> ks = KeyRange.parse(w + ".keyspace", scalar(e.getValue(), w + ".keyspace"), ShardMapParser::keyspaceId);
                    default -> throw new ConfigException(w + "." + e.getKey() + ": unknown key (known: name, cluster, keyspace)");
                }
            }
            if (name == null || !name.matches("[A-Za-z0-9_.-]{1,64}")) {
                throw new ConfigException(w + ".name: expected 1-64 letters, digits, _.- , got " + (name == null ? "nothing" : "'" + name + "'"));
            }
            if (names.contains(name)) {
                throw new ConfigException(w + ".name: shard '" + name + "' appears twice");
            }
            if (cluster == null || !clusters.contains(cluster)) {
                throw new ConfigException(w + ".cluster: " + (cluster == null ? "missing" : "'" + cluster + "' is not under clusters:")
                        + " (clusters: " + clusters + ")");
            }
            if (clusterNames.contains(cluster)) {
                throw new ConfigException(w + ".cluster: cluster '" + cluster + "' already holds shard " + names.get(clusterNames.indexOf(cluster))
                        + " (each shard needs its own cluster or database)");
            }
            names.add(name);
            clusterNames.add(cluster);
            keyspaces.add(ks);
        }
        boolean anyGiven = keyspaces.stream().anyMatch(k -> k != null);
        if (anyGiven && keyspaces.contains(null)) {
            throw new ConfigException(where + "[" + keyspaces.indexOf(null) + "].keyspace: missing (give every shard a keyspace, or none "
                    + "for an even split)");
        }
        if (!anyGiven) { // an even split of the 64-bit keyspace in shard order
            int n = list.size();
            for (int i = 0; i < n; i++) {
                Long lo = i == 0 ? null : TWO_64.multiply(BigInteger.valueOf(i)).divide(BigInteger.valueOf(n)).longValue();
                Long hi = i == n - 1 ? null : TWO_64.multiply(BigInteger.valueOf(i + 1)).divide(BigInteger.valueOf(n)).longValue();
                keyspaces.set(i, new KeyRange(lo, hi, "[" + hex(lo, "MIN") + "," + hex(hi, "MAX") + ")"));
            }
        }
        checkCover(where, "keyspace", names, keyspaces, ShardMap.KEYSPACE_ORDER);
        List<ShardMap.Shard> out = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            out.add(new ShardMap.Shard(names.get(i), clusterNames.get(i), keyspaces.get(i)));
        }
        return out;
    }

    private static String hex(Long v, String unbounded) {
        return v == null ? unbounded : String.format("0x%016x", v);
    }

    private static Comparable<?> keyspaceId(String where, String s) {
        try {
            BigInteger b = s.regionMatches(true, 0, "0x", 0, 2) ? new BigInteger(s.substring(2), 16) : new BigInteger(s);
            if (b.signum() < 0 || b.compareTo(TWO_64) >= 0) {
                throw new NumberFormatException();
            }
            return b.longValue();
        } catch (NumberFormatException e) {
            throw new ConfigException(where + ": keyspace bound '" + s + "' is not a 64-bit unsigned number (e.g. 0x5555555555555555, MIN, MAX)");
        }
    }

    private static TableRule table(String name, Object tree, List<ShardMap.Shard> shards, String where) {
        Map<String, Object> m = map(tree, where);
        if (m.containsKey("broadcast")) {
            if (m.size() != 1 || !"true".equals(scalar(m.get("broadcast"), where + ".broadcast"))) {
                throw new ConfigException(where + ": a broadcast table is written {broadcast: true} and nothing else, got " + m);
            }
            return new TableRule(name, TableRule.Kind.BROADCAST, null, null, null, null, -1);
        }
        if (m.containsKey("home")) {
            String home = scalar(m.get("home"), where + ".home");
            int idx = indexOf(shards, home);
            if (m.size() != 1 || idx < 0) {
                throw new ConfigException(where + ".home: '" + home + "' is not a shard (shards: " + names(shards) + ")"
                        + (m.size() != 1 ? "; {home: SHARD} takes nothing else" : ""));
            }
            return new TableRule(name, TableRule.Kind.HOME, null, null, null, null, idx);
        }
        String key = null;
        TableRule.Strategy strategy = null;
        KeyType type = KeyType.INTEGER;
        Object ranges = null;
        for (Map.Entry<String, Object> e : m.entrySet()) {
            String w = where + "." + e.getKey();
            switch (e.getKey()) {
                case "key" -> key = scalar(e.getValue(), w);
                case "strategy" -> {
                    String s = scalar(e.getValue(), w);
                    strategy = switch (s.toLowerCase(Locale.ROOT)) {
                        case "hash" -> TableRule.Strategy.HASH;
                        case "range" -> TableRule.Strategy.RANGE;
                        default -> throw new ConfigException(w + ": unknown strategy '" + s + "' (hash or range)");
                    };
                }
                case "type" -> type = KeyType.parse(w, scalar(e.getValue(), w));
                case "ranges" -> ranges = e.getValue();
                default -> throw new ConfigException(w + ": unknown key (known: key, strategy, type, ranges; or home, or broadcast)");
            }
        }
        if (key == null || !key.matches("[A-Za-z_][A-Za-z0-9_$]*")) {
            throw new ConfigException(where + ".key: expected the shard key column name, got " + (key == null ? "nothing" : "'" + key + "'"));
        }
        if (strategy == null) {
            throw new ConfigException(where + ".strategy: missing (hash or range)");
        }
        List<KeyRange> rs = null;
        if (strategy == TableRule.Strategy.RANGE) {
            rs = ranges(ranges, type, shards, where + ".ranges");
        } else if (ranges != null) {
            throw new ConfigException(where + ".ranges: only for strategy: range (hash tables use the shards' keyspace ranges)");
        }
        return new TableRule(name, TableRule.Kind.SHARDED, key.toLowerCase(Locale.ROOT), strategy, type, rs, -1);
    }

    private static List<KeyRange> ranges(Object v, KeyType type, List<ShardMap.Shard> shards, String where) {
        Map<String, Object> m = map(v, where);
        List<KeyRange> out = new ArrayList<>();
        for (int i = 0; i < shards.size(); i++) {
            out.add(null);
        }
        for (Map.Entry<String, Object> e : m.entrySet()) {
            int idx = indexOf(shards, e.getKey());
            if (idx < 0) {
                throw new ConfigException(where + "." + e.getKey() + ": not a shard (shards: " + names(shards) + ")");
            }
            String w = where + "." + e.getKey();
            out.set(idx, KeyRange.parse(w, scalar(e.getValue(), w), (ww, s) -> {
                Comparable<?> c = type.coerce(s);
                if (c == null) {
                    throw new ConfigException(ww + ": bound '" + s + "' is not a " + type.key() + " value");
                }
                return c;
            }));
        }
        List<String> names = new ArrayList<>();
        List<KeyRange> given = new ArrayList<>();
        for (int i = 0; i < shards.size(); i++) {
            if (out.get(i) != null) {
                names.add(shards.get(i).name());
                given.add(out.get(i));
            }
        }
        checkCover(where, "range", names, given, ShardMap.valueOrder(type));
        return out;
    }

    /**
     * The ranges must tile the whole domain, MIN to MAX, with no gap and no overlap: then every key has exactly
     * one shard, and an INSERT can never find none.
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private static void checkCover(String where, String what, List<String> names, List<KeyRange> ranges, java.util.Comparator cmp) {
        if (ranges.isEmpty()) {
            throw new ConfigException(where + ": at least one shard must hold a " + what);
        }
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < ranges.size(); i++) {
            KeyRange r = ranges.get(i);
            if (r.lo() != null && r.hi() != null && cmp.compare(r.lo(), r.hi()) >= 0) {
                throw new ConfigException(where + ": " + what + " of " + names.get(i) + " " + r + " is empty");
            }
            order.add(i);
        }
        order.sort((a, b) -> ranges.get(a).lo() == null ? -1 : ranges.get(b).lo() == null ? 1 : cmp.compare(ranges.get(a).lo(), ranges.get(b).lo()));
        Comparable<?> expect = null;
        Set<Integer> seen = new HashSet<>();
        for (int k = 0; k < order.size(); k++) {
            KeyRange r = ranges.get(order.get(k));
            boolean startOk = k == 0 ? r.lo() == null : r.lo() != null && expect != null && cmp.compare(r.lo(), expect) == 0;
            if (!startOk) {
                String prev = k == 0 ? "MIN" : String.valueOf(expect);
                throw new ConfigException(where + ": " + what + "s must cover MIN to MAX without gaps or overlaps: "
                        + names.get(order.get(k)) + " " + r + " should start at " + prev);
            }
            if (r.hi() == null && k != order.size() - 1) {
                throw new ConfigException(where + ": " + what + " of " + names.get(order.get(k)) + " " + r + " ends at MAX but "
                        + names.get(order.get(k + 1)) + " " + ranges.get(order.get(k + 1)) + " overlaps it");
            }
            expect = r.hi();
            seen.add(order.get(k));
        }
        if (expect != null) {
            throw new ConfigException(where + ": " + what + "s must reach MAX; the last ends at " + expect);
        }
    }

    private static int indexOf(List<ShardMap.Shard> shards, String name) {
        for (int i = 0; i < shards.size(); i++) {
            if (shards.get(i).name().equals(name)) {
                return i;
            }
        }
        return -1;
    }

    private static List<String> names(List<ShardMap.Shard> shards) {
        return shards.stream().map(ShardMap.Shard::name).toList();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object v, String where) {
        if (v instanceof Map<?, ?> m) {
            return (Map<String, Object>) m;
        }
        throw new ConfigException(where + ": expected a mapping, got " + describe(v));
    }

    private static String scalar(Object v, String where) {
        if (v == null || v instanceof Map || v instanceof List) {
            throw new ConfigException(where + ": expected a value, got " + describe(v));
        }
        return String.valueOf(v);
    }

    private static String describe(Object v) {
        return v == null ? "nothing" : v instanceof Map ? "a mapping" : v instanceof List ? "a list" : "'" + v + "'";
    }
}
