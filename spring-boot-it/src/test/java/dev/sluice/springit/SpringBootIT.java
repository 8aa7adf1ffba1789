package dev.sluice.springit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.zaxxer.hikari.HikariDataSource;
import dev.sluice.jdbc.SluiceDriver;
import dev.sluice.testsupport.Clusters;
import dev.sluice.testsupport.DbCluster;
import dev.sluice.testsupport.DbNode;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Collectors;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * A plain Spring Boot JDBC application switched to Sluice by configuration only. Boot needs one property
 * besides the URL: it derives the driver class from a list of URL prefixes it knows, and fails with
 * "Failed to determine a suitable driver class" for any other (test below), so
 * {@code spring.datasource.driver-class-name=dev.sluice.jdbc.SluiceDriver} goes with the URL.
 */
class SpringBootIT {
    @SpringBootApplication
    static class App {
    }

    static DbCluster cluster;

    @BeforeAll
    static void start() {
        cluster = Clusters.startPostgres("spring-pg", 2);
    }

    @AfterAll
    static void stop() throws Exception {
        SluiceDriver.closeAll();
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void springDatasourceUrlIsAllItTakes() throws Exception {
        String hosts = cluster.nodes().stream().map(n -> n.host() + ":" + n.port()).collect(Collectors.joining(","));
        SpringApplication app = new SpringApplication(App.class);
        app.setWebApplicationType(WebApplicationType.NONE);
        try (ConfigurableApplicationContext ctx = app.run(
                "--spring.datasource.url=jdbc:sluice:postgresql://" + hosts + "/" + cluster.database(),
                "--spring.datasource.driver-class-name=dev.sluice.jdbc.SluiceDriver",
                "--spring.datasource.username=" + cluster.user(),
                "--spring.datasource.password=" + cluster.password())) {
            DataSource ds = ctx.getBean(DataSource.class);
            assertTrue(ds instanceof HikariDataSource, "Boot's default pool: " + ds.getClass());
            JdbcTemplate jdbc = ctx.getBean(JdbcTemplate.class);
            Set<Integer> replicas = cluster.replicas().stream().map(DbNode::port).collect(Collectors.toSet());
            jdbc.execute("CREATE TABLE boot_t (id serial PRIMARY KEY, written_by int)");
            assertEquals(1, jdbc.update("INSERT INTO boot_t(written_by) VALUES (inet_server_port())"));
            cluster.waitForReplication(Duration.ofSeconds(10));
            Set<Integer> seen = new HashSet<>();
            for (int i = 0; i < 6; i++) {
                seen.add(jdbc.queryForObject("SELECT inet_server_port()", Integer.class));
            }
            assertEquals(replicas, seen, "reads spread over the replicas");
            assertEquals(cluster.primary().port(), jdbc.queryForObject("SELECT written_by FROM boot_t", Integer.class),
                    "the INSERT ran on the primary");
        }
    }

    /** Documents why the driver-class-name property is needed: Boot refuses URLs it does not know. */
    @Test
    void withoutTheDriverClassBootRefusesTheUrl() {
        SpringApplication app = new SpringApplication(App.class);
        app.setWebApplicationType(WebApplicationType.NONE);
        Exception e = org.junit.jupiter.api.Assertions.assertThrows(Exception.class, () -> app.run(
                "--spring.datasource.url=jdbc:sluice:postgresql://127.0.0.1:1/x").close());
        Throwable root = e;
        while (root.getCause() != null) {
            root = root.getCause();
        }
        assertTrue(String.valueOf(root.getMessage()).contains("suitable driver class")
                || String.valueOf(e.getMessage()).contains("suitable driver class"), String.valueOf(e.getMessage()));
    }
}
