package dev.sluice.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import org.junit.jupiter.api.Test;

/** The merge arithmetic that must match the engines exactly (the ITs compare whole results with real servers). */
class MergerTest {

    /** Values as PostgreSQL 15 prints {@code avg} / numeric division for these sums and counts. */
    @Test
    void postgresAverageScaleFollowsSelectDivScale() {
        assertEquals(new BigDecimal("1.5000000000000000"), Merger.average(3L, 2L, false)); // SELECT avg(x) FROM (VALUES (1),(2))
        assertEquals(new BigDecimal("505.9715454545454545"), Merger.average(new BigDecimal("1502735.49"), 2970L, false));
        assertEquals(new BigDecimal("0.33333333333333333333"), Merger.average(1L, 3L, false)); // 1::numeric / 3
        assertEquals(new BigDecimal("3333.3333333333333333"), Merger.average(10000L, 3L, false)); // 10000::numeric / 3
        assertEquals(20, Merger.pgDivisionScale(new BigDecimal("1"), new BigDecimal("3")));
        assertEquals(16, Merger.pgDivisionScale(new BigDecimal("3"), new BigDecimal("2")));
    }

    @Test
    void mysqlAverageScaleIsInputScalePlusFour() {
        assertEquals(new BigDecimal("1.5000"), Merger.average(new BigDecimal("3"), 2L, true));
        assertEquals(new BigDecimal("0.333333"), Merger.average(new BigDecimal("1.00"), 3L, true));
        assertEquals(new BigDecimal("0.666667"), Merger.average(new BigDecimal("2.00"), 3L, true)); // half up
        assertNull(Merger.average(null, 0L, true));
        assertEquals(2.5, (Double) Merger.average(5.0, 2L, false), 0.0);
    }

    @Test
    void sqlAdditionIgnoresNullAndKeepsTheType() {
        assertEquals(5L, Merger.add(2L, 3L));
        assertEquals(2L, Merger.add(null, 2L));
        assertEquals(new BigDecimal("5.50"), Merger.add(new BigDecimal("2.50"), new BigDecimal("3.00")));
        assertEquals(new BigDecimal("9223372036854775808"), Merger.add(Long.MAX_VALUE, 1L)); // no silent overflow
    }

    @Test
    void comparisonsFollowTheDatabase() {
        assertEquals(0, Merger.compare(1L, new BigDecimal("1.00"), null, null));
        assertTrue(Merger.compare("B", "a", null, null) < 0); // code point (C collation)
        assertTrue(Merger.compare("B", "a", new byte[] {0x42}, new byte[] {0x41}) > 0); // a collation weight wins
        assertTrue(Merger.compare("\uFFFF", "\uD83D\uDE00", null, null) < 0); // code points, not UTF-16 units
        assertTrue(Merger.compare(new byte[] {(byte) 0x80}, new byte[] {0x7f}, null, null) > 0); // unsigned bytes
    }
}
