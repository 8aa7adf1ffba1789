package dev.sluice.proxy.pg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.core.sql.Classification;
import dev.sluice.core.sql.StatementKind;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which batches a read lane takes, and the messages it writes in their place (no server: the bytes themselves). */
class LaneMessagesTest {
    static final ByteBufAllocator A = ByteBufAllocator.DEFAULT;

    static ByteBuf bind(String portal, String statement, int param) {
        ByteBuf b = Unpooled.buffer();
        int at = Pg.begin(b, 'B');
        Pg.writeCString(b, portal);
        Pg.writeCString(b, statement);
        b.writeShort(0).writeShort(1).writeInt(4).writeInt(param).writeShort(0);
        return Pg.end(b, at);
    }

    static ByteBuf execute(String portal) {
        ByteBuf b = Unpooled.buffer();
        int at = Pg.begin(b, 'E');
        Pg.writeCString(b, portal);
        b.writeInt(0);
        return Pg.end(b, at);
    }

    static ByteBuf describe(char kind, String name) {
        ByteBuf b = Unpooled.buffer();
        int at = Pg.begin(b, 'D');
        b.writeByte(kind);
        Pg.writeCString(b, name);
        return Pg.end(b, at);
    }

    static ByteBuf sync() {
        return Unpooled.wrappedBuffer(new byte[] {'S', 0, 0, 0, 4});
    }

    /** A complete batch of {@code frames}, each decoded as BatchBuilder does, running reads of {@code sql}. */
    static Batch batch(StatementKind kind, String sql, ByteBuf... frames) {
        Batch b = new Batch();
        for (ByteBuf f : frames) {
            byte t = f.getByte(0);
            Object rec = switch (t) {
                case 'Q' -> Messages.Query.decode(f);
                case 'P' -> Messages.Parse.decode(f);
                case 'B' -> Messages.Bind.decode(f);
                case 'E' -> Messages.Execute.decode(f);
                case 'D', 'C' -> Messages.Target.decode(f);
                default -> null;
            };
            b.add(f, rec);
        }
        b.statements.add(Classification.of(kind, "test"));
        b.texts.add(sql);
        b.endsCycle = true;
        return b;
    }

    static final String POINT = "SELECT v FROM t WHERE id = $1";

    @Test
    void simpleQueriesOfOneReadFit() {
        PreparedStatements defs = new PreparedStatements();
        assertTrue(LaneMessages.fits(batch(StatementKind.READ, "SELECT 1", Pg.query(A, "SELECT 1")), defs));
        assertTrue(LaneMessages.fits(batch(StatementKind.READ, "SELECT 1 ;  ", Pg.query(A, "SELECT 1 ;  ")), defs));
        assertFalse(LaneMessages.fits(batch(StatementKind.READ, "SELECT 1; SELECT 2", Pg.query(A, "SELECT 1; SELECT 2")), defs),
                "two statements cannot be one Parse");
        assertFalse(LaneMessages.fits(batch(StatementKind.WRITE, "DELETE FROM t", Pg.query(A, "DELETE FROM t")), defs), "writes stay off lanes");
        String setConfig = "SELECT Set_Config('search_path', 'x', false)";
        assertFalse(LaneMessages.fits(batch(StatementKind.READ, setConfig, Pg.query(A, setConfig)), defs), "set_config changes the session");
    }

    @Test
    void extendedCyclesFitOnlyWithTheUnnamedPortalAndKnownStatements() {
        PreparedStatements defs = new PreparedStatements();
        assertTrue(LaneMessages.fits(batch(StatementKind.READ, POINT,
                Pg.parse(A, "", POINT, new int[0]), bind("", "", 7), describe('P', ""), execute(""), sync()), defs));
        assertFalse(LaneMessages.fits(batch(StatementKind.READ, POINT,
                Pg.parse(A, "S_1", POINT, new int[0]), bind("", "S_1", 7), execute(""), sync()), defs),
                "a named Parse runs on the session's own connection");
        assertFalse(LaneMessages.fits(batch(StatementKind.READ, POINT, bind("", "S_1", 7), execute(""), sync()), defs),
                "a statement the proxy never saw prepared");
        defs.defined(Messages.Parse.decode(Pg.parse(A, "S_1", POINT, new int[0])));
        assertTrue(LaneMessages.fits(batch(StatementKind.READ, POINT, bind("", "S_1", 7), describe('S', "S_1"), execute(""), sync()), defs));
        assertFalse(LaneMessages.fits(batch(StatementKind.READ, POINT, bind("C_1", "S_1", 7), execute("C_1"), sync()), defs),
                "a named portal outlives the cycle in the group's transaction");
        assertFalse(LaneMessages.fits(batch(StatementKind.READ, POINT, bind("", "", 7), execute(""), sync()), defs),
                "the unnamed statement of an earlier cycle is not on the lane");
        Batch skipped = batch(StatementKind.READ, POINT, bind("", "S_1", 7), execute(""), sync());
        skipped.laneSkips = 2;
        assertFalse(LaneMessages.fits(skipped, defs), "skipped twice: the session's own connection");
        Batch open = batch(StatementKind.READ, POINT, bind("", "S_1", 7), execute(""));
        open.endsCycle = false;
        assertFalse(LaneMessages.fits(open, defs), "a cycle that goes on (Flush) needs its connection");
        String big = "SELECT '" + "x".repeat(9000) + "'";
        assertFalse(LaneMessages.fits(batch(StatementKind.READ, big, Pg.query(A, big)), defs), "8 KiB and more: not gathered");
    }

    @Test
    void aBindIsRenamedWithEverythingElseKept() {
        ByteBuf original = bind("", "S_1", 42);
        byte[] params = ByteBufUtil.getBytes(original, 1 + 4 + 1 + 4, original.readableBytes() - 10);
        ByteBuf renamed = LaneMessages.renameBind(A, original.retainedDuplicate(), "sluice_abc_1");
        Messages.Bind b = Messages.Bind.decode(renamed);
        assertEquals("", b.portal());
        assertEquals("sluice_abc_1", b.statement());
        assertEquals(renamed.readableBytes() - 1, renamed.getInt(1), "length field");
        assertArrayEquals(params, ByteBufUtil.getBytes(renamed, renamed.readableBytes() - params.length, params.length), "formats and values");
        renamed.release();
        original.release();
    }

    @Test
    void aSimpleQueryBecomesParseBindDescribeExecuteAndOneSyncClosesTheGroup() {
        // the bytes a lane writes for one simple query and the group's Sync, cut into messages as a server would
        ByteBuf wire = Unpooled.buffer();
        wire.writeBytes(Pg.parse(A, "", "SELECT 1", new int[0]));
        wire.writeBytes(LaneMessages.SIMPLE_TAIL);
        wire.writeBytes(LaneMessages.SYNC);
        EmbeddedChannel ch = new EmbeddedChannel(new PgFrameDecoder(1 << 20, false));
        ch.writeInbound(wire);
        List<Character> types = new ArrayList<>();
        ByteBuf m;
        while ((m = ch.readInbound()) != null) {
            char t = (char) m.getByte(0);
            types.add(t);
            switch (t) {
                case 'B' -> assertEquals(new Messages.Bind("", ""), Messages.Bind.decode(m));
                case 'D' -> assertEquals(new Messages.Target('P', ""), Messages.Target.decode(m));
                case 'E' -> assertEquals(new Messages.Execute(""), Messages.Execute.decode(m));
                default -> { }
            }
            m.release();
        }
        assertEquals(List.of('P', 'B', 'D', 'E', 'S'), types);
        assertTrue(LaneMessages.oneStatement("SELECT 1"));
        assertFalse(LaneMessages.oneStatement("SELECT ';' "), "a semicolon inside: not sure, so not one");
    }
}
