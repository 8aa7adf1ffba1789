package dev.sluice.proxy.mysql;

import dev.sluice.core.route.RouteDecision;
import dev.sluice.core.route.Router;
import dev.sluice.core.route.Session;
import dev.sluice.core.sql.Classification;
import dev.sluice.core.sql.StatementKind;
import io.netty.buffer.ByteBuf;

/**
 * The prepared-statement commands of one client session (COM_STMT_PREPARE / EXECUTE / SEND_LONG_DATA / CLOSE /
 * RESET / FETCH): the client sees the proxy's statement ids ({@link MyStatements}); an execute is routed like
 * the statement's text and, on a connection that has not prepared it yet, prepared there first.
 */
final class MyPrepared {
    private final MySession s;
    private final MyCommands commands;
    private final Router router;
    private final Session session;
    private final MyStatements statements;
    private final MyReplyCache replies;

    MyPrepared(MySession s, MyCommands commands, Router router, Session session, MyStatements statements, MyReplyCache replies) {
        this.s = s;
        this.commands = commands;
        this.router = router;
        this.session = session;
        this.statements = statements;
        this.replies = replies;
    }

    void prepare(ByteBuf cmd) {
        String sql = My.text(cmd);
        Classification c = router.classify(sql);
        int id = statements.newId();
        // prepared where it will likely run first: a read where reads go (outside transactions), else where the session is
        java.util.function.Supplier<RouteDecision> where = () -> {
            if (c.kind() == StatementKind.READ && !session.inTransaction() && session.pinnedBy() == null) {
                return session.route(c);
            }
            return new RouteDecision(commands.anchor(), false, "prepare", c);
        };
        commands.route(where, sql, cmd, d -> new MyCommands.Running() {
            @Override
            public boolean startsCycle() {
                return false;
            }

            @Override
            public void onPacket(ByteBuf frame) {
                if (My.first(frame) == 0x00 && My.payloadLength(frame) >= 12 && My.seq(frame) == 1) {
                    MyStatements.withId(frame, id); // the client sees the proxy's id, whichever node prepared it
                }
            }

            @Override
            public void done(MyBackend be, ReplyTracker.Outcome o) {
                if (o.error() == null) {
                    statements.add(id, sql, c, o.numParams(), o.numColumns());
                    be.statements.put(id, o.stmtId());
                }
            }
        });
    }

    void execute(ByteBuf cmd) {
        MyStatements.Stmt st = statements.of(cmd);
        if (st == null) {
            long id = MyStatements.idIn(cmd);
            cmd.release();
            s.error(1, My.ER_UNKNOWN_STMT, "HY000", "Unknown prepared statement handler (" + id + ") given to mysqld_stmt_execute");
            return;
        }
        boolean newTypes;
        try {
            newTypes = MyStatements.readTypes(st, cmd) > 0;
        } catch (IllegalArgumentException e) {
            cmd.release();
            throw e;
        }
        if (newTypes) {
            for (MyBackend be : s.held().values()) {
                be.typesSent.remove(st.id); // new types: every other connection must be sent them with its next execute
            }
        }
        if (replies.serve(cmd, st.sql, st.classification, st)) {
            return;
        }
        commands.route(st.classification, st.sql, cmd, d -> replies.track(new MyCommands.Running() {
            @Override
            public void done(MyBackend be, ReplyTracker.Outcome o) {
                st.lastOn = be;
                replies.ranExecute(d, st.sql);
                commands.finished(be, o, d, null);
            }
        }));
    }

    /** Runs an execute on {@code be}, first preparing its statement there if this connection has not yet. */
    void send(MyBackend be, ByteBuf cmd, MyCommands.Running r) {
        MyStatements.Stmt st = statements.of(cmd);
        if (be.statements.containsKey(st.id)) {
            sendExecute(be, st, cmd, r);
            return;
        }
        // first execute on this connection: prepare the text here; the execute needs the id the node gives it
        s.setBusy(true);
        be.send(My.command(be.channel().alloc(), My.COM_STMT_PREPARE, st.sql), ReplyTracker.Kind.PREPARE, true, t -> {
            ReplyTracker.Outcome o = t.outcome();
            s.onLoop(() -> {
                s.setBusy(false);
                if (s.closed()) {
                    cmd.release();
                } else if (o.error() != null) {
                    cmd.release();
                    s.error(1, o.error().code(), o.error().sqlState(), o.error().message());
                } else {
                    be.statements.put(st.id, o.stmtId());
                    sendExecute(be, st, cmd, r);
                }
                s.drain();
            });
        });
        be.channel().flush();
    }

    private void sendExecute(MyBackend be, MyStatements.Stmt st, ByteBuf cmd, MyCommands.Running r) {
        long bid = be.statements.get(st.id);
        if (!st.longData.isEmpty()) {
            for (ByteBuf ld : st.longData) {
                be.send(MyStatements.withId(ld, bid), null, true, null); // no reply, by the protocol
            }
            st.longData.clear();
            st.longDataBytes = 0;
        }
        MyStatements.withId(cmd, bid);
        if (st.numParams > 0 && !be.typesSent.contains(st.id)) {
            if (!MyStatements.carriesTypes(st, cmd) && st.types != null) {
                cmd = MyStatements.addTypes(be.channel().alloc(), st, cmd);
            }
            be.typesSent.add(st.id);
        }
        s.run(be, cmd, ReplyTracker.Kind.RESULT, r);
    }

    /** COM_STMT_SEND_LONG_DATA: kept until the execute (only then is the node known); it has no reply. */
    void longData(ByteBuf cmd) {
        MyStatements.Stmt st = statements.of(cmd);
        if (st == null) {
            cmd.release(); // no reply to this command, by the protocol; the execute will report the unknown id
        } else if (statements.longDataBytes() + cmd.readableBytes() > s.proxy().maxMessageBytes()) {
            // held to the limit, as one message would be
            cmd.release();
            s.protocolError(My.ER_NET_PACKET_TOO_LARGE, "long data of prepared statements over max-message-bytes "
                    + s.proxy().maxMessageBytes() + " (COM_STMT_SEND_LONG_DATA)");
        } else {
            st.longDataBytes += cmd.readableBytes();
            st.longData.add(cmd);
        }
    }

    /** COM_STMT_CLOSE: closed on every connection that prepared it; no reply, by the protocol. */
    void close(ByteBuf cmd) {
        MyStatements.Stmt st = statements.of(cmd);
        cmd.release();
        if (st == null) {
            return;
        }
        statements.remove(st.id);
        for (MyBackend be : s.held().values()) {
            Long bid = be.statements.remove(st.id);
            be.typesSent.remove(st.id);
            if (bid != null && be.usable()) {
                ByteBuf close = My.seal(My.start(be.channel().alloc(), 0).writeByte(My.COM_STMT_CLOSE).writeIntLE(bid.intValue()));
                be.send(close, null, true, null); // no reply
                be.channel().flush();
            }
        }
    }

    /** COM_STMT_RESET / COM_STMT_FETCH: to the connection the statement last ran on (its cursor lives there). */
    void onStatementBackend(ByteBuf cmd, int c) {
        MyStatements.Stmt st = statements.of(cmd);
        if (c == My.COM_STMT_RESET && st != null) {
            st.releaseLongData();
        }
        MyBackend be = st == null ? null : st.lastOn;
        if (be == null || !be.usable() || s.held().get(be.node) != be || !be.statements.containsKey(st.id)) {
            long id = MyStatements.idIn(cmd);
            cmd.release();
            if (st == null) {
                s.error(1, My.ER_UNKNOWN_STMT, "HY000", "Unknown prepared statement handler (" + id + ")");
            } else if (c == My.COM_STMT_RESET) {
                s.ok(1); // nothing ran anywhere yet: nothing to reset but the long data
            } else {
                s.error(1, 1421, "HY000", "The statement (" + st.id + ") has no open cursor");
            }
            return;
        }
        MyStatements.withId(cmd, be.statements.get(st.id));
        s.run(be, cmd, c == My.COM_STMT_FETCH ? ReplyTracker.Kind.FETCH : ReplyTracker.Kind.SIMPLE, new MyCommands.Running() {
            @Override
            public void done(MyBackend b, ReplyTracker.Outcome o) {
                commands.status(b, o);
            }
        });
    }
}
