package dev.sluice.proxy.pg;

import dev.sluice.core.sql.Classification;
import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Client messages that go to one backend together: everything up to a Sync, a simple Query or a Flush.
 * While collecting them it works out which statements will run (Execute → portal → statement → text), so
 * the whole batch is routed once, before any of it is sent.
 */
final class Batch {
    final List<ByteBuf> messages = new ArrayList<>(6);
    final List<Object> decoded = new ArrayList<>(6); // per message: its record, or null when not looked inside
    final List<Classification> statements = new ArrayList<>(2);
    final List<String> texts = new ArrayList<>(2);
    boolean endsCycle;
    boolean retried;
    int laneSkips; // times a read lane skipped it (another read sent with it failed): after two it runs on the session's own connection
    String failedOn; // a read that could not get a connection on this node (routed elsewhere on its retry)
    int bytes;
    private Map<String, String> parsedHere;
    private Map<String, String> boundHere;

    void add(ByteBuf frame, Object record) {
        messages.add(frame);
        decoded.add(record);
        bytes += frame.readableBytes();
    }

    /** Remembers what a Parse or Bind in this batch defines, for an Execute later in it. */
    void parsed(String statement, String sql) {
        if (parsedHere == null) {
            parsedHere = new HashMap<>(4);
        }
        parsedHere.put(statement, sql);
    }

    void bound(String portal, String sql) {
        if (boundHere == null) {
            boundHere = new HashMap<>(4);
        }
        boundHere.put(portal, sql);
    }

    /** The text of the first Parse in this batch, or null. */
    String firstParsedSql() {
        for (Object o : decoded) {
            if (o instanceof Messages.Parse p) {
                return p.sql();
            }
        }
        return null;
    }

    String parsedSql(String statement) {
        return parsedHere == null ? null : parsedHere.get(statement);
    }

    String boundSql(String portal) {
        return boundHere == null ? null : boundHere.get(portal);
    }

    boolean onlyReads() {
        for (Classification c : statements) {
            if (c.kind() != dev.sluice.core.sql.StatementKind.READ) {
                return false;
            }
        }
        return !statements.isEmpty();
    }

    /**
     * A copy to send again elsewhere (marked retried): the messages are retained duplicates, so sending this
     * batch (which releases its messages) leaves the copy intact. Release the copy when it is not needed.
     */
    Batch copyForRetry() {
        Batch c = new Batch();
        for (int i = 0; i < messages.size(); i++) {
            c.add(messages.get(i).retainedDuplicate(), decoded.get(i));
        }
        c.statements.addAll(statements);
        c.texts.addAll(texts);
        c.endsCycle = endsCycle;
        c.retried = true;
        c.laneSkips = laneSkips;
        c.parsedHere = parsedHere;
        c.boundHere = boundHere;
        return c;
    }

    void release() {
        messages.forEach(ReferenceCountUtil::release);
        messages.clear();
        decoded.clear();
    }
}
