package dev.sluice.proxy.mysql.shard;

import dev.sluice.core.shard.ShardPlan;
import dev.sluice.core.shard.ShardingException;
import dev.sluice.core.sql.StatementKind;
import dev.sluice.proxy.mysql.MySqlProxy;
import dev.sluice.proxy.mysql.MyWire;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One authenticated client of a sharded MySQL database. It is a protocol client of the shards' inner proxies
 * (one lazily opened {@link ShardConnection} per shard it needs) and only chooses shards: each statement is
 * planned by router-core's {@code ShardRouter}; one shard → the command is relayed there and its reply back
 * unchanged; several → a read is scattered and merged ({@link Scatter}), a write runs on each and the counts
 * add up ({@link FanOut}). A transaction stays on one shard (as in the driver: docs/sharding.md). Session state
 * (SET …) goes to every shard's connection, replayed on ones opened later. Everything runs on the client
 * channel's event loop, which the shard connections share. Commands run one at a time.
 */
final class ShardedMySession extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(ShardedMySession.class);
    private static final Logger routes = LoggerFactory.getLogger("dev.sluice.routes");
    private static final int MAX_QUEUED = 16;
    private static final int MAX_STATE = 500;
    static final int ER_NOT_SUPPORTED = MyWire.ER_NOT_SUPPORTED;
    static final String NOT_SUPPORTED = "0A000";
    private static final Pattern KILL = Pattern.compile("(?is)\\s*KILL\\s+(?:(?:HARD|SOFT)\\s+)?(QUERY\\s+(?:ID\\s+)?|CONNECTION\\s+)?(\\d+)\\s*;?\\s*");
    private static final Pattern USE = Pattern.compile("(?is)\\s*USE\\s+`?([^`;\\s]+)`?\\s*;?\\s*");

    final int id;
    final String user;
    final ShardedMySql shards;
    final Channel client;
    final int caps;
    private final MySqlProxy proxy;
    private final int collation;
    private final ShardConnection[] conns;
    private final ArrayDeque<ByteBuf> queue = new ArrayDeque<>();
    /** Session-state statements in the order they last ran, each text once (replayed on shard connections opened later). */
    private final Map<String, String> state = new LinkedHashMap<>();
    private Integer option;
    final ShardedStatements statements;

    private boolean busy;
    private boolean draining;
    private boolean closed;
    private boolean ended;
    private int lastSeq;
    /** The shard connection a LOAD DATA LOCAL file goes to, while the client sends it. */
    private ShardConnection infile;
    private String txLost;

    // transaction state (as the driver's ShardTransaction)
    private boolean autoCommit = true;
    private boolean sqlTransaction;
    private String heldBegin;
    private int pinned = -1;

    ShardedMySession(ShardedMySql shards, MySqlProxy proxy, Channel client, int id, String user, int caps, int collation) {
        this.shards = shards;
        this.proxy = proxy;
        this.client = client;
        this.id = id;
        this.user = user;
        this.caps = caps;
        this.collation = collation;
        this.conns = new ShardConnection[shards.targets.size()];
        this.statements = new ShardedStatements(this);
    }

    boolean deprecateEof() {
        return (caps & MyWire.DEPRECATE_EOF) != 0;
    }

    // ---- client → proxy ----

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf frame = (ByteBuf) msg;
        if (closed) {
            frame.release();
            return;
        }
        if (infile != null) {
            boolean last = MyWire.payloadLength(frame) == 0;
            infile.channel().write(frame); // LOAD DATA LOCAL contents go straight to the shard running it
            if (last) {
                infile.flush();
                infile = null;
            }
            return;
        }
        queue.add(frame);
        drain();
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (infile != null) {
            infile.flush();
        }
    }

    private void drain() {
        draining = true;
        try {
            while (!busy && !closed && !queue.isEmpty()) {
                ByteBuf cmd = queue.poll();
                lastSeq = MyWire.seq(cmd);
                if (MyWire.payloadLength(cmd) == MyWire.MAX_PAYLOAD) {
                    cmd.release();
                    protocolError("commands over 16 MB (split packets) are not supported by the proxy");
                    return;
                }
                if (txLost != null && MyWire.first(cmd) != MyWire.COM_QUIT) {
                    String why = txLost;
                    txLost = null;
                    cmd.release();
                    error(MyWire.ER_CONNECTION_LOST, "08S01", why);
                    continue;
                }
                busy = true;
                try {
                    handle(cmd);
                } catch (ShardingException e) {
                    refuse(e.getMessage());
                } catch (RuntimeException e) {
                    log.info("{}: malformed command from {}: {}", user, client.remoteAddress(), e.toString());
                    protocolError("malformed command: " + e.getMessage());
                    return;
                }
            }
        } finally {
            draining = false;
        }
        client.config().setAutoRead(queue.size() < MAX_QUEUED);
    }

    /** The running command's reply is complete: the next may run. */
    void finish() {
        busy = false;
        if (!draining) {
            drain();
        }
    }

    private void handle(ByteBuf cmd) {
        int c = MyWire.first(cmd);
        if (log.isTraceEnabled()) {
            log.trace("{}: command 0x{} {}", user, Integer.toHexString(c), c == MyWire.COM_QUERY || c == MyWire.COM_STMT_PREPARE ? MyWire.text(cmd) : "");
        }
        switch (c) {
            case MyWire.COM_QUIT -> {
                cmd.release();
                client.close();
            }
            case MyWire.COM_PING -> {
                cmd.release();
                ok(0, 0);
            }
            case MyWire.COM_QUERY -> query(cmd, MyWire.text(cmd));
            case MyWire.COM_INIT_DB -> {
                String db = MyWire.text(cmd);
                cmd.release();
                useDatabase(db);
            }
            case MyWire.COM_STMT_PREPARE -> statements.prepare(cmd);
            case MyWire.COM_STMT_EXECUTE -> statements.execute(cmd);
            case MyWire.COM_STMT_SEND_LONG_DATA -> statements.longData(cmd);
            case MyWire.COM_STMT_CLOSE -> statements.close(cmd);
            case MyWire.COM_STMT_RESET -> statements.reset(cmd);
            case MyWire.COM_SET_OPTION -> {
                option = cmd.getUnsignedShortLE(cmd.readerIndex() + 5);
                cmd.release();
                for (ShardConnection sc : conns) {
                    if (sc != null && sc.usable()) {
                        sendOption(sc);
                        sc.flush();
                    }
                }
                eof();
            }
            case MyWire.COM_RESET_CONNECTION -> {
                cmd.release();
                reset();
                ok(0, 0);
            }
            case MyWire.COM_PROCESS_KILL -> {
                int target = cmd.getIntLE(cmd.readerIndex() + 5);
                cmd.release();
                kill(target, false);
            }
            default -> {
                cmd.release();
                error(MyWire.ER_UNKNOWN_COM, "08S01", "Unknown command 0x" + Integer.toHexString(c)
                        + " (not supported by the Sluice proxy for a sharded database)");
            }
        }
    }

    // ---- COM_QUERY ----

    private void query(ByteBuf cmd, String sql) {
        Matcher k = KILL.matcher(sql);
        if (k.matches()) {
            cmd.release();
            java.math.BigInteger target = new java.math.BigInteger(k.group(2));
            if (target.bitLength() > 31) {
                error(MyWire.ER_NO_SUCH_THREAD, "HY000", "Unknown thread id: " + k.group(2));
                return;
            }
            kill(target.intValue(), k.group(1) != null && k.group(1).toUpperCase(Locale.ROOT).startsWith("QUERY"));
            return;
        }
        Matcher u = USE.matcher(sql);
        if (u.matches()) {
            cmd.release();
            useDatabase(u.group(1));
            return;
        }
        ShardPlan plan;
        try {
            plan = shards.router.plan(sql);
        } catch (ShardingException e) {
            cmd.release();
            throw e;
        }
        if (plan.kind() == ShardPlan.Kind.TRANSACTION) {
            transactionControl(cmd, sql);
            return;
        }
        long mask;
        try {
            mask = targets(plan, List.of());
        } catch (ShardingException e) {
            cmd.release();
            throw e;
        }
        logRoute(plan, mask, sql);
        boolean sessionState = "session-state".equals(plan.reason());
        if (Long.bitCount(mask) == 1) {
            int shard = Long.numberOfTrailingZeros(mask);
            withShards(mask, () -> relay(conns[shard], cmd, MyWire.Replies.Kind.RESULT, true, t -> {
                if (sessionState && t.error() == null) {
                    remember(sql);
                }
            }), cmd);
        } else if (plan.read()) {
            if (plan.merge() == null) {
                cmd.release();
                throw new ShardingException(plan.scatterError());
            }
            String scatterSql = plan.scatterSql() != null ? plan.scatterSql() : sql;
            cmd.release();
            long[] window = Scatter.window(plan.merge(), List.of());
            withShards(mask, () -> {
                Scatter sc = new Scatter(this, plan.merge(), shardsOf(mask), false, window[0], window[1]);
                for (int s : shardsOf(mask)) {
                    sendStatement(conns[s], MyWire.command(client.alloc(), MyWire.COM_QUERY, scatterSql), sc.reply(s));
                }
            }, null);
        } else {
            FanOut f = new FanOut(this, shardsOf(mask), sessionState ? sql : null);
            withShards(mask, () -> {
                for (int s : shardsOf(mask)) {
                    sendStatement(conns[s], cmd.retainedDuplicate(), f.reply(s));
                }
                cmd.release();
            }, cmd);
        }
    }

    /** The shards of one execution, checked against the transaction (which may pin one, sending a held-back BEGIN). */
    long targets(ShardPlan plan, List<?> params) {
        long mask = plan.targets(shards.map, params);
        boolean pins = plan.kind() != ShardPlan.Kind.ANY;
        if (mask == 0) {
            mask = 1L << (pinned >= 0 ? pinned : anyOpen());
        }
        if (!inTransaction() || "session-state".equals(plan.reason())) {
            return mask; // SET … changes no data: every shard's session takes it, in a transaction too
        }
        if (pinned < 0 && pins && Long.bitCount(mask) == 1) {
            pinned = Long.numberOfTrailingZeros(mask);
        }
        if (pinned < 0 ? Long.bitCount(mask) > 1 : (mask & ~(1L << pinned)) != 0) {
            List<String> others = shards.map.names(pinned < 0 ? mask : mask & ~(1L << pinned));
            throw new ShardingException("this statement would touch shard(s) " + others + " inside a transaction "
                    + (pinned < 0 ? "(a transaction cannot span shards)" : "pinned to shard " + shards.map.shardName(pinned))
                    + ": a transaction stays on one shard, because a commit on several shards would not be atomic; "
                    + "commit first, or keep the transaction's statements on one shard key");
        }
        return mask;
    }

    /** Where a statement any shard can answer goes: the transaction's shard, else one with a connection already. */
    int anyShard() {
        return pinned >= 0 ? pinned : anyOpen();
    }

    /** A shard that already has a connection (else the first). */
    private int anyOpen() {
        for (int i = 0; i < conns.length; i++) {
            if (conns[i] != null && conns[i].usable()) {
                return i;
            }
        }
        return 0;
    }

    static int[] shardsOf(long mask) {
        int[] out = new int[Long.bitCount(mask)];
        int k = 0;
        for (long m = mask; m != 0; m &= m - 1) {
            out[k++] = Long.numberOfTrailingZeros(m);
        }
        return out;
    }

    /** Sends a statement to a shard, counted; a held-back BEGIN goes first when this is the transaction's shard. */
    void sendStatement(ShardConnection c, ByteBuf cmd, ShardConnection.Reply reply) {
        if (heldBegin != null && c.shard == pinned) {
            String begin = heldBegin;
            heldBegin = null;
            c.send(MyWire.command(client.alloc(), MyWire.COM_QUERY, begin), c.swallow(MyWire.Replies.Kind.RESULT, t -> {
                if (t.error() != null) {
                    log.warn("{}: BEGIN on shard {} failed: {}", user, c.name, t.error());
                }
            }));
        }
        shards.countStatement(c.shard);
        c.send(cmd, reply);
        c.flush();
    }

    // ---- transactions ----

    boolean inTransaction() {
        return !autoCommit || sqlTransaction;
    }

    private void transactionControl(ByteBuf cmd, String sql) {
        StatementKind k = shards.router.classify(sql).kind();
        if (k == StatementKind.BEGIN || k == StatementKind.BEGIN_READ_ONLY || k == StatementKind.BEGIN_READ_WRITE) {
            cmd.release();
            if (pinned >= 0 || heldBegin != null) {
                error(1400, "25001", "a transaction is already open (Sluice holds one transaction per session, on one shard)");
                return;
            }
            sqlTransaction = autoCommit;
            heldBegin = sql; // sent with the transaction's first statement, to that statement's shard
            ok(0, 0);
            return;
        }
        if (k == StatementKind.COMMIT || k == StatementKind.ROLLBACK) {
            int s = pinned;
            endTransaction();
            if (s < 0) {
                cmd.release();
                ok(0, 0);
                return;
            }
            withShards(1L << s, () -> relay(conns[s], cmd, MyWire.Replies.Kind.RESULT, true, t -> { }), cmd);
            return;
        }
        if (pinned >= 0) {
            int s = pinned;
            withShards(1L << s, () -> relay(conns[s], cmd, MyWire.Replies.Kind.RESULT, true, t -> { }), cmd);
        } else if (!inTransaction()) { // e.g. SET TRANSACTION for the next transaction: every shard's session
            long all = shards.map.allShards();
            FanOut f = new FanOut(this, shardsOf(all), null);
            withShards(all, () -> {
                for (int s : shardsOf(all)) {
                    sendStatement(conns[s], cmd.retainedDuplicate(), f.reply(s));
                }
                cmd.release();
            }, cmd);
        } else {
            cmd.release();
            refuse("'" + sql.strip() + "' before the transaction has chosen its shard: run a statement that touches the shard first");
        }
    }

    private void endTransaction() {
        pinned = -1;
        heldBegin = null;
        sqlTransaction = false;
    }

    /** A reply's final status flags from shard {@code c}: autocommit, and whether its transaction is still open. */
    void noteStatus(ShardConnection c, int status) {
        if (status < 0) {
            return;
        }
        c.status = status;
        autoCommit = (status & MyWire.STATUS_AUTOCOMMIT) != 0;
        if ((status & MyWire.STATUS_IN_TRANS) == 0 && c.shard == pinned) {
            endTransaction(); // committed or rolled back there (COMMIT, an implicit commit, a rollback on error)
        } else if ((status & MyWire.STATUS_IN_TRANS) != 0 && pinned < 0 && heldBegin == null) {
            pinned = c.shard; // a transaction opened there (autocommit off, or BEGIN behind a shard hint)
            sqlTransaction |= autoCommit;
        }
    }

    int statusFlags() {
        return (inTransaction() && (pinned >= 0 || heldBegin != null) ? MyWire.STATUS_IN_TRANS : 0) | (autoCommit ? MyWire.STATUS_AUTOCOMMIT : 0);
    }

    // ---- session state ----

    private void useDatabase(String db) {
        if (db.equalsIgnoreCase(shards.database)) {
            ok(0, 0); // the logical database: each shard's connection is on its own database already
        } else {
            refuse("this proxy serves the sharded database '" + shards.database + "': each shard is its own database, so USE " + db
                    + " cannot be followed; connect to the database you want instead");
        }
    }

    /** A session-state statement ran on every shard: replayed on shard connections opened later. */
    void remember(String sql) {
        String key = sql.strip();
        state.remove(key);
        if (state.size() >= MAX_STATE) {
            log.warn("{}: more than {} distinct session-state statements; not replaying: {}", user, MAX_STATE, sql);
            return;
        }
        state.put(key, sql);
    }

    private void sendOption(ShardConnection sc) {
        ByteBuf b = MyWire.start(client.alloc(), 0).writeByte(MyWire.COM_SET_OPTION).writeShortLE(option);
        sc.send(MyWire.seal(b), sc.swallow(MyWire.Replies.Kind.SIMPLE, null));
    }

    private void reset() {
        statements.clear();
        state.clear();
        option = null;
        endTransaction();
        autoCommit = true;
        for (int i = 0; i < conns.length; i++) {
            if (conns[i] != null) {
                conns[i].close();
                conns[i] = null;
            }
        }
    }

    // ---- shard connections ----

    /**
     * Runs {@code then} once every shard of {@code mask} has a logged-in connection brought up to the session's
     * state. On failure the client gets an error and {@code cmd} (if any) is released.
     */
    void withShards(long mask, Runnable then, ByteBuf cmd) {
        List<CompletableFuture<ShardConnection>> opening = new ArrayList<>();
        for (int s : shardsOf(mask)) {
            if (conns[s] == null || !conns[s].usable()) {
                conns[s] = null;
                ShardedMySql.Target t = shards.targets.get(s);
                int connCaps = MyWire.BACKEND_BASE_CAPS | (caps & MyWire.RELAY_CAPS);
                opening.add(ShardConnection.open(client.eventLoop(), proxy.channelType(), t.address(), s, t.name(), shards.user, shards.secret,
                        connCaps, collation, proxy.maxMessageBytes(), proxy.loginTimeoutMs(), this::lost));
            }
        }
        if (opening.isEmpty()) {
            then.run();
            return;
        }
        busy = true;
        CompletableFuture.allOf(opening.toArray(new CompletableFuture<?>[0])).whenComplete((v, err) -> onLoop(() -> {
            Throwable failure = null;
            for (CompletableFuture<ShardConnection> f : opening) {
                if (f.isCompletedExceptionally()) {
                    failure = failure != null ? failure : f.handle((c, e) -> e).join();
                    continue;
                }
                ShardConnection c = f.join();
                if (closed) {
                    c.close();
                    continue;
                }
                conns[c.shard] = c;
                c.readComplete = client::flush; // what was relayed goes out once the shard's batch is read
                bringUp(c);
            }
            if (closed) {
                if (cmd != null) {
                    cmd.release();
                }
                return;
            }
            if (failure != null) {
                if (cmd != null) {
                    cmd.release();
                }
                Throwable cause = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null ? failure.getCause() : failure;
                error(MyWire.ER_CANNOT_CONNECT, "08S01", cause.getMessage());
                return;
            }
            try {
                then.run();
            } catch (ShardingException e) {
                refuse(e.getMessage());
            } catch (RuntimeException e) {
                // thrown here it would vanish into the future: the client would wait for an answer forever
                log.warn("{}: internal error running a command: {}", user, e.toString(), e);
                protocolError("internal error in the sharded session: " + e);
            }
        }));
    }

    /** Gives a new shard connection the session's state: SETs in order, the multi-statement option. */
    private void bringUp(ShardConnection c) {
        for (String sql : state.values()) {
            c.send(MyWire.command(client.alloc(), MyWire.COM_QUERY, sql), c.swallow(MyWire.Replies.Kind.RESULT, null));
        }
        if (option != null) {
            sendOption(c);
        }
    }

    ShardConnection conn(int shard) {
        return conns[shard];
    }

    private void lost(ShardConnection c) {
        if (conns[c.shard] == c) {
            conns[c.shard] = null;
        }
        statements.lost(c);
        if (c.shard == pinned) {
            endTransaction();
            if (!busy) {
                txLost = "Lost connection to shard " + c.name + " while a transaction was open on it; the transaction was rolled back";
            }
        }
    }

    // ---- relaying one shard's reply ----

    /**
     * Sends {@code cmd} to {@code c} and relays its reply to the client unchanged; {@code after} runs at its end,
     * then the next command may run.
     */
    void relay(ShardConnection c, ByteBuf cmd, MyWire.Replies.Kind kind, boolean statement, Consumer<MyWire.Replies> after) {
        ShardConnection.Reply r = relayReply(kind, null, after);
        if (statement) {
            sendStatement(c, cmd, r);
        } else {
            c.send(cmd, r);
            c.flush();
        }
    }

    /** A reply relayed to the client; {@code first} may rewrite the first packet (a prepare's statement id). */
    ShardConnection.Reply relayReply(MyWire.Replies.Kind kind, Consumer<ByteBuf> first, Consumer<MyWire.Replies> after) {
        MyWire.Replies t = new MyWire.Replies(caps);
        t.start(kind);
        return new ShardConnection.Reply() {
            private boolean started;

            @Override
            public boolean packet(ShardConnection c, ByteBuf frame) {
                boolean end = t.accept(frame);
                if (!started && first != null) {
                    first.accept(frame);
                }
                started = true;
                if (closed) {
                    frame.release();
                } else {
                    client.write(frame);
                    if (!client.isWritable()) {
                        client.flush();
                    }
                    if (!client.isWritable()) {
                        c.channel().config().setAutoRead(false); // resumed in channelWritabilityChanged
                    }
                }
                if (t.awaitingInfile()) {
                    infile = c;
                    client.flush();
                }
                if (end) {
                    client.flush();
                    noteStatus(c, t.status());
                    after.accept(t);
                    finish();
                }
                return end;
            }

            @Override
            public void lost(ShardConnection c, Throwable cause) {
                infile = null;
                error(MyWire.ER_CONNECTION_LOST, "08S01", "Lost connection to shard " + c.name + ": " + cause.getMessage()
                        + (c.shard == pinned ? "; the transaction was rolled back" : ""));
            }
        };
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (client.isWritable()) {
            for (ShardConnection c : conns) {
                if (c != null && c.channel() != null) {
                    c.channel().config().setAutoRead(true);
                }
            }
        }
        ctx.fireChannelWritabilityChanged();
    }

    // ---- answers the proxy writes itself ----

    /** An error answering the running command (which is then complete). */
    void error(int code, String sqlState, String message) {
        client.writeAndFlush(MyWire.err(client.alloc(), lastSeq + 1, code, sqlState, message));
        finish();
    }

    /** A statement sharding cannot answer correctly: ERR 1235, SQLSTATE 0A000, saying why. */
    void refuse(String why) {
        error(ER_NOT_SUPPORTED, NOT_SUPPORTED, "Sluice: " + why);
    }

    void ok(long affected, long insertId) {
        ByteBuf b = MyWire.start(client.alloc(), lastSeq + 1).writeByte(0);
        MyWire.writeLenenc(b, affected);
        MyWire.writeLenenc(b, insertId);
        b.writeShortLE(statusFlags()).writeShortLE(0);
        client.writeAndFlush(MyWire.seal(b));
        finish();
    }

    /** COM_SET_OPTION is answered with an EOF packet. */
    private void eof() {
        ByteBuf b = MyWire.start(client.alloc(), lastSeq + 1).writeByte(0xfe).writeShortLE(0).writeShortLE(statusFlags());
        client.writeAndFlush(MyWire.seal(b));
        finish();
    }

    int lastSeq() {
        return lastSeq;
    }

    void protocolError(String message) {
        log.info("{}: closing client {}: {}", user, client.remoteAddress(), message);
        client.writeAndFlush(MyWire.err(client.alloc(), lastSeq + 1, MyWire.ER_HANDSHAKE, "08S01", message)).addListener(f -> client.close());
        closed = true;
    }

    private void logRoute(ShardPlan plan, long mask, String sql) {
        if (shards.logRoutes) {
            routes.info("{} -> shards {}  [{}]  {}", user, shards.map.names(mask), plan.reason(), abbreviate(sql));
        } else if (log.isDebugEnabled()) {
            log.debug("{}: {} -> shards {} ({})", user, abbreviate(sql), shards.map.names(mask), plan.reason());
        }
    }

    private static String abbreviate(String sql) {
        String s = sql.replaceAll("\\s+", " ").strip();
        return s.length() <= 90 ? s : s.substring(0, 87) + "...";
    }

    // ---- KILL ----

    private void kill(int target, boolean queryOnly) {
        ShardedMySession t = shards.session(target);
        if (t == null) {
            error(MyWire.ER_NO_SUCH_THREAD, "HY000", "Unknown thread id: " + target);
            return;
        }
        if (!t.user.equals(user)) {
            error(1095, "HY000", "You are not owner of thread " + target);
            return;
        }
        t.onLoop(() -> {
            t.killQueries();
            if (!queryOnly) {
                t.client.close();
            }
        });
        ok(0, 0);
    }

    /** KILL QUERY of whatever this session's shard connections run, each on a connection of its own to that shard. */
    void killQueries() {
        for (ShardConnection c : conns) {
            if (c == null || c.idle() || !c.usable()) {
                continue;
            }
            ShardedMySql.Target t = shards.targets.get(c.shard);
            long inner = c.connectionId;
            ShardConnection.open(client.eventLoop(), proxy.channelType(), t.address(), c.shard, t.name(), shards.user, shards.secret,
                    MyWire.BACKEND_BASE_CAPS, collation, proxy.maxMessageBytes(), proxy.loginTimeoutMs(), x -> { }).whenComplete((k, err) -> {
                        if (err != null) {
                            log.warn("{}: could not kill the query on shard {}: {}", user, t.name(), err.getMessage());
                            return;
                        }
                        k.send(MyWire.command(client.alloc(), MyWire.COM_QUERY, "KILL QUERY " + inner), k.swallow(MyWire.Replies.Kind.RESULT, r -> k.close()));
                        k.flush();
                    });
        }
    }

    void onLoop(Runnable r) {
        if (client.eventLoop().inEventLoop()) {
            r.run();
        } else {
            client.eventLoop().execute(r);
        }
    }

    // ---- close ----

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof DecoderException) {
            protocolError(cause.getMessage());
        } else {
            log.debug("{}: client connection error: {}", user, cause.toString());
            ctx.close();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (ended) {
            return;
        }
        ended = true;
        closed = true;
        shards.closed(this);
        proxy.sessionEnded();
        queue.forEach(ByteBuf::release);
        queue.clear();
        statements.clear();
        // closing a shard connection mid-statement makes its inner proxy stop the statement (KILL QUERY) and roll back
        for (int i = 0; i < conns.length; i++) {
            if (conns[i] != null) {
                conns[i].close();
                conns[i] = null;
            }
        }
    }
}
