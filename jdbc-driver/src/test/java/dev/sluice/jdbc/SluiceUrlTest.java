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
}
