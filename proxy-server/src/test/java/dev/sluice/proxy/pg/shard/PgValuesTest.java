package dev.sluice.proxy.pg.shard;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.core.shard.ValueRef;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The wire values the sharded PostgreSQL session reads (Bind parameters, merge columns) and writes (merged aggregates). */
class PgValuesTest {

    static Object text(int oid, String s) throws Exception {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return PgValues.decode(oid, false, b, 0, b.length);
    }

    static Object bin(int oid, byte[] b) throws Exception {
        return PgValues.decode(oid, true, b, 0, b.length);
    }

    @Test
    void textValues() throws Exception {
        assertEquals(42L, text(PgValues.INT4, "42"));
        assertEquals(-7L, text(PgValues.INT8, "-7"));
        assertEquals(new BigDecimal("12.50"), text(PgValues.NUMERIC, "12.50"));
        assertEquals(1.5, text(PgValues.FLOAT8, "1.5"));
        assertEquals(Double.POSITIVE_INFINITY, text(PgValues.FLOAT8, "Infinity"));
        assertEquals("éclair", text(PgValues.VARCHAR, "éclair"));
        assertEquals(LocalDate.of(2024, 2, 29), text(PgValues.DATE, "2024-02-29"));
        assertEquals(LocalDateTime.of(2024, 1, 2, 3, 4, 5, 120_000_000), text(PgValues.TIMESTAMP, "2024-01-02 03:04:05.12"));
        assertEquals(OffsetDateTime.of(2024, 1, 2, 0, 34, 5, 0, ZoneOffset.UTC), text(PgValues.TIMESTAMPTZ, "2024-01-02 03:04:05+02:30"));
        assertEquals(OffsetDateTime.of(2024, 1, 2, 3, 4, 5, 0, ZoneOffset.UTC), text(PgValues.TIMESTAMPTZ, "2024-01-02 03:04:05+00"));
        assertEquals(true, text(PgValues.BOOL, "t"));
        assertThrows(PgValues.Unsupported.class, () -> text(2950, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")); // uuid: not read
        assertThrows(PgValues.Unsupported.class, () -> text(PgValues.INT4, "x"));
    }

    @Test
    void binaryValues() throws Exception {
        assertEquals(7L, bin(PgValues.INT2, new byte[] {0, 7}));
        assertEquals(-2L, bin(PgValues.INT4, new byte[] {-1, -1, -1, -2}));
        assertEquals(1L << 40, bin(PgValues.INT8, ByteBuffer.allocate(8).putLong(1L << 40).array()));
        assertEquals(2.25, bin(PgValues.FLOAT8, ByteBuffer.allocate(8).putDouble(2.25).array()));
        assertEquals(0.5, bin(PgValues.FLOAT4, ByteBuffer.allocate(4).putFloat(0.5f).array()));
        assertEquals("abc", bin(PgValues.TEXT, "abc".getBytes(StandardCharsets.UTF_8)));
        assertEquals(LocalDate.of(2000, 1, 11), bin(PgValues.DATE, new byte[] {0, 0, 0, 10}));
        assertEquals(LocalDate.of(1999, 12, 31), bin(PgValues.DATE, new byte[] {-1, -1, -1, -1}));
        assertEquals(LocalDateTime.of(2000, 1, 1, 0, 0, 1), bin(PgValues.TIMESTAMP, ByteBuffer.allocate(8).putLong(1_000_000).array()));
        assertEquals(false, bin(PgValues.BOOL, new byte[] {0}));
        assertThrows(PgValues.Unsupported.class, () -> bin(PgValues.DATE, ByteBuffer.allocate(4).putInt(Integer.MAX_VALUE).array()));
    }

    /** numeric's binary form, as PostgreSQL sends 1234.5600 (ndigits 2, weight 0, positive, dscale 4: 1234, 5600). */
    @Test
    void numericBinaryBothWays() throws Exception {
        byte[] wire = HexFormat.of().parseHex("00020000000000040" + "4d215e0");
        assertEquals(new BigDecimal("1234.5600"), bin(PgValues.NUMERIC, wire));
        for (String s : List.of("0", "0.00", "1", "-1", "12.5", "10000", "123456789012345678901234567890.123456789", "0.0001", "-0.00012",
                "99999999.99", "1e+20", "5.000000000000000000000")) {
            BigDecimal v = new BigDecimal(s);
            Object back = bin(PgValues.NUMERIC, PgValues.numericBinary(v));
            assertEquals(v.scale() < 0 ? v.setScale(0) : v, back, s);
        }
        assertArrayEquals(wire, PgValues.numericBinary(new BigDecimal("1234.5600")), "the same bytes PostgreSQL sends");
    }

    @Test
    void mergedAggregatesAreEncodedInTheClientsFormat() throws Exception {
        assertEquals("3000", new String(PgValues.encode(3000L, PgValues.INT8, false), StandardCharsets.UTF_8));
        assertEquals("499.5000000000000000", new String(PgValues.encode(new BigDecimal("499.5000000000000000"), PgValues.NUMERIC, false),
                StandardCharsets.UTF_8));
        assertEquals(2.5, Double.parseDouble(new String(PgValues.encode(2.5, PgValues.FLOAT8, false), StandardCharsets.UTF_8)));
        assertArrayEquals(ByteBuffer.allocate(8).putLong(3000).array(), PgValues.encode(3000L, PgValues.INT8, true));
        assertArrayEquals(ByteBuffer.allocate(8).putDouble(2.5).array(), PgValues.encode(2.5, PgValues.FLOAT8, true));
        assertEquals(new BigDecimal("-1.25"), bin(PgValues.NUMERIC, PgValues.encode(new BigDecimal("-1.25"), PgValues.NUMERIC, true)));
        assertThrows(PgValues.Unsupported.class, () -> PgValues.encode(1L, PgValues.DATE, true));
        assertThrows(PgValues.Unsupported.class, () -> PgValues.encode(new BigDecimal("1e30"), PgValues.INT8, true));
        assertEquals(null, PgValues.encode(null, PgValues.INT8, true));
    }

    /** Bind parameters as routing sees them: text as strings, binary of the common types decoded, anything else opaque. */
    @Test
    void bindParametersForRouting() {
        StatementDef def = new StatementDef("", "x", new int[] {PgValues.INT4, PgValues.INT8, PgValues.NUMERIC, PgValues.VARCHAR,
            PgValues.DATE, 17, PgValues.INT2}, null, null);
        byte[][] values = {
            {0, 0, 0, 5}, ByteBuffer.allocate(8).putLong(6).array(), PgValues.numericBinary(new BigDecimal("7.5")),
            "k".getBytes(StandardCharsets.UTF_8), {0, 0, 0, 1}, {1, 2}, null};
        BindMsg b = decode(new short[] {1}, values);
        assertEquals(java.util.Arrays.asList(5L, 6L, new BigDecimal("7.5"), "k", LocalDate.of(2000, 1, 2), ValueRef.OPAQUE, null),
                b.routingValues(def));
        BindMsg t = decode(new short[] {0}, new byte[][] {"42".getBytes(StandardCharsets.UTF_8)});
        assertEquals(List.of("42"), t.routingValues(def));
        BindMsg mixed = decode(new short[] {0, 1}, new byte[][] {"42".getBytes(StandardCharsets.UTF_8), ByteBuffer.allocate(8).putLong(9).array()});
        assertEquals(List.of("42", 9L), mixed.routingValues(def));
    }

    private static BindMsg decode(short[] formats, byte[][] values) {
        ByteBuf f = Unpooled.buffer();
        f.writeByte('B').writeInt(0);
        f.writeBytes("p\0s\0".getBytes(StandardCharsets.US_ASCII));
        f.writeShort(formats.length);
        for (short s : formats) {
            f.writeShort(s);
        }
        f.writeShort(values.length);
        for (byte[] v : values) {
            if (v == null) {
                f.writeInt(-1);
            } else {
                f.writeInt(v.length).writeBytes(v);
            }
        }
        f.writeShort(0);
        f.setInt(1, f.writerIndex() - 1);
        BindMsg b = BindMsg.decode(f);
        assertEquals("p", b.portal());
        assertEquals("s", b.statement());
        f.release();
        return b;
    }

    @Test
    void placeholdersOfTheRewriteAreNumberedAfterTheClientsOwn() {
        assertEquals("SELECT a FROM t WHERE b = $1 ORDER BY a LIMIT $3", PgSql.numberPlaceholders("SELECT a FROM t WHERE b = $1 ORDER BY a LIMIT ?", 3));
        assertEquals("SELECT '?', \"q?\", $$?$$ /* ? */ -- ?\n, $2", PgSql.numberPlaceholders("SELECT '?', \"q?\", $$?$$ /* ? */ -- ?\n, ?", 2));
        assertTrue(PgSql.references("SELECT $1, $12", 12));
        assertTrue(!PgSql.references("SELECT $12", 1));
        assertTrue(!PgSql.references("SELECT '$1'", 1));
    }
}
