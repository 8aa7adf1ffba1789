package dev.sluice.core.shard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import org.junit.jupiter.api.Test;

/** The merge arithmetic that must match the engines exactly (the ITs compare whole results with real servers). */
class MergeValuesTest {

    /** Values as PostgreSQL 15 prints {@code avg} / numeric division for these sums and counts. */
    @Test
    void postgresAverageScaleFollowsSelectDivScale() {
        assertEquals(new BigDecimal("1.5000000000000000"), MergeValues.average(3L, 2L, false)); // SELECT avg(x) FROM (VALUES (1),(2))
        assertEquals(new BigDecimal("505.9715454545454545"), MergeValues.average(new BigDecimal("1502735.49"), 2970L, false));
        assertEquals(new BigDecimal("0.33333333333333333333"), MergeValues.average(1L, 3L, false)); // 1::numeric / 3
        assertEquals(new BigDecimal("3333.3333333333333333"), MergeValues.average(10000L, 3L, false)); // 10000::numeric / 3
        assertEquals(20, MergeValues.pgDivisionScale(new BigDecimal("1"), new BigDecimal("3")));
        assertEquals(16, MergeValues.pgDivisionScale(new BigDecimal("3"), new BigDecimal("2")));
    }

    @Test
    void mysqlAverageScaleIsInputScalePlusFour() {
        assertEquals(new BigDecimal("1.5000"), MergeValues.average(new BigDecimal("3"), 2L, true));
        assertEquals(new BigDecimal("0.333333"), MergeValues.average(new BigDecimal("1.00"), 3L, true));
        assertEquals(new BigDecimal("0.666667"), MergeValues.average(new BigDecimal("2.00"), 3L, true)); // half up
        assertNull(MergeValues.average(null, 0L, true));
        assertEquals(2.5, (Double) MergeValues.average(5.0, 2L, false), 0.0);
    }

    @Test
    void sqlAdditionIgnoresNullAndKeepsTheType() {
        assertEquals(5L, MergeValues.add(2L, 3L));
        assertEquals(2L, MergeValues.add(null, 2L));
        assertEquals(new BigDecimal("5.50"), MergeValues.add(new BigDecimal("2.50"), new BigDecimal("3.00")));
        assertEquals(new BigDecimal("9223372036854775808"), MergeValues.add(Long.MAX_VALUE, 1L)); // no silent overflow
    }

    @Test
    void comparisonsFollowTheDatabase() {
        assertEquals(0, MergeValues.compare(1L, new BigDecimal("1.00"), null, null));
        assertTrue(MergeValues.compare("B", "a", null, null) < 0); // code point (C collation)
        assertTrue(MergeValues.compare("B", "a", new byte[] {0x42}, new byte[] {0x41}) > 0); // a collation weight wins
        assertTrue(MergeValues.compare("\uFFFF", "\uD83D\uDE00", null, null) < 0); // code points, not UTF-16 units
        assertTrue(MergeValues.compare(new byte[] {(byte) 0x80}, new byte[] {0x7f}, null, null) > 0); // unsigned bytes
    }
}
