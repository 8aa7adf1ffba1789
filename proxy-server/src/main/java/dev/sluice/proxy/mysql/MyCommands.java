package dev.sluice.proxy.mysql;

import dev.sluice.core.route.NoRouteException;
import dev.sluice.core.route.RouteDecision;
import dev.sluice.core.route.Router;
import dev.sluice.core.route.Session;
import dev.sluice.core.sql.Classification;
import dev.sluice.core.sql.StatementKind;
import io.netty.buffer.ByteBuf;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What each client command does: where it goes, what is rewritten on the way (statement ids), and what the
 * session learns when its reply ends (transaction state from the status flags, session state to replay).
 */
final class MyCommands {
    private static final Logger log = LoggerFactory.getLogger(MyCommands.class);
    private static final Pattern KILL = Pattern.compile("(?is)\\s*KILL\\s+(?:(?:HARD|SOFT)\\s+)?(QUERY\\s+(?:ID\\s+)?|CONNECTION\\s+)?(\\d+)\\s*;?\\s*");
    /** Session-wide read-only switches (what MariaDB Connector/J's and Connector/J's setReadOnly send). */
    private static final Pattern READ_ONLY = Pattern.compile(
            "(?is)\\s*SET\\s+(?:SESSION\\s+TRANSACTION\\s+(?:ISOLATION\\s+LEVEL\\s+[A-Z ]+?\\s*,\\s*)?READ\\s+(ONLY|WRITE)"
                    + "|(?:@@)?SESSION\\.?\\s*(?:tx|transaction)_read_only\\s*=\\s*(1|0|ON|OFF|TRUE|FALSE))\\s*;?\\s*");
    private static final Pattern USE = Pattern.compile("(?is)\\s*USE\\s+`?([^`;\\s]+)`?\\s*;?\\s*");

    /** A command in flight: relayed packets pass {@link #onPacket}; {@link #done} runs when the reply ends. */
    interface Running {
        default boolean startsCycle() {
            return true;
        }

        default void onPacket(ByteBuf frame) {
        }

        void done(MyBackend be, ReplyTracker.Outcome o);
    }

    private final MySession s;
    private final Router router;
    private final Session session;
    private final MyStatements statements;
    private final MyState state;
    private final MyReplyCache replies;
    private final MyPrepared prepared;
    final MyChangeUser changeUser;

    MyCommands(MySession s, Router router, Session session, MyStatements statements, MyState state) {
        this.s = s;
        this.router = router;
        this.session = session;
        this.statements = statements;
        this.state = state;
        this.changeUser = new MyChangeUser(s, this, state);
        this.replies = new MyReplyCache(router, session, s, state);
        this.prepared = new MyPrepared(s, this, router, session, statements, replies);
    }

    void handle(ByteBuf cmd) {
        int c = My.first(cmd);
        try {
            checkLength(c, cmd);
        } catch (IllegalArgumentException e) {
            cmd.release();
            throw e;
        }
        switch (c) {
            case My.COM_QUIT -> {
                cmd.release();
                s.client().close();
            }
            case My.COM_PING -> {
                cmd.release();
                s.ok(1);
            }
            case My.COM_QUERY -> query(cmd);
            case My.COM_INIT_DB -> {
                String db = My.text(cmd);
                onAnchor(cmd, ReplyTracker.Kind.SIMPLE, (be, o) -> {
                    if (o.error() == null) {
                        changedDatabase(be, db);
                    }
                });
            }
            case My.COM_STMT_PREPARE -> prepared.prepare(cmd);
            case My.COM_STMT_EXECUTE -> prepared.execute(cmd);
            case My.COM_STMT_SEND_LONG_DATA -> prepared.longData(cmd);
            case My.COM_STMT_CLOSE -> prepared.close(cmd);
            case My.COM_STMT_RESET, My.COM_STMT_FETCH -> prepared.onStatementBackend(cmd, c);
            case My.COM_RESET_CONNECTION -> {
                cmd.release();
                resetSession();
                s.ok(1);
            }
            case My.COM_SET_OPTION -> {
                int option = cmd.getUnsignedShortLE(cmd.readerIndex() + 5);
                onAnchor(cmd, ReplyTracker.Kind.SIMPLE, (be, o) -> {
                    if (o.error() == null) {
                        state.option = option;
                        replayOnOthers(be, b -> My.seal(My.start(b.channel().alloc(), 0).writeByte(My.COM_SET_OPTION).writeShortLE(option)));
                    }
                });
            }
            case My.COM_FIELD_LIST -> onAnchor(cmd, ReplyTracker.Kind.FIELD_LIST, (be, o) -> { });
            case My.COM_STATISTICS -> onAnchor(cmd, ReplyTracker.Kind.RAW_ONE, (be, o) -> { });
            case My.COM_PROCESS_KILL -> {
                int id = cmd.getIntLE(cmd.readerIndex() + 5);
                cmd.release();
                kill(id, false);
            }
            case My.COM_CHANGE_USER -> changeUser.start(cmd);
            default -> {
                cmd.release();
                s.error(1, My.ER_UNKNOWN_COM, "08S01", "Unknown command 0x" + Integer.toHexString(c) + " (not relayed by the Sluice proxy)");
            }
        }
    }

    /**
     * The fixed fields a command's handling reads are there (a statement id or thread id: 4 bytes, an option: 2):
     * a truncated command is a protocol error that says so, not an index out of bounds.
     */
    static void checkLength(int command, ByteBuf cmd) {
        int need = switch (command) {
            case My.COM_STMT_EXECUTE, My.COM_STMT_SEND_LONG_DATA, My.COM_STMT_CLOSE, My.COM_STMT_RESET, My.COM_STMT_FETCH,
                 My.COM_PROCESS_KILL -> 5;
            case My.COM_SET_OPTION -> 3;
            default -> 0;
        };
        if (My.payloadLength(cmd) < need) {
            throw new IllegalArgumentException("command 0x" + Integer.toHexString(command) + " of " + My.payloadLength(cmd)
                    + " bytes (at least " + need + " expected)");
        }
    }

    // ---- COM_QUERY ----

    private void query(ByteBuf cmd) {
        String sql = My.text(cmd);
        if (mayBeKill(sql)) {
            Matcher k = KILL.matcher(sql);
            if (k.matches()) {
                cmd.release();
                java.math.BigInteger id = new java.math.BigInteger(k.group(2));
                if (id.bitLength() > 31) {
                    // no connection has such an id (they are positive ints); was: NumberFormatException, the client cut off
                    s.error(1, My.ER_NO_SUCH_THREAD, "HY000", "Unknown thread id: " + k.group(2));
                    return;
                }
                kill(id.intValue(), k.group(1) != null && k.group(1).toUpperCase(java.util.Locale.ROOT).startsWith("QUERY"));
                return;
            }
        }
        Classification c = router.classify(sql); // once: for the read cache and for routing
        if (replies.enabled() && replies.serve(cmd, sql, c, null)) {
            return; // answered from the read cache
        }
        route(c, sql, cmd, d -> replies.track(new Running() {
            @Override
            public void done(MyBackend be, ReplyTracker.Outcome o) {
                replies.ran(d.classification(), sql);
                finished(be, o, d, sql);
            }
        }));
    }

    /**
     * Whether the text starts with KILL after the whitespace {@link #KILL} allows: a look at a few characters,
     * so the regex only runs for what may be one (every statement passes here).
     */
    static boolean mayBeKill(String sql) {
        int i = 0;
        int n = sql.length();
        while (i < n) {
            char ch = sql.charAt(i);
            if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r' && ch != '\f' && ch != 0x0B) {
                break;
            }
            i++;
        }
        return sql.regionMatches(true, i, "KILL", 0, 4);
    }

    /** Routes a statement of classification {@code c} (as {@link Session#route(Classification)}) and runs {@code cmd}. */
    void route(Classification c, String text, ByteBuf cmd, java.util.function.Function<RouteDecision, Running> running) {
        if (router.writesHeld()) {
            route(() -> session.route(c), text, cmd, running);
            return;
        }
        RouteDecision d;
        try {
            d = session.route(c);
        } catch (NoRouteException e) {
            cmd.release();
            s.error(1, My.ER_CANNOT_CONNECT, "08001", e.getMessage());
            return;
        }
        routed(d, text, cmd, running, false);
    }

    /** Routes with {@code decide} (off the event loop while a switchover holds writes: it may block) and runs {@code cmd}. */
    void route(java.util.function.Supplier<RouteDecision> decide, String text, ByteBuf cmd,
               java.util.function.Function<RouteDecision, Running> running) {
        if (router.writesHeld()) {
            s.setBusy(true);
            s.proxy().blocking().execute(() -> {
                RouteDecision d = null;
                RuntimeException err = null;
                try {
                    d = decide.get();
                } catch (RuntimeException e) {
                    err = e;
                }
                RouteDecision dd = d;
                RuntimeException e = err;
                s.onLoop(() -> {
                    s.setBusy(false);
                    if (e != null) {
                        cmd.release();
                        s.error(1, My.ER_CANNOT_CONNECT, "08001", e.getMessage());
                    } else {
                        routed(dd, text, cmd, running, false);
                    }
                    s.drain();
                });
            });
            return;
        }
        RouteDecision d;
        try {
            d = decide.get();
        } catch (NoRouteException e) {
            cmd.release();
            s.error(1, My.ER_CANNOT_CONNECT, "08001", e.getMessage());
            return;
        }
        routed(d, text, cmd, running, false);
    }

    private void routed(RouteDecision d, String text, ByteBuf cmd, java.util.function.Function<RouteDecision, Running> running, boolean retried) {
        s.logRoute(d, text);
        MyBackend held = s.heldUsable(d.node());
        if (held != null) {
            // the usual case: the session already has a connection there (no callbacks to allocate)
            runRouted(held, d, cmd, running, retried);
            return;
        }
        s.withBackend(d.node(), be -> runRouted(be, d, cmd, running, retried), err -> {
            if (!retried && d.classification().kind() == StatementKind.READ && !session.inTransaction()) {
                // a read may go elsewhere: the failure took this node out of routing
                try {
                    routed(session.route(d.classification()), text, cmd, running, true);
                    return;
                } catch (NoRouteException e) {
                    err = e;
                }
            }
            cmd.release();
            s.error(1, My.ER_CANNOT_CONNECT, "08S01", err.getMessage());
        });
    }

    private void runRouted(MyBackend be, RouteDecision d, ByteBuf cmd, java.util.function.Function<RouteDecision, Running> running,
                           boolean retried) {
        if (!retried && d.classification().kind() == StatementKind.READ && !session.inTransaction()
                && !d.node().equals(router.topology().primary())) {
            s.keepForResend(cmd); // before any rewrite: it is run again with the client's own statement id
        }
        Running r = running.apply(d);
        if (My.first(cmd) == My.COM_STMT_EXECUTE) {
            prepared.send(be, cmd, r);
        } else {
            s.run(be, cmd, kindOf(cmd), r);
        }
    }

    private static ReplyTracker.Kind kindOf(ByteBuf cmd) {
        return My.first(cmd) == My.COM_STMT_PREPARE ? ReplyTracker.Kind.PREPARE : ReplyTracker.Kind.RESULT;
    }

    /** A routed statement's reply ended: the session learns the transaction state and what ran. */
    void finished(MyBackend be, ReplyTracker.Outcome o, RouteDecision d, String sql) {
        if (o.error() == null) {
            session.executed(d);
            if (d.allConnections() && sql != null) {
                Matcher u = USE.matcher(sql);
                Matcher ro = READ_ONLY.matcher(sql);
                if (ro.matches()) {
                    // as the driver's setReadOnly: transactions (and autocommit-off statements) may then run on a replica
                    String v = (ro.group(1) != null ? ro.group(1) : ro.group(2)).toUpperCase(java.util.Locale.ROOT);
                    session.setReadOnly(v.equals("ONLY") || v.equals("1") || v.equals("ON") || v.equals("TRUE"));
                }
                if (u.matches()) {
                    changedDatabase(be, u.group(1));
                } else {
                    if (!state.record(sql)) {
                        log.warn("{}: more than 500 distinct session-state statements; not replaying: {}", s.user, sql);
                    }
                    replies.sessionState(sql);
                    replayOnOthers(be, b -> My.command(b.channel().alloc(), My.COM_QUERY, sql));
                }
            }
        }
        status(be, o);
        replies.settled(session.inTransaction());
    }

    /** Transaction and autocommit state from the reply's final status flags (none on an error or a prepare). */
    void status(MyBackend be, ReplyTracker.Outcome o) {
        int st = o.status();
        if (st < 0) {
            if (o.error() != null && session.inTransaction() && (be.status & My.STATUS_IN_TRANS) == 0) {
                session.endTransaction(false);
            }
            return;
        }
        boolean ac = (st & My.STATUS_AUTOCOMMIT) != 0;
        if (ac != session.autoCommit()) {
            session.setAutoCommit(ac);
        }
        boolean inTx = (st & My.STATUS_IN_TRANS) != 0;
        if (inTx && !session.inTransaction()) {
            session.transactionStarted(be.node);
        } else if (!inTx && session.inTransaction()) {
            session.endTransaction(o.error() == null);
        }
    }

    private void changedDatabase(MyBackend ranOn, String db) {
        state.database = db;
        ranOn.database = db;
        for (MyBackend other : s.held().values()) {
            if (other != ranOn && other.usable()) {
                other.send(My.command(other.channel().alloc(), My.COM_INIT_DB, db), ReplyTracker.Kind.SIMPLE, true, null);
                other.database = db;
                other.channel().flush();
            }
        }
    }

    private void replayOnOthers(MyBackend ranOn, java.util.function.Function<MyBackend, ByteBuf> command) {
        for (MyBackend other : s.held().values()) {
            if (other != ranOn && other.usable()) {
                other.send(command.apply(other), ReplyTracker.Kind.RESULT, true, null);
                other.channel().flush();
            }
        }
    }

    /** Where a command that runs no statement goes: wherever the session already is. */
    String anchor() {
        if (session.transactionNode() != null) {
            return session.transactionNode();
        }
        String p = router.topology().primary();
        Set<String> held = s.held().keySet();
        if (p != null && held.contains(p)) {
            return p;
        }
        if (!held.isEmpty()) {
            return held.iterator().next();
        }
        if (p != null) {
            return p;
        }
        if (!router.topology().readCandidates().isEmpty()) {
            return router.topology().readCandidates().get(0).name();
        }
        throw new NoRouteException("no node is available: " + router.topology().describe());
    }

    private void onAnchor(ByteBuf cmd, ReplyTracker.Kind kind, java.util.function.BiConsumer<MyBackend, ReplyTracker.Outcome> after) {
        String node = anchor();
        s.withBackend(node, be -> s.run(be, cmd, kind, new Running() {
            @Override
            public boolean startsCycle() {
                return false;
            }

            @Override
            public void done(MyBackend b, ReplyTracker.Outcome o) {
                after.accept(b, o);
                status(b, o);
            }
        }), err -> {
            cmd.release();
            s.error(1, My.ER_CANNOT_CONNECT, "08S01", err.getMessage());
        });
    }

    // ---- KILL, reset ----

    private void kill(int id, boolean queryOnly) {
        MySession target = s.proxy().session(id);
        if (target == null) {
            s.error(1, My.ER_NO_SUCH_THREAD, "HY000", "Unknown thread id: " + id);
            return;
        }
        if (!target.user.equals(s.user)) {
            s.error(1, 1095, "HY000", "You are not owner of thread " + id);
            return;
        }
        if (queryOnly) {
            target.killQuery();
        } else {
            target.kill();
        }
        s.ok(1);
    }

    void resetSession() {
        replies.reset();
        statements.clear();
        state.clear(s.proxy().database());
        if (session.inTransaction()) {
            session.endTransaction(false);
        }
        session.setAutoCommit(true);
        for (MyBackend be : s.held().values()) {
            be.resetAndRelease(true); // reset and back to the pool; the next statement takes a fresh one
        }
        s.held().clear();
    }
}
