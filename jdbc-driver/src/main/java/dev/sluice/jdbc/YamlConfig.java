package dev.sluice.jdbc;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.sluice.core.config.ClusterConfig;
import dev.sluice.core.config.ConfigException;
import dev.sluice.core.config.ConfigTree;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import dev.sluice.core.shard.ShardMap;
import dev.sluice.core.shard.ShardMapParser;

/** Reads a cluster YAML file (format in docs/configuration.md) and picks one cluster for the driver. */
final class YamlConfig {
    private YamlConfig() {
    }

    static ClusterConfig load(Path file, String clusterName, Map<String, String> overrides, Map<String, String> driverOverrides) {
        Map<String, ClusterConfig> clusters = ConfigTree.clusters(tree(read(file), file.toString()), file.toString());
        ClusterConfig base;
        if (clusterName == null) {
            if (clusters.size() != 1) {
                throw new ConfigException(file + ": has clusters " + clusters.keySet() + "; choose one with ?cluster=NAME");
            }
            base = clusters.values().iterator().next();
        } else {
            base = clusters.get(clusterName);
            if (base == null) {
                throw new ConfigException("URL parameter cluster: '" + clusterName + "' is not in " + file + " (has " + clusters.keySet() + ")");
            }
        }
        if (overrides.isEmpty() && driverOverrides.isEmpty()) {
            return base;
        }
        // URL parameters and connection properties override the file, through the same validation
        return base.withOverrides("URL parameter", overrides, driverOverrides);
    }

    /**
     * A sharded logical database of the file ({@code databases: NAME}) and the cluster of each of its shards, in
     * shard order; URL parameters and connection properties apply to every shard's cluster.
     */
    static ShardedConfig loadSharded(Path file, String database, Map<String, String> overrides, Map<String, String> driverOverrides) {
        Object root = tree(read(file), file.toString());
        Map<String, ClusterConfig> clusters = ConfigTree.clusters(root, file.toString());
        ShardMap map = ShardMapParser.fromRoot(root, database, clusters.keySet(), file.toString());
        List<ClusterConfig> shards = new ArrayList<>();
        for (ShardMap.Shard s : map.shards()) {
            ClusterConfig c = clusters.get(s.cluster());
            shards.add(overrides.isEmpty() && driverOverrides.isEmpty() ? c : c.withOverrides("URL parameter", overrides, driverOverrides));
            if (c.engine().dialect() != shards.get(0).engine().dialect()) {
                throw new ConfigException(file + ": databases." + database + ": shard " + s.name() + " is " + c.engine().name().toLowerCase(java.util.Locale.ROOT)
                        + " but shard " + map.shardName(0) + " is " + shards.get(0).engine().name().toLowerCase(java.util.Locale.ROOT)
                        + " (all shards of a database share one engine)");
            }
        }
        return new ShardedConfig(map, List.copyOf(shards));
    }

    /** A sharded database: its map, and its shards' clusters in shard order. */
    record ShardedConfig(ShardMap map, List<ClusterConfig> shards) {
    }

    private static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new ConfigException(file + ": no such file");
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read YAML: " + e.getMessage());
        }
    }

    /** The YAML document as maps, lists and scalars; malformed YAML is a {@link ConfigException}. */
    static Object tree(byte[] yaml, String source) {
        try {
            return new ObjectMapper(new YAMLFactory()).readValue(yaml, Object.class);
        } catch (IOException e) {
            throw new ConfigException(source + ": cannot read YAML: " + e.getMessage());
        }
    }
}
