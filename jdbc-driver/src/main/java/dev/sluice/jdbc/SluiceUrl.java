package dev.sluice.jdbc;

import dev.sluice.core.config.ClusterConfig;
import dev.sluice.core.config.ConfigException;
import dev.sluice.core.config.Engine;
import dev.sluice.core.config.NodeConfig;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * Parses {@code jdbc:sluice:} URLs into a {@link ClusterConfig}:
 * <ul>
 *   <li>{@code jdbc:sluice:postgresql://h1:5432,h2:5433/db?user=u&password=p&balancing=round-robin}</li>
 *   <li>{@code jdbc:sluice:mysql://…} and {@code jdbc:sluice:mariadb://…}</li>
 *   <li>{@code jdbc:sluice:file:/etc/sluice/cluster.yaml?cluster=main}</li>
 * </ul>
 * Parameters and connection properties are Sluice options (see docs/configuration.md); {@code driver.X}
 * passes X to the underlying driver. Anything else is an error naming the parameter.
 */
final class SluiceUrl {
    static final String PREFIX = "jdbc:sluice:";

    private SluiceUrl() {
    }

    static boolean accepts(String url) {
        return url != null && url.regionMatches(true, 0, PREFIX, 0, PREFIX.length());
    }

    /** A URL taken apart: what follows the prefix, Sluice options, driver.* properties, ?cluster= and ?database=. */
    private record Parts(String rest, Map<String, String> options, Map<String, String> driverProps, String cluster, String database) {
    }

    private static Parts parts(String url, Properties info) {
        String rest = url.substring(PREFIX.length());
        String query = "";
        int q = rest.indexOf('?');
        if (q >= 0) {
            query = rest.substring(q + 1);
            rest = rest.substring(0, q);
        }
        Map<String, String> params = new LinkedHashMap<>();
        for (String kv : query.split("&")) {
            if (kv.isEmpty()) {
                continue;
            }
            int eq = kv.indexOf('=');
            String k = decode(eq < 0 ? kv : kv.substring(0, eq), "a parameter name");
            params.put(k, eq < 0 ? "" : decode(kv.substring(eq + 1), "parameter " + k));
        }
        if (info != null) {
            for (String k : info.stringPropertyNames()) {
                params.putIfAbsent(k, info.getProperty(k));
            }
        }
        Map<String, String> driverProps = new LinkedHashMap<>();
        Map<String, String> options = new LinkedHashMap<>();
        String clusterName = null;
        String database = null;
        for (Map.Entry<String, String> e : params.entrySet()) {
            if (e.getKey().startsWith("driver.")) {
                driverProps.put(e.getKey().substring("driver.".length()), e.getValue());
            } else if (e.getKey().equals("cluster")) {
                clusterName = e.getValue();
            } else if (e.getKey().equals("database")) {
                database = e.getValue();
            } else {
                options.put(e.getKey(), e.getValue());
            }
        }
        return new Parts(rest, options, driverProps, clusterName, database);
    }

    /** Whether the URL selects a sharded logical database: {@code jdbc:sluice:file:/path.yaml?database=NAME}. */
    static boolean isSharded(String url, Properties info) {
        return parts(url, info).database() != null;
    }

    /** The sharded database a {@code jdbc:sluice:file:…?database=NAME} URL selects (docs/sharding.md). */
    static YamlConfig.ShardedConfig parseSharded(String url, Properties info) {
        Parts p = parts(url, info);
        if (!p.rest().regionMatches(true, 0, "file:", 0, 5)) {
            throw new ConfigException("URL parameter database: only valid with jdbc:sluice:file: (a sharded database is defined in YAML)");
        }
        if (p.cluster() != null) {
            throw new ConfigException("URL parameters cluster and database: give one (database selects a sharded database, cluster one cluster)");
        }
        return YamlConfig.loadSharded(Path.of(p.rest().substring(5)), p.database(), p.options(), p.driverProps());
    }

    static ClusterConfig parse(String url, Properties info) {
        Parts p = parts(url, info);
        String rest = p.rest();
        Map<String, String> options = p.options();
        Map<String, String> driverProps = p.driverProps();
        String clusterName = p.cluster();
        if (p.database() != null) {
            throw new ConfigException("URL parameter database: selects a sharded database; not valid here");
        }
        if (rest.regionMatches(true, 0, "file:", 0, 5)) {
            return YamlConfig.load(Path.of(rest.substring(5)), clusterName, options, driverProps);
        }
        if (clusterName != null) {
            throw new ConfigException("URL parameter cluster: only valid with jdbc:sluice:file:");
        }
        int scheme = rest.indexOf("://");
        if (scheme < 0) {
            throw new ConfigException("URL '" + url + "': expected jdbc:sluice:postgresql://, jdbc:sluice:mysql://, "
                    + "jdbc:sluice:mariadb:// or jdbc:sluice:file:");
        }
        Engine engine = Engine.parse("URL engine", rest.substring(0, scheme));
        String hostsAndDb = rest.substring(scheme + 3);
        int slash = hostsAndDb.indexOf('/');
        String hosts = slash < 0 ? hostsAndDb : hostsAndDb.substring(0, slash);
        String db = slash < 0 ? "" : decode(hostsAndDb.substring(slash + 1), "the database name");
        List<NodeConfig> nodes = new ArrayList<>();
        for (String h : hosts.split(",")) {
            if (h.isBlank()) {
                throw new ConfigException("URL '" + url + "': empty host in the host list");
            }
            nodes.add(node(h.trim(), engine));
        }
        return ClusterConfig.of("URL parameter", "default", engine, db, nodes, options, driverProps);
    }

    private static NodeConfig node(String hostPort, Engine engine) {
        String host = hostPort;
        int port = engine.defaultPort();
        int colon = hostPort.lastIndexOf(':');
        if (colon > 0 && !hostPort.endsWith("]")) {
            host = hostPort.substring(0, colon);
            try {
                port = Integer.parseInt(hostPort.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new ConfigException("URL host '" + hostPort + "': port is not a number");
            }
        }
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        return new NodeConfig(host + ":" + port, host, port, 1);
    }

    /** Percent-decodes; a malformed escape is a ConfigException naming {@code what} (not the value: it may be a password). */
    private static String decode(String s, String what) {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("URL " + what + ": malformed %-escape (" + e.getMessage() + ")");
        }
    }
}
