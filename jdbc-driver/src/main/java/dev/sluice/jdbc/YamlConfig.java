package dev.sluice.jdbc;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.sluice.core.config.ClusterConfig;
import dev.sluice.core.config.ConfigException;
import dev.sluice.core.config.ConfigTree;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Reads a cluster YAML file (format in docs/configuration.md) and picks one cluster for the driver. */
final class YamlConfig {
    private YamlConfig() {
    }

    static ClusterConfig load(Path file, String clusterName, Map<String, String> overrides, Map<String, String> driverOverrides) {
        Object tree;
        try {
            tree = new ObjectMapper(new YAMLFactory()).readValue(Files.readAllBytes(file), Object.class);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new ConfigException(file + ": no such file");
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read YAML: " + e.getMessage());
        }
        Map<String, ClusterConfig> clusters = ConfigTree.clusters(tree, file.toString());
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
}
