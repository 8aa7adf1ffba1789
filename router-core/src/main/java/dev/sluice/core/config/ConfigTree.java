package dev.sluice.core.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns a parsed configuration tree (maps, lists and scalars, as any YAML or JSON reader produces) into
 * typed {@link ClusterConfig}s. Kept free of a YAML library so router-core stays dependency-light; the
 * driver and the proxy read the file and hand the tree here.
 *
 * <pre>
 * clusters:
 *   main:
 *     engine: postgresql
 *     database: app
 *     user: app
 *     password: secret
 *     balancing: round-robin
 *     nodes:
 *       - { name: pg1, host: 10.0.0.1, port: 5432 }
 *       - { name: pg2, host: 10.0.0.2, port: 5432, weight: 2 }
 *     driver: { sslmode: require }    # passed to the real driver
 * </pre>
 */
public final class ConfigTree {
    private ConfigTree() {
    }

    /** Parses every cluster of a tree, keeping file order. */
    public static Map<String, ClusterConfig> clusters(Object root, String source) {
        Map<String, Object> top = map(root, source + ": top level");
        for (String k : top.keySet()) {
            // "proxy" belongs to the proxy server (it reads it itself); the driver ignores it
            if (!k.equals("clusters") && !k.equals("proxy") && !k.equals("coordination")) {
                throw new ConfigException(source + ": unknown key '" + k + "' at top level (expected: clusters, proxy, coordination)");
            }
        }
        // a top-level coordination: section applies to every cluster (a cluster's own section wins, key by key)
        Map<String, String> shared = new LinkedHashMap<>();
        if (top.get("coordination") != null) {
            flatten(top.get("coordination"), "coordination", "coordination", shared);
        }
        Map<String, Object> clusters = map(top.get("clusters"), source + ": clusters");
        if (clusters.isEmpty()) {
            throw new ConfigException(source + ": clusters: at least one cluster is required");
        }
        Map<String, ClusterConfig> out = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : clusters.entrySet()) {
            out.put(e.getKey(), cluster(e.getKey(), e.getValue(), "clusters." + e.getKey(), shared));
        }
        return out;
    }

    /**
     * {@code coordination: {zookeeper: {connect: x}, session-grace-ms: 500}} → the flat option keys
     * {@code coordination-zookeeper-connect}, {@code coordination-session-grace-ms}; each must be an option.
     */
    private static void flatten(Object v, String key, String where, Map<String, String> out) {
        if (v instanceof Map<?, ?>) {
            for (Map.Entry<String, Object> e : map(v, where).entrySet()) {
                flatten(e.getValue(), key + "-" + e.getKey(), where + "." + e.getKey(), out);
            }
            return;
        }
        if (SluiceOption.byKey(key) == null) {
            throw new ConfigException(where + ": unknown key (coordination keys: zookeeper.connect, zookeeper.root, "
                    + "session-timeout-ms, session-grace-ms, instance-name)");
        }
        out.put(key, scalar(v, where));
    }

    static ClusterConfig cluster(String name, Object tree, String where) {
        return cluster(name, tree, where, Map.of());
    }

    static ClusterConfig cluster(String name, Object tree, String where, Map<String, String> defaults) {
        Map<String, Object> m = map(tree, where);
        Engine engine = null;
        String database = null;
        List<NodeConfig> nodes = new ArrayList<>();
        Map<String, String> options = new LinkedHashMap<>(defaults);
        Map<String, String> driver = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : m.entrySet()) {
            String k = e.getKey();
            Object v = e.getValue();
            switch (k) {
                case "engine" -> engine = Engine.parse(where + ".engine", scalar(v, where + ".engine"));
                case "database" -> database = scalar(v, where + ".database");
                case "nodes" -> nodes = nodes(v, where + ".nodes");
                case "driver" -> map(v, where + ".driver").forEach((dk, dv) -> driver.put(dk, scalar(dv, where + ".driver." + dk)));
                case "coordination" -> flatten(v, "coordination", where + ".coordination", options);
                default -> {
                    if (SluiceOption.byKey(k) == null) {
                        throw new ConfigException(where + "." + k + ": unknown key (known: engine, database, nodes, driver, coordination, "
                                + ClusterConfig.knownKeys() + ")");
                    }
                    options.put(k, v instanceof List<?> l ? String.join(",", l.stream().map(String::valueOf).toList())
                            : scalar(v, where + "." + k));
                }
            }
        }
        return ClusterConfig.of(where, name, engine, database, nodes, options, driver);
    }

    private static List<NodeConfig> nodes(Object v, String where) {
        if (!(v instanceof List<?> list)) {
            throw new ConfigException(where + ": expected a list of nodes, got " + describe(v));
        }
        List<NodeConfig> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            String w = where + "[" + i + "]";
            Map<String, Object> n = map(list.get(i), w);
            String name = null;
            String host = null;
            Integer port = null;
            int weight = 1;
            int priority = 0;
            for (Map.Entry<String, Object> e : n.entrySet()) {
                switch (e.getKey()) {
                    case "name" -> name = scalar(e.getValue(), w + ".name");
                    case "host" -> host = scalar(e.getValue(), w + ".host");
                    case "port" -> port = integer(e.getValue(), w + ".port");
                    case "weight" -> weight = integer(e.getValue(), w + ".weight");
                    case "priority" -> priority = integer(e.getValue(), w + ".priority");
                    default -> throw new ConfigException(w + "." + e.getKey() + ": unknown key (known: name, host, port, weight, priority)");
                }
            }
            if (host == null) {
                throw new ConfigException(w + ".host: missing");
            }
            if (port == null) {
                throw new ConfigException(w + ".port: missing");
            }
            out.add(new NodeConfig(name == null ? host + ":" + port : name, host, port, weight, priority));
        }
        return out;
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

    private static int integer(Object v, String where) {
        String s = scalar(v, where);
        try {
            return Integer.parseInt(s.trim());
        } catch (NumberFormatException e) {
            throw new ConfigException(where + ": expected a whole number, got '" + s + "'");
        }
    }

    private static String describe(Object v) {
        if (v == null) {
            return "nothing";
        }
        if (v instanceof Map) {
            return "a mapping";
        }
        if (v instanceof List) {
            return "a list";
        }
        return "'" + v + "'";
    }

    /** Parses {@code host:port} (port 0..65535; 0 = any free port); errors name {@code where} and the value. */
    public static java.net.InetSocketAddress address(String value, String where) {
        int colon = value.lastIndexOf(':');
        if (colon <= 0) {
            throw new ConfigException(where + ": expected host:port, got '" + value + "'");
        }
        try {
            int port = Integer.parseInt(value.substring(colon + 1));
            if (port < 0 || port > 65535) {
                throw new NumberFormatException();
            }
            return new java.net.InetSocketAddress(value.substring(0, colon), port);
        } catch (NumberFormatException e) {
            throw new ConfigException(where + ": bad port in '" + value + "' (expected 0..65535)");
        }
    }
}
