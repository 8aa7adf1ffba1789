package dev.sluice.proxy;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.core.cache.ReadCache;
import dev.sluice.testsupport.DbCluster;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The read cache in the PostgreSQL proxy, driven by pgjdbc (simple Query, and Bind/Execute of named statements). */
class ProxyReadCacheIT extends AbstractProxyReadCacheIT {
    static ProxyFixture f;

    @BeforeAll
    static void start() throws Exception {
        f = ProxyFixture.start("cache-proxy-pg", 2, CLUSTER_EXTRA, null);
    }

    @AfterAll
    static void stop() {
        if (f != null) {
            f.close();
        }
    }

    @Override
    DbCluster cluster() {
        return f.cluster;
    }

    @Override
    ReadCache cache() {
        return f.server.runtime().router().readCache();
    }

    /** Text: preferQueryMode=simple (a Query message per statement); prepared: named statements from the first use. */
    @Override
    Connection connect(boolean prepared) throws SQLException {
        return DriverManager.getConnection(f.jdbcUrl() + (prepared ? "?prepareThreshold=1" : "?preferQueryMode=simple"),
                ProxyFixture.USER, ProxyFixture.PASSWORD);
    }

    @Override
    String nonDeterministicRead(String table) {
        return "SELECT id, random() FROM " + table;
    }

    /** /api/status, /metrics and the status page show the cache: hits, size, invalidations per table. */
    @Test
    void statusApiMetricsAndPageShowTheCache() throws Exception {
        direct("CREATE TABLE pshown (id int PRIMARY KEY)", "INSERT INTO pshown VALUES (1)");
        f.cluster.waitForReplication(Duration.ofSeconds(30));
        try (Connection c = connect(false); Statement st = c.createStatement()) {
            for (int i = 0; i < 5; i++) {
                st.executeQuery("SELECT id FROM pshown").close();
            }
            st.executeUpdate("UPDATE pshown SET id = 1");
        }
        String admin = "http://127.0.0.1:" + f.server.adminAddress().getPort();
        var http = HttpClient.newHttpClient();
        String body = http.send(HttpRequest.newBuilder(URI.create(admin + "/api/status")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        var cache = new ObjectMapper().readTree(body).get("cache");
        assertTrue(cache.get("enabled").asBoolean() && cache.get("hits").asLong() > 0
                && cache.get("invalidationsByTable").get("pshown").asLong() >= 1 && cache.has("hitRatio") && cache.has("bytes")
                && cache.has("evictions"), body);
        String metrics = http.send(HttpRequest.newBuilder(URI.create(admin + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        for (String series : new String[] {"sluice_cache_requests_total{cluster=\"main\",result=\"hit\"}", "sluice_cache_hit_ratio",
            "sluice_cache_size_bytes", "sluice_cache_removals_total", "sluice_cache_invalidations_total{cluster=\"main\",table=\"pshown\"}"}) {
            assertTrue(metrics.contains(series), series + " in\n" + metrics);
        }
        assertTrue(Chromium.installed(), "chromium and chromium-driver not installed (run bin/install-prereqs)");
        try (Chromium b = new Chromium(1280, 1500)) {
            b.open(admin + "/");
            b.await("the cache summary", "return document.getElementById('cache-summary').textContent",
                    t -> t.asText().startsWith("hit ratio"), Duration.ofSeconds(20));
            b.await("pshown's invalidations", "return document.querySelector('#cache-invalidations tbody').textContent",
                    t -> t.asText().contains("pshown"), Duration.ofSeconds(20));
        }
    }

    @Override
    long serverReads(String table) throws Exception {
        return sum(f.cluster.nodes(), n -> {
            try (Connection c = f.cluster.connectAdmin(n);
                 PreparedStatement ps = c.prepareStatement(
                         "SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0) FROM pg_stat_user_tables WHERE relname = ?")) {
                ps.setString(1, table);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? rs.getLong(1) : 0;
                }
            }
        });
    }
}
