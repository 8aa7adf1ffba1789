package dev.sluice.proxy.pg;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * Which client batches a {@link ReadLane} can run, and the messages it sends in their place (statements under the
 * lane's names, a simple Query as extended-protocol messages). Kept apart from the lane, whose concern is the order of
 * what is in flight.
 */
final class LaneMessages {
    private LaneMessages() {
    }

    /**
     * A batch a read lane can run (see ReadLane's comment). {@code defs}: the session's prepared statements
     * (a Bind or Describe of a named statement the proxy never saw prepared cannot be rewritten).
     */
    static boolean fits(Batch b, PreparedStatements defs) {
        if (!b.endsCycle || !b.onlyReads() || b.laneSkips >= 2) {
            return false;
        }
        for (String sql : b.texts) {
            if (sql == null || sql.indexOf('(') >= 0 && containsIgnoreCase(sql, "set_config")) {
                return false; // set_config(…, false) changes the session: it must not land on a shared connection
            }
        }
        if (b.bytes >= dev.sluice.proxy.net.WriteCoalescer.MAX_BYTES) {
            return false; // big messages would be written at once, ahead of the statements a group needs (see ReadLane#send)
        }
        boolean unnamedParsed = false;
        boolean bound = false; // the unnamed portal, bound in this batch (a named one would outlive the cycle: see the class comment)
        List<Object> recs = b.decoded;
        for (int i = 0; i < recs.size(); i++) {
            ByteBuf m = b.messages.get(i);
            byte t = m.getByte(m.readerIndex());
            Object r = recs.get(i);
            switch (t) {
                case 'Q' -> {
                    if (!oneStatement(((Messages.Query) r).sql())) {
                        return false; // several statements cannot be sent as one Parse
                    }
                }
                case 'S' -> {
                    if (i != recs.size() - 1) {
                        return false;
                    }
                }
                case 'P' -> {
                    if (!((Messages.Parse) r).name().isEmpty()) {
                        return false; // created on the session's own connection (then bound here under the lane's name)
                    }
                    unnamedParsed = true;
                }
                case 'B' -> {
                    Messages.Bind bd = (Messages.Bind) r;
                    if (!bd.portal().isEmpty() || !known(bd.statement(), unnamedParsed, defs)) {
                        return false;
                    }
                    bound = true;
                }
                case 'D' -> {
                    Messages.Target tg = (Messages.Target) r;
                    if (tg.kind() == 'S' ? !known(tg.name(), unnamedParsed, defs) : !bound || !tg.name().isEmpty()) {
                        return false;
                    }
                }
                case 'E' -> {
                    if (!bound || !((Messages.Execute) r).portal().isEmpty()) {
                        return false;
                    }
                }
                default -> {
                    return false; // Close, Flush, FunctionCall …
                }
            }
        }
        return true;
    }

    private static boolean known(String statement, boolean unnamedParsed, PreparedStatements defs) {
        return statement.isEmpty() ? unnamedParsed : defs.def(statement) != null;
    }

    /** The named statement a Bind or a statement Describe uses, or null (unnamed, or another message). */
    static String namedStatement(Object r) {
        String name = r instanceof Messages.Bind bd ? bd.statement()
                : r instanceof Messages.Target tg && tg.kind() == 'S' ? tg.name() : null;
        return name == null || name.isEmpty() ? null : name;
    }

    /** Bind (unnamed portal and statement, no parameters, text results), Describe portal, Execute all rows. */
    static final byte[] SIMPLE_TAIL = {
        'B', 0, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0,
        'D', 0, 0, 0, 6, 'P', 0,
        'E', 0, 0, 0, 9, 0, 0, 0, 0, 0,
    };
    static final byte[] SYNC = {'S', 0, 0, 0, 4};

    /** Whether {@code sql} is one statement (a semicolon only at its end). */
    static boolean oneStatement(String sql) {
        int semi = sql.indexOf(';');
        if (semi < 0) {
            return true;
        }
        for (int i = semi; i < sql.length(); i++) {
            char c = sql.charAt(i);
            if (c != ';' && !Character.isWhitespace(c)) {
                return false;
            }
        }
        return true;
    }

    /** The lane's name for a client's statement: same text and parameter types, same name. */
    static String laneName(Messages.Parse def) {
        return "sluice_" + Integer.toHexString(def.sql().hashCode()) + "_" + Integer.toHexString(Arrays.hashCode(def.paramTypes()));
    }

    /** Bind {@code m} with its statement name replaced by {@code name} (the rest copied as it is). Releases {@code m}. */
    static ByteBuf renameBind(ByteBufAllocator alloc, ByteBuf m, String name) {
        int start = m.readerIndex();
        int portalEnd = m.indexOf(start + 5, m.writerIndex(), (byte) 0);
        int stmtEnd = m.indexOf(portalEnd + 1, m.writerIndex(), (byte) 0);
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        int bodyLen = (portalEnd + 1 - (start + 5)) + n.length + 1 + (m.writerIndex() - stmtEnd - 1);
        ByteBuf b = alloc.buffer(5 + bodyLen);
        b.writeByte('B').writeInt(4 + bodyLen);
        b.writeBytes(m, start + 5, portalEnd + 1 - (start + 5));
        b.writeBytes(n).writeByte(0);
        b.writeBytes(m, stmtEnd + 1, m.writerIndex() - stmtEnd - 1);
        m.release();
        return b;
    }

    static ByteBuf describeStatement(ByteBufAllocator alloc, String name) {
        ByteBuf b = alloc.buffer(8 + name.length());
        int at = Pg.begin(b, 'D');
        b.writeByte('S');
        Pg.writeCString(b, name);
        return Pg.end(b, at);
    }

    private static boolean containsIgnoreCase(String s, String lower) {
        int n = lower.length();
        for (int i = 0; i + n <= s.length(); i++) {
            if (s.regionMatches(true, i, lower, 0, n)) {
                return true;
            }
        }
        return false;
    }
}
