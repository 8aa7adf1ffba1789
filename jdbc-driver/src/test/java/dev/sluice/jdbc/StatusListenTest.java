package dev.sluice.jdbc;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.DriverManager;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;

/** status-listen errors: a clear message at the first connect, not a silent no-op. */
class StatusListenTest {
    @Test
    void aBadAddressIsRejected() {
        SQLException e = assertThrows(SQLException.class, () -> DriverManager.getConnection(
                "jdbc:sluice:postgresql://127.0.0.1:1/nodb?user=u&password=p&status-listen=nohostport"));
        assertTrue(e.getMessage().contains("expected host:port"), e.getMessage());
    }
}
