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
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new ConfigException(file + ": no such file");
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read YAML: " + e.getMessage());
        }
        Map<String, ClusterConfig> clusters = ConfigTree.clusters(tree(bytes, file.toString()), file.toString());
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

    /** The YAML document as maps, lists and scalars; malformed YAML is a {@link ConfigException}. */
    static Object tree(byte[] yaml, String source) {
        try {
            return new ObjectMapper(new YAMLFactory()).readValue(yaml, Object.class);
        } catch (IOException e) {
            throw new ConfigException(source + ": cannot read YAML: " + e.getMessage());
        }
    }
}
