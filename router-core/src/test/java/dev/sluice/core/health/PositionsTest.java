package dev.sluice.core.health;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.core.sql.Dialect;
import org.junit.jupiter.api.Test;

class PositionsTest {
    @Test
    void postgresLsn() {
        assertTrue(Positions.covers(Dialect.POSTGRESQL, "0/3000100", "0/3000060"));
        assertTrue(Positions.covers(Dialect.POSTGRESQL, "1/0", "0/FFFFFFFF"));
        assertFalse(Positions.covers(Dialect.POSTGRESQL, "0/3000060", "0/3000100"));
        assertFalse(Positions.covers(Dialect.POSTGRESQL, null, "0/1"));
        assertFalse(Positions.covers(Dialect.POSTGRESQL, "garbage", "0/1"));
    }

    @Test
    void mariadbGtid() {
        assertTrue(Positions.covers(Dialect.MYSQL, "0-1-120", "0-1-100"));
        assertTrue(Positions.covers(Dialect.MYSQL, "0-1-120,1-2-5", "1-2-5"));
        assertFalse(Positions.covers(Dialect.MYSQL, "0-1-99", "0-1-100"));
        assertFalse(Positions.covers(Dialect.MYSQL, "0-1-500", "1-1-1"), "other domain");
    }

    @Test
    void mysqlGtidSet() {
        String uuid = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
        assertTrue(Positions.covers(Dialect.MYSQL, uuid + ":1-100", uuid + ":1-57"));
        assertFalse(Positions.covers(Dialect.MYSQL, uuid + ":1-50", uuid + ":1-57"));
    }
}
