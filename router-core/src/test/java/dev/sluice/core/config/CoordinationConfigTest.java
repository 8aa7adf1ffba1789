package dev.sluice.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.core.failover.ClusterSync;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code coordination: zookeeper: connect: …} in YAML, its flat option names, and their validation. */
class CoordinationConfigTest {
    private static Map<String, Object> cluster(Object coordination) {
        Map<String, Object> c = new LinkedHashMap<>(ConfigTest.goodCluster());
        if (coordination != null) {
            c.put("coordination", coordination);
        }
        return c;
    }

    @Test
    void offByDefault() {
        ClusterConfig c = ConfigTree.clusters(ConfigTest.tree(cluster(null)), "t.yaml").get("main");
        assertNull(c.coordinationConnect());
        assertEquals("/sluice", c.coordinationRoot());
        assertEquals(1000, c.coordinationSessionGraceMs());
    }

    @Test
    void nestedYamlMapsToTheFlatOptions() {
        ClusterConfig c = ConfigTree.clusters(ConfigTest.tree(cluster(Map.of(
                "zookeeper", Map.of("connect", "zk1:2181,zk2:2181", "root", "/prod"),
                "session-grace-ms", 500, "instance-name", "proxy-1"))), "t.yaml").get("main");
        assertEquals("zk1:2181,zk2:2181", c.coordinationConnect());
        assertEquals("/prod", c.coordinationRoot());
        assertEquals(500, c.coordinationSessionGraceMs());
        assertEquals("proxy-1", c.coordinationInstanceName());
    }

    @Test
    void topLevelSectionAppliesToEveryClusterAndAClusterOverridesIt() {
        Map<String, Object> tree = Map.of("coordination", Map.of("zookeeper", Map.of("connect", "zk:2181"), "instance-name", "x"),
                "clusters", Map.of("a", cluster(null), "b", cluster(Map.of("instance-name", "y"))));
        Map<String, ClusterConfig> cs = ConfigTree.clusters(tree, "t.yaml");
        assertEquals("zk:2181", cs.get("a").coordinationConnect());
        assertEquals("x", cs.get("a").coordinationInstanceName());
        assertEquals("y", cs.get("b").coordinationInstanceName());
        assertEquals("zk:2181", cs.get("b").coordinationConnect());
    }

    @Test
    void errorsNameTheKey() {
        ConfigException unknown = assertThrows(ConfigException.class, () -> ConfigTree.clusters(ConfigTest.tree(cluster(
                Map.of("zookeeper", Map.of("conect", "zk:2181")))), "t.yaml"));
        assertTrue(unknown.getMessage().contains("clusters.main.coordination.zookeeper.conect"), unknown.getMessage());
        ConfigException grace = assertThrows(ConfigException.class, () -> ConfigTree.clusters(ConfigTest.tree(cluster(
                Map.of("zookeeper", Map.of("connect", "zk:2181"), "session-grace-ms", 7000))), "t.yaml"));
        assertTrue(grace.getMessage().contains("coordination-session-grace-ms: must be below coordination-session-timeout-ms"),
                grace.getMessage());
        ConfigException root = assertThrows(ConfigException.class, () -> ConfigTree.clusters(ConfigTest.tree(cluster(
                Map.of("zookeeper", Map.of("connect", "zk:2181", "root", "sluice")))), "t.yaml"));
        assertTrue(root.getMessage().contains("coordination-zookeeper-root"), root.getMessage());
        ConfigException name = assertThrows(ConfigException.class, () -> ConfigTree.clusters(ConfigTest.tree(cluster(
                Map.of("zookeeper", Map.of("connect", "zk:2181"), "instance-name", "a/b"))), "t.yaml"));
        assertTrue(name.getMessage().contains("coordination-instance-name"), name.getMessage());
    }

    @Test
    void sharedConfigIsValidatedAndLimitedToLiveOptions() {
        ClusterConfig base = ConfigTree.clusters(ConfigTest.tree(cluster(null)), "t.yaml").get("main");
        assertEquals(3000, ClusterSync.validate(base, Map.of("max-lag-ms", "3000")).maxLagMs());
        assertThrows(ConfigException.class, () -> ClusterSync.validate(base, Map.of("max-lag-ms", "x")));
        assertThrows(ConfigException.class, () -> ClusterSync.validate(base, Map.of("readmit-lag-ms", "5000")));
        ConfigException secret = assertThrows(ConfigException.class, () -> ClusterSync.validate(base, Map.of("password", "p")));
        assertTrue(secret.getMessage().contains("cannot be changed at run time"), secret.getMessage());
        assertThrows(ConfigException.class, () -> ClusterSync.validate(base, Map.of("no-such-option", "1")));
    }
}
