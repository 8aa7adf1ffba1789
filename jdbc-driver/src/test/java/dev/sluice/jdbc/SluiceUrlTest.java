package dev.sluice.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.SQLException;
import org.junit.jupiter.api.Test;

class SluiceUrlTest {
    /** Found by SluiceUrlFuzzTest: URLDecoder's IllegalArgumentException escaped the driver's SQLException contract. */
    @Test
    void aMalformedPercentEscapeIsABadConfigurationNotARuntimeException() {
        SQLException e = assertThrows(SQLException.class,
                () -> new SluiceDriver().connect("jdbc:sluice:postgresql://h1/db?user=u&password=se%zzcret", null));
        assertEquals("08001", e.getSQLState());
        assertTrue(e.getMessage().contains("parameter password"), e.getMessage());
        assertFalse(e.getMessage().contains("se%zzcret"), "the value (a password here) is not in the message");
        SQLException db = assertThrows(SQLException.class, () -> new SluiceDriver().connect("jdbc:sluice:postgresql://h1/d%", null));
        assertTrue(db.getMessage().contains("database name"), db.getMessage());
    }

    /** {@code ?database=} selects a sharded database of a YAML file; its errors name the parameter and the value. */
    @Test
    void shardedDatabaseUrlErrors() throws Exception {
        java.nio.file.Path f = java.nio.file.Files.createTempFile("sluice-url", ".yaml");
        try {
            java.nio.file.Files.writeString(f, """
                    clusters:
                      c1: { engine: postgresql, database: a, nodes: [ { host: 127.0.0.1, port: 1 } ] }
                      c2: { engine: mariadb, database: b, nodes: [ { host: 127.0.0.1, port: 2 } ] }
                    databases:
                      app:
                        shards: [ { name: s1, cluster: c1 }, { name: s2, cluster: c2 } ]
                        tables: { t: { key: id, strategy: hash } }
                    """);
            SQLException mixed = assertThrows(SQLException.class, () -> new SluiceDriver().connect("jdbc:sluice:file:" + f + "?database=app", null));
            assertEquals("08001", mixed.getSQLState());
            assertTrue(mixed.getMessage().contains("shard s2 is mariadb but shard s1 is postgresql"), mixed.getMessage());
            SQLException missing = assertThrows(SQLException.class, () -> new SluiceDriver().connect("jdbc:sluice:file:" + f + "?database=nope", null));
            assertTrue(missing.getMessage().contains("URL parameter database: 'nope' is not under databases:"), missing.getMessage());
            SQLException both = assertThrows(SQLException.class,
                    () -> new SluiceDriver().connect("jdbc:sluice:file:" + f + "?database=app&cluster=c1", null));
            assertTrue(both.getMessage().contains("give one"), both.getMessage());
            SQLException notFile = assertThrows(SQLException.class,
                    () -> new SluiceDriver().connect("jdbc:sluice:postgresql://h1/db?database=app", null));
            assertTrue(notFile.getMessage().contains("only valid with jdbc:sluice:file:"), notFile.getMessage());
        } finally {
            java.nio.file.Files.delete(f);
        }
    }
}
