package dev.sluice.proxy.mysql;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.core.sql.Classification;
import dev.sluice.core.sql.StatementKind;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

/** The shortcuts taken for every statement: they must decide exactly what the slow paths they skip would. */
class MyHotPathTest {

    @Test
    void killPrefilterLetsThroughEveryTextTheKillPatternCouldMatch() {
        for (String kill : new String[] {"KILL 5", "kill query 7", "  \t\n\r\f\u000BKiLl CONNECTION 3", "KILL HARD QUERY ID 9;"}) {
            assertTrue(MyCommands.mayBeKill(kill), kill);
        }
        for (String other : new String[] {"SELECT c FROM sbtest1 WHERE id=5", "", "   ", "KIL", "/* x */ KILL 5", "SKILL 5"}) {
            assertFalse(MyCommands.mayBeKill(other), other);
        }
    }

    /** An execute of a 2-parameter statement: header, command, id, flags, iterations, NULL bitmap, bound flag, types, values. */
    private static ByteBuf execute(boolean withTypes, byte type1, byte type2) {
        ByteBuf b = Unpooled.buffer();
        b.writeMediumLE(0).writeByte(0).writeByte(My.COM_STMT_EXECUTE).writeIntLE(1).writeByte(0).writeIntLE(1).writeByte(0);
        b.writeByte(withTypes ? 1 : 0);
        if (withTypes) {
            b.writeByte(type1).writeByte(0).writeByte(type2).writeByte(0);
        }
        b.writeIntLE(42).writeLongLE(43);
        return My.seal(b);
    }

    @Test
    void typesSentWithEveryExecuteAreNewOnlyWhenTheyChange() {
        MyStatements.Stmt st = new MyStatements.Stmt(1, "SELECT ? + ?", Classification.of(StatementKind.READ, "select"), 2, 1);
        assertEquals(1, MyStatements.readTypes(st, execute(true, (byte) 3, (byte) 8)), "first types seen");
        byte[] first = st.types;
        assertArrayEquals(new byte[] {3, 0, 8, 0}, first);
        assertEquals(0, MyStatements.readTypes(st, execute(true, (byte) 3, (byte) 8)), "the same types again");
        assertSame(first, st.types, "unchanged types are not copied again");
        assertEquals(-1, MyStatements.readTypes(st, execute(false, (byte) 0, (byte) 0)), "no types sent");
        assertTrue(MyStatements.carriesTypes(st, execute(true, (byte) 3, (byte) 8)));
        assertFalse(MyStatements.carriesTypes(st, execute(false, (byte) 0, (byte) 0)));
        assertEquals(1, MyStatements.readTypes(st, execute(true, (byte) 3, (byte) 253)), "a parameter changed type");
        assertNotSame(first, st.types);
        assertArrayEquals(new byte[] {3, 0, (byte) 253, 0}, st.types);
    }

    @Test
    void relayedCommandsShareTheirPendingEntryOthersGetTheirOwn() {
        assertSame(MyBackend.Pending.of(ReplyTracker.Kind.RESULT, false, null), MyBackend.Pending.of(ReplyTracker.Kind.RESULT, false, null));
        MyBackend.Pending p = MyBackend.Pending.of(ReplyTracker.Kind.SIMPLE, false, null);
        assertEquals(ReplyTracker.Kind.SIMPLE, p.kind());
        assertFalse(p.silent());
        MyBackend.Pending silent = MyBackend.Pending.of(ReplyTracker.Kind.RESULT, true, null);
        assertTrue(silent.silent());
        assertNotSame(silent, MyBackend.Pending.of(ReplyTracker.Kind.RESULT, true, null));
    }
}
