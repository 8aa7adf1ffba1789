package dev.sluice.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigTest {
    static Map<String, Object> tree(Map<String, Object> cluster) {
        return Map.of("clusters", Map.of("main", cluster));
    }

    static Map<String, Object> goodCluster() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("engine", "postgresql");
        c.put("database", "app");
        c.put("user", "u");
        c.put("password", "secret");
        c.put("balancing", "least-outstanding");
        c.put("primary-functions", List.of("my_func", "other_func"));
        c.put("nodes", List.of(Map.of("name", "a", "host", "h1", "port", 5432), Map.of("name", "b", "host", "h2", "port", 5433, "weight", 2)));
        return c;
    }

    @Test
    void parsesAFullCluster() {
        ClusterConfig c = ConfigTree.clusters(tree(goodCluster()), "test.yaml").get("main");
        assertEquals(Engine.POSTGRESQL, c.engine());
        assertEquals(Balancing.LEAST_OUTSTANDING, c.balancing());
        assertEquals(List.of("my_func", "other_func"), c.primaryFunctions());
        assertEquals(2, c.node("b").weight());
        assertEquals(20, c.poolMaxSize(), "default from the catalogue");
        assertTrue(!c.toString().contains("secret"), "no secret in toString");
    }

    @Test
    void errorsNameTheKeyAndValue() {
        Map<String, Object> c = goodCluster();
        c.put("balancng", "x");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigTree.clusters(tree(c), "f.yaml"));
        assertTrue(e.getMessage().contains("clusters.main.balancng"), e.getMessage());

        Map<String, Object> c2 = goodCluster();
        c2.put("pool-max-size", "lots");
        e = assertThrows(ConfigException.class, () -> ConfigTree.clusters(tree(c2), "f.yaml"));
        assertTrue(e.getMessage().contains("clusters.main.pool-max-size") && e.getMessage().contains("lots"), e.getMessage());

        Map<String, Object> c3 = goodCluster();
        c3.put("engine", "oracle");
        e = assertThrows(ConfigException.class, () -> ConfigTree.clusters(tree(c3), "f.yaml"));
        assertTrue(e.getMessage().contains("oracle"), e.getMessage());

        Map<String, Object> c4 = goodCluster();
        c4.put("nodes", List.of(Map.of("name", "a", "host", "h1", "port", 1), Map.of("name", "a", "host", "h2", "port", 2)));
        e = assertThrows(ConfigException.class, () -> ConfigTree.clusters(tree(c4), "f.yaml"));
        assertTrue(e.getMessage().contains("'a' appears twice"), e.getMessage());

        Map<String, Object> c5 = goodCluster();
        c5.put("nodes", List.of(Map.of("host", "h1", "port", 1, "prot", 2)));
        e = assertThrows(ConfigException.class, () -> ConfigTree.clusters(tree(c5), "f.yaml"));
        assertTrue(e.getMessage().contains("nodes[0].prot"), e.getMessage());

        e = assertThrows(ConfigException.class, () -> ConfigTree.clusters(Map.of("clustres", Map.of()), "f.yaml"));
        assertTrue(e.getMessage().contains("clustres"), e.getMessage());
    }

    @Test
    void readCacheOptions() {
        Map<String, Object> c = goodCluster();
        c.put("cache", true); // what YAML 1.1 makes of an unquoted `on`
        c.put("cache-tables", List.of("users", "app.orders"));
        c.put("cache-ttl-ms", 500);
        ClusterConfig cc = ConfigTree.clusters(tree(c), "f.yaml").get("main");
        assertTrue(cc.cacheOn());
        assertEquals(List.of("users", "app.orders"), cc.cacheTables());
        assertEquals(500, cc.cacheTtlMs());
        assertEquals(64L << 20, cc.cacheMaxBytes());
        assertTrue(!cc.cacheInvalidateAll());
        assertTrue(!ConfigTree.clusters(tree(goodCluster()), "f.yaml").get("main").cacheOn(), "off by default");

        Map<String, Object> big = goodCluster();
        big.put("cache-max-bytes", 1000);
        big.put("cache-max-result-bytes", 2000);
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigTree.clusters(tree(big), "f.yaml"));
        assertTrue(e.getMessage().contains("clusters.main.cache-max-result-bytes"), e.getMessage());
        Map<String, Object> ttl = goodCluster();
        ttl.put("cache-ttl-ms", 0);
        e = assertThrows(ConfigException.class, () -> ConfigTree.clusters(tree(ttl), "f.yaml"));
        assertTrue(e.getMessage().contains("cache-ttl-ms"), e.getMessage());
    }

    @Test
    void overridesAreValidatedToo() {
        ClusterConfig c = ConfigTree.clusters(tree(goodCluster()), "test.yaml").get("main");
        assertEquals(Balancing.ROUND_ROBIN, c.withOverrides("URL parameter", Map.of("balancing", "round-robin"), Map.of()).balancing());
        assertEquals(Balancing.LEAST_OUTSTANDING, c.withOverrides("URL parameter", Map.of(), Map.of()).balancing());
        assertThrows(ConfigException.class, () -> c.withOverrides("URL parameter", Map.of("nope", "1"), Map.of()));
    }

    /** docs/configuration.md carries the option table generated from the catalogue: they can't drift. */
    @Test
    void configurationDocMatchesTheCatalogue() throws Exception {
        Path doc = Path.of("..", "docs", "configuration.md");
        assertTrue(Files.exists(doc), "docs/configuration.md is missing (looked at " + doc.toAbsolutePath() + ")");
        String text = Files.readString(doc);
        String table = OptionsDoc.markdownTable();
        if (Boolean.getBoolean("sluice.updateDocs")) {
            int start = text.indexOf("<!-- options:start -->");
            int end = text.indexOf("<!-- options:end -->");
            Files.writeString(doc, text.substring(0, start) + "<!-- options:start -->\n" + table + text.substring(end));
            text = Files.readString(doc);
        }
        assertTrue(text.contains("<!-- options:start -->\n" + table + "<!-- options:end -->"),
                "docs/configuration.md is out of date with SluiceOption; regenerate with "
                        + "mvn -pl router-core test -Dtest=ConfigTest -Dsluice.updateDocs=true");
    }
}
