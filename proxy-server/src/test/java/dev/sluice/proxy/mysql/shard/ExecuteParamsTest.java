package dev.sluice.proxy.mysql.shard;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.sluice.core.shard.ValueRef;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import java.math.BigDecimal;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** COM_STMT_EXECUTE parameters: decoded for shard routing, and rebuilt for the scatter rewrite. */
class ExecuteParamsTest {

    // 17, statement 7, flags 0, iterations 1; bitmap 04 (parameter 3 NULL); new-params-bound 1;
    // types LONGLONG, VAR_STRING, LONG; values 5 and "abc"
    static final String EXEC = "17 07000000 00 01000000  04 01  0800 fd00 0300  0500000000000000  03 616263";

    @Test
    void decodesIntegerStringAndNull() {
        ByteBuf exec = RowCodecTest.packet(0, EXEC);
        byte[] types = ExecuteParams.typesIn(exec, 3);
        assertArrayEquals(new byte[] {8, 0, (byte) 0xfd, 0, 3, 0}, types);
        ExecuteParams.Param[] p = ExecuteParams.decode(exec, 3, types, null);
        assertEquals(Arrays.asList(5L, "abc", null), ExecuteParams.values(p));
    }

    @Test
    void decimalDateAndDatetimeAreDecoded_blobsAndLongDataAreOpaque() {
        // types NEWDECIMAL, DATE, DATETIME, BLOB, VAR_STRING (sent as long data: no value here); no NULLs
        String hex = "17 01000000 00 01000000  00 01  f600 0a00 0c00 fc00 fd00"
                + " 04 312e3530  04 e807 0601  07 e807 0601 0a0b0c  02 ffee";
        ByteBuf exec = RowCodecTest.packet(0, hex);
        ExecuteParams.Param[] p = ExecuteParams.decode(exec, 5, ExecuteParams.typesIn(exec, 5), new boolean[] {false, false, false, false, true});
        List<Object> v = ExecuteParams.values(p);
        assertEquals(new BigDecimal("1.50"), v.get(0));
        assertEquals(LocalDate.of(2024, 6, 1), v.get(1));
        assertEquals(LocalDateTime.of(2024, 6, 1, 10, 11, 12), v.get(2));
        assertSame(ValueRef.OPAQUE, v.get(3), "a blob chooses no shard");
        assertSame(ValueRef.OPAQUE, v.get(4), "long data is not in the execute");
    }

    @Test
    void withoutTypesTheStatementsLastOnesAreUsed() {
        // new-params-bound 0: types from the previous execute
        ByteBuf exec = RowCodecTest.packet(0, "17 07000000 00 01000000  00 00  2a00000000000000  01 78");
        assertNull(ExecuteParams.typesIn(exec, 2));
        byte[] last = {8, 0, (byte) 0xfd, 0};
        assertEquals(List.of(42L, "x"), ExecuteParams.values(ExecuteParams.decode(exec, 2, last, null)));
        assertThrows(IllegalArgumentException.class, () -> ExecuteParams.decode(exec, 2, null, null));
        ByteBuf typed = ExecuteParams.withTypes(ByteBufAllocator.DEFAULT, exec.retainedDuplicate(), 2, last);
        assertEquals(ByteBufUtil.hexDump(RowCodecTest.packet(0, "17 07000000 00 01000000  00 01 0800 fd00  2a00000000000000  01 78")),
                ByteBufUtil.hexDump(typed));
    }

    @Test
    void rebuildsWithTheScatterParameterMap() {
        ByteBuf exec = RowCodecTest.packet(0, EXEC);
        ExecuteParams.Param[] p = ExecuteParams.decode(exec, 3, ExecuteParams.typesIn(exec, 3), null);
        // the rewritten statement's parameters: original 2, the row limit, original 3 (NULL), original 1
        ByteBuf out = ExecuteParams.rebuild(ByteBufAllocator.DEFAULT, 99, exec, p, new int[] {2, 0, 3, 1}, 30);
        String want = "17 63000000 00 01000000  04 01  fd00 0800 0300 0800  03 616263  1e00000000000000  0500000000000000";
        assertEquals(ByteBufUtil.hexDump(RowCodecTest.packet(0, want)), ByteBufUtil.hexDump(out));
        ExecuteParams.Param[] q = ExecuteParams.decode(out, 4, ExecuteParams.typesIn(out, 4), null);
        assertEquals(Arrays.asList("abc", 30L, null, 5L), ExecuteParams.values(q));
    }

    @Test
    void truncatedExecuteIsRefused() {
        ByteBuf exec = RowCodecTest.packet(0, "17 07000000 00 01000000  00 01  0800");
        assertThrows(IllegalArgumentException.class, () -> ExecuteParams.typesIn(exec, 2));
    }
}
