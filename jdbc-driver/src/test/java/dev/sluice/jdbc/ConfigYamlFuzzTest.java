package dev.sluice.jdbc;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.sluice.core.config.ClusterConfig;
import dev.sluice.core.config.ConfigException;
import dev.sluice.core.config.ConfigTree;
import java.util.Map;

/**
 * Coverage-guided fuzzing of the configuration loader (docs/fuzzing.md): fuzzed bytes go through the same
 * YAML reading as {@code jdbc:sluice:file:} ({@link YamlConfig#tree}) and then {@link ConfigTree#clusters}.
 * The only exception allowed out is {@link ConfigException} (the driver turns it into an SQLException naming
 * the key); anything else, or a load slower than 2 s, is a finding.
 */
class ConfigYamlFuzzTest {
    @FuzzTest
    void clusters(byte[] yaml) {
        long t0 = System.nanoTime();
        try {
            Object tree = YamlConfig.tree(yaml, "fuzz.yaml");
            Map<String, ClusterConfig> clusters = ConfigTree.clusters(tree, "fuzz.yaml");
            assertFalse(clusters.isEmpty(), "clusters() returned no cluster without an error");
            for (ClusterConfig c : clusters.values()) {
                assertNotNull(c.engine());
                assertFalse(c.nodes().isEmpty());
                // what the driver does with URL parameters on top of a file: same validation again
                c.withOverrides("URL parameter", Map.of(), Map.of());
            }
        } catch (ConfigException expected) {
            assertNotNull(expected.getMessage());
        }
        long took = System.nanoTime() - t0;
        if (took > 2_000_000_000L) {
            fail("loading " + yaml.length + " bytes of YAML took " + took / 1_000_000 + " ms");
        }
    }
}
