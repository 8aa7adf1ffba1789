package dev.sluice.proxy.mysql.shard;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** Decoding and re-encoding of text- and binary-protocol rows, against hand-written packets. */
class RowCodecTest {
    private static final HexFormat HEX = HexFormat.of();
    private static final ByteBufAllocator ALLOC = ByteBufAllocator.DEFAULT;

    /** id BIGINT, name VARCHAR utf8mb4, amount DECIMAL(10,2), created DATE, w VARBINARY (a WEIGHT_STRING column). */
    static final ColumnDef[] COLS = {
        new ColumnDef(63, ColumnDef.LONGLONG, 0, 0),
        new ColumnDef(45, 253, 0, 0),
        new ColumnDef(63, ColumnDef.NEWDECIMAL, 0, 2),
        new ColumnDef(63, ColumnDef.DATE, 0, 0),
        new ColumnDef(63, 253, 0x80, 0),
    };

    static ByteBuf packet(int seq, String payloadHex) {
        byte[] p = HEX.parseHex(payloadHex.replace(" ", ""));
        ByteBuf b = Unpooled.buffer();
        b.writeMediumLE(p.length).writeByte(seq).writeBytes(p);
        return b;
    }

    static String hex(ByteBuf b) {
        return ByteBufUtil.hexDump(b);
    }

    // text row: "42", "alpha", NULL, "2024-01-05", x'4100'
    static final String TEXT_ROW = "02 3432  05 616c706861  fb  0a 323032342d30312d3035  02 4100";

    @Test
    void decodesOnlyTheNeededTextColumns() {
        ByteBuf row = packet(5, TEXT_ROW);
        Object[] v = RowCodec.decodeText(row, COLS, new boolean[] {true, false, true, true, true});
        assertEquals(42L, v[0]);
        assertNull(v[1], "not needed: not decoded");
        assertNull(v[2], "SQL NULL");
        assertEquals(LocalDate.of(2024, 1, 5), v[3]);
        assertArrayEquals(new byte[] {0x41, 0x00}, (byte[]) v[4]);
        Object[] name = RowCodec.decodeText(row, COLS, new boolean[] {false, true, false, false, false});
        assertEquals("alpha", name[1]);
    }

    @Test
    void textRowLosesHiddenTrailingColumns() {
        ByteBuf row = RowCodec.truncateText(packet(5, TEXT_ROW), 3, 5);
        assertEquals(hex(packet(5, "02 3432  05 616c706861  fb")), hex(row));
        ByteBuf same = packet(5, TEXT_ROW);
        assertEquals(hex(packet(5, TEXT_ROW)), hex(RowCodec.truncateText(same, 5, 5)));
    }

    @Test
    void textRowGetsAggregateColumnsReencoded() {
        Object[] values = {7L, null, new BigDecimal("12.3450"), null, null};
        ByteBuf row = RowCodec.reencodeText(ALLOC, packet(3, TEXT_ROW), COLS, 4, values, new boolean[] {true, false, true, false, false});
        // id 7, name copied, amount 12.3450, date copied, the hidden weight dropped
        assertEquals(hex(packet(3, "01 37  05 616c706861  07 31322e33343530  0a 323032342d30312d3035")), hex(row));
        ByteBuf nulls = RowCodec.reencodeText(ALLOC, packet(3, TEXT_ROW), COLS, 1, new Object[5], new boolean[] {true, false, false, false, false});
        assertEquals(hex(packet(3, "fb")), hex(nulls));
    }

    // binary row: 00, NULL bitmap (1 byte: amount = column 2 → bit 4), 42 as 8 bytes, "alpha", DATE 2024-01-05, x'4100'
    static final String BINARY_ROW = "00 10  2a00000000000000  05 616c706861  04 e807 01 05  02 4100";

    @Test
    void decodesOnlyTheNeededBinaryColumns() {
        ByteBuf row = packet(4, BINARY_ROW);
        Object[] v = RowCodec.decodeBinary(row, COLS, new boolean[] {true, true, true, true, true});
        assertEquals(42L, v[0]);
        assertEquals("alpha", v[1]);
        assertNull(v[2]);
        assertEquals(LocalDate.of(2024, 1, 5), v[3]);
        assertArrayEquals(new byte[] {0x41, 0x00}, (byte[]) v[4]);
        Object[] onlyLast = RowCodec.decodeBinary(row, COLS, new boolean[] {false, false, false, false, true});
        assertNull(onlyLast[0]);
        assertArrayEquals(new byte[] {0x41, 0x00}, (byte[]) onlyLast[4]);
    }

    @Test
    void binaryRowLosesHiddenColumnsWithItsNullBitmapRewritten() {
        ByteBuf row = RowCodec.truncateBinary(ALLOC, packet(4, BINARY_ROW), COLS, 4);
        assertEquals(hex(packet(4, "00 10  2a00000000000000  05 616c706861  04 e807 01 05")), hex(row));
        // 10 columns → a 2-byte bitmap; the first 6 kept → 1 byte, and the dropped columns' NULL bits go
        ColumnDef[] ten = new ColumnDef[10];
        java.util.Arrays.fill(ten, new ColumnDef(63, ColumnDef.TINY, 0, 0));
        // columns 1 and 7 NULL: bits 3 and 9 → bitmap 08 02; eight 1-byte values
        ByteBuf wide = packet(2, "00 0802  01 03 04 05 06 07 09 0a");
        assertEquals(hex(packet(2, "00 08  01 03 04 05 06")), hex(RowCodec.truncateBinary(ALLOC, wide, ten, 6)));
        // 7 columns kept: still 2 bitmap bytes ((7 + 9) / 8), bit 9 (column 7) cleared
        ByteBuf wide2 = packet(2, "00 0802  01 03 04 05 06 07 09 0a");
        assertEquals(hex(packet(2, "00 0800  01 03 04 05 06 07")), hex(RowCodec.truncateBinary(ALLOC, wide2, ten, 7)));
    }

    @Test
    void binaryRowGetsAggregateColumnsReencoded() {
        Object[] values = {100L, null, new BigDecimal("1.5000"), null, null};
        ByteBuf row = RowCodec.reencodeBinary(ALLOC, packet(9, BINARY_ROW), COLS, 4, values, new boolean[] {true, false, true, false, false});
        // amount now non-NULL (bitmap 00), id 100, name copied, 1.5000 as a length-encoded string, date copied
        assertEquals(hex(packet(9, "00 00  6400000000000000  05 616c706861  06 312e35303030  04 e807 01 05")), hex(row));
        Object[] nulled = {null, null, null, null, null};
        ByteBuf n = RowCodec.reencodeBinary(ALLOC, packet(9, BINARY_ROW), COLS, 2, nulled, new boolean[] {true, false, false, false, false});
        assertEquals(hex(packet(9, "00 04  05 616c706861")), hex(n));
    }

    @Test
    void binaryTemporalAndNumericValuesRoundTrip() {
        ColumnDef[] cols = {
            new ColumnDef(63, ColumnDef.DATETIME, 0, 6),
            new ColumnDef(63, ColumnDef.TIME, 0, 0),
            new ColumnDef(63, ColumnDef.DOUBLE, 0, 31),
            new ColumnDef(63, ColumnDef.LONG, ColumnDef.UNSIGNED_FLAG, 0),
            new ColumnDef(63, ColumnDef.TINY, 0, 0),
        };
        Object[] values = {LocalDateTime.of(2024, 2, 29, 13, 14, 15, 123_000_000), Duration.ofHours(-50).minusSeconds(61), 2.5, 4_000_000_000L, -3L};
        ByteBuf b = Unpooled.buffer();
        b.writeMediumLE(0).writeByte(1).writeByte(0).writeByte(0);
        for (int i = 0; i < cols.length; i++) {
            BinaryValues.encode(b, cols[i], values[i]);
        }
        b.setMediumLE(0, b.readableBytes() - 4);
        Object[] back = RowCodec.decodeBinary(b, cols, new boolean[] {true, true, true, true, true});
        assertArrayEquals(values, back);
        // DATETIME: 11 bytes follow: year 2024, month 2, day 29, 13:14:15, 123000 microseconds
        assertEquals("0be807021d0d0e0f78e00100", ByteBufUtil.hexDump(b, 6, 12));
    }

    @Test
    void textFormsAsMySqlWritesThem() {
        assertEquals("2024-01-05 10:11:12.123000", Temporal.formatDateTime(Temporal.parseDateTime("2024-01-05 10:11:12.123"), 6));
        assertEquals("2024-01-05 10:11:12", Temporal.formatDateTime(Temporal.parseDateTime("2024-01-05 10:11:12"), 0));
        assertEquals("-838:59:59", Temporal.formatTime(Temporal.parseTime("-838:59:59"), 0));
        assertEquals("0000-00-00", Temporal.formatDate(Temporal.parseDate("0000-00-00")));
        assertEquals("3", Temporal.formatDouble(3.0));
        assertEquals("0.30000000000000004", Temporal.formatDouble(0.1 + 0.2));
        assertEquals("1e20", Temporal.formatDouble(1e20));
        assertEquals("1.5e-7", Temporal.formatDouble(1.5e-7));
        ColumnDef latin1 = new ColumnDef(8, 253, 0, 0);
        assertArrayEquals("é".getBytes(StandardCharsets.ISO_8859_1), RowCodec.TextValues.encode(latin1, "é"));
        assertArrayEquals("é".getBytes(StandardCharsets.UTF_8), RowCodec.TextValues.encode(COLS[1], "é"));
    }

    @Test
    void columnDefinitionFields() {
        // def, app, orders, orders, amount, amount, 0c, charset 63, length 12, NEWDECIMAL, flags 0x1000, decimals 2, filler
        ByteBuf def = packet(2, "03646566 03617070 066f7264657273 066f7264657273 06616d6f756e74 06616d6f756e74 0c 3f00 0c000000 f6 0010 02 0000");
        assertEquals(new ColumnDef(63, 246, 0x1000, 2), ColumnDef.decode(def));
    }
}
