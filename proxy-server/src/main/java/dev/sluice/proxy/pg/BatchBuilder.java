package dev.sluice.proxy.pg;

import dev.sluice.core.route.Router;
import dev.sluice.core.sql.Classification;
import dev.sluice.core.sql.StatementKind;
import io.netty.buffer.ByteBuf;
import java.util.Map;

/**
 * Collects one client's messages into {@link Batch}es and works out, message by message, which statements
 * each batch will run: a Query's text, or Execute → portal → Bind → statement → Parse text (from this batch
 * or an earlier one). A batch is complete at Sync, Query or FunctionCall (the server answers with
 * ReadyForQuery), or at Flush / 1 MiB (sent on, the cycle continuing on the same backend).
 */
final class BatchBuilder {
    private static final int SPLIT_BYTES = 1 << 20;

    /** A message type the protocol does not have (or not from a client). */
    static final class UnknownMessage extends IllegalArgumentException {
        UnknownMessage(byte t) {
            super("unknown message type '" + (char) t + "' (0x" + Integer.toHexString(t & 0xff) + ")");
        }
    }

    private final Router router;
    private final PreparedStatements statements;
    private final Map<String, String> portals;
    private Batch building = new Batch();

    BatchBuilder(Router router, PreparedStatements statements, Map<String, String> portals) {
        this.router = router;
        this.statements = statements;
        this.portals = portals;
    }

    /**
     * Adds a frame (owned by the batch from now on, unless this throws); returns the batch when it is
     * complete, else null. Throws on unknown or malformed messages.
     */
    Batch accept(ByteBuf frame, byte t) {
        switch (t) {
            case 'Q' -> {
                Messages.Query q = Messages.Query.decode(frame);
                building.add(frame, q);
                statement(q.sql());
            }
            case 'P' -> {
                Messages.Parse p = Messages.Parse.decode(frame);
                building.add(frame, p);
                building.parsed(p.name(), p.sql());
            }
            case 'B' -> {
                Messages.Bind b = Messages.Bind.decode(frame);
                building.add(frame, b);
                String sql = building.parsedSql(b.statement());
                building.bound(b.portal(), sql != null ? sql : statements.sql(b.statement()));
            }
            case 'E' -> {
                Messages.Execute e = Messages.Execute.decode(frame);
                building.add(frame, e);
                String sql = building.boundSql(e.portal());
                sql = sql != null ? sql : portals.get(e.portal());
                if (sql != null) {
                    statement(sql);
                } else {
                    // a portal the proxy never saw bound: only the primary can give the right answer (or error)
                    building.statements.add(Classification.of(StatementKind.UNPARSED, "unknown-portal"));
                    building.texts.add(null);
                }
            }
            case 'D', 'C' -> building.add(frame, Messages.Target.decode(frame));
            case 'S', 'H' -> building.add(frame, null);
            case 'F' -> {
                building.add(frame, null);
                building.statements.add(Classification.of(StatementKind.WRITE, "function-call"));
                building.texts.add(null);
            }
            default -> throw new UnknownMessage(t);
        }
        if (t == 'Q' || t == 'S' || t == 'F') {
            building.endsCycle = true;
            return take();
        }
        if (t == 'H' || building.bytes > SPLIT_BYTES) {
            return take(); // Flush (or a huge batch): send what we have; the cycle stays on that backend until Sync
        }
        return null;
    }

    private void statement(String sql) {
        building.statements.add(router.classify(sql));
        building.texts.add(sql);
    }

    private Batch take() {
        Batch b = building;
        building = new Batch();
        return b;
    }

    void release() {
        building.release();
    }
}
