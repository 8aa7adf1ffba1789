package dev.sluice.proxy.mysql.shard;

import dev.sluice.core.shard.ShardPlan;
import dev.sluice.core.shard.ShardingException;
import dev.sluice.proxy.mysql.My;
import dev.sluice.proxy.mysql.MySqlProxy;
import dev.sluice.proxy.mysql.ReplyTracker;
import dev.sluice.proxy.net.ClientErrors;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
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
    private static final int MAX_QUEUED = 16;
    static final int ER_NOT_SUPPORTED = My.ER_NOT_SUPPORTED;
    static final String NOT_SUPPORTED = "0A000";

    final int id;
    final String user;
    final ShardedMySql shards;
    final Channel client;
    final int caps;
    private final MySqlProxy proxy;
    private final int collation;
    private final ShardLinks links;
    private final ArrayDeque<ByteBuf> queue = new ArrayDeque<>();
    final ShardedStatements statements;
    private final ShardedQueries queries;

    private boolean busy;
    private boolean draining;
    private boolean closed;
    private boolean ended;
    private int lastSeq;
    /** The shard connection a LOAD DATA LOCAL file goes to, while the client sends it. */
    private ShardConnection infile;
    private String txLost;

    final PinnedTransaction tx;

    ShardedMySession(ShardedMySql shards, MySqlProxy proxy, Channel client, int id, String user, int caps, int collation) {
        this.shards = shards;
        this.proxy = proxy;
        this.client = client;
        this.id = id;
        this.user = user;
        this.caps = caps;
        this.collation = collation;
        this.links = new ShardLinks(shards, proxy, client, user, caps, collation, this::lost);
        this.statements = new ShardedStatements(this);
        this.tx = new PinnedTransaction(shards.map);
        this.queries = new ShardedQueries(this);
    }

    boolean deprecateEof() {
        return (caps & My.DEPRECATE_EOF) != 0;
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
            boolean last = My.payloadLength(frame) == 0;
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
                lastSeq = My.seq(cmd);
                if (My.payloadLength(cmd) == My.MAX_PAYLOAD) {
                    cmd.release();
                    protocolError("commands over 16 MB (split packets) are not supported by the proxy");
                    return;
                }
                if (txLost != null && My.first(cmd) != My.COM_QUIT) {
                    String why = txLost;
                    txLost = null;
                    cmd.release();
                    error(My.ER_CONNECTION_LOST, "08S01", why);
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
        int c = My.first(cmd);
        if (log.isTraceEnabled()) {
            log.trace("{}: command 0x{} {}", user, Integer.toHexString(c), c == My.COM_QUERY || c == My.COM_STMT_PREPARE ? My.text(cmd) : "");
        }
        switch (c) {
            case My.COM_QUIT -> {
                cmd.release();
                client.close();
            }
            case My.COM_PING -> {
                cmd.release();
                ok(0, 0);
            }
            case My.COM_QUERY -> queries.query(cmd, My.text(cmd));
            case My.COM_INIT_DB -> {
                String db = My.text(cmd);
                cmd.release();
                queries.useDatabase(db);
            }
            case My.COM_STMT_PREPARE -> statements.prepare(cmd);
            case My.COM_STMT_EXECUTE -> statements.execute(cmd);
            case My.COM_STMT_SEND_LONG_DATA -> statements.longData(cmd);
            case My.COM_STMT_CLOSE -> statements.close(cmd);
            case My.COM_STMT_RESET -> statements.reset(cmd);
            case My.COM_SET_OPTION -> {
                int option = cmd.getUnsignedShortLE(cmd.readerIndex() + 5);
                cmd.release();
                links.setOption(option);
                eof();
            }
            case My.COM_RESET_CONNECTION -> {
                cmd.release();
                reset();
                ok(0, 0);
            }
            case My.COM_PROCESS_KILL -> {
                int target = cmd.getIntLE(cmd.readerIndex() + 5);
                cmd.release();
                queries.kill(target, false);
            }
            default -> {
                cmd.release();
                error(My.ER_UNKNOWN_COM, "08S01", "Unknown command 0x" + Integer.toHexString(c)
                        + " (not supported by the Sluice proxy for a sharded database)");
            }
        }
    }

    /** The shards of one execution, checked against the transaction (which may pin one, sending a held-back BEGIN). */
    long targets(ShardPlan plan, List<?> params) {
        long mask = plan.targets(shards.map, params);
        boolean pins = plan.kind() != ShardPlan.Kind.ANY;
        if (mask == 0) {
            mask = 1L << anyShard();
        }
        tx.check(mask, pins, "session-state".equals(plan.reason()));
        return mask;
    }

    /** Where a statement any shard can answer goes: the transaction's shard, else one with a connection already. */
    int anyShard() {
        return tx.pinned() >= 0 ? tx.pinned() : links.anyOpen();
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
        String begin = tx.takeBegin(c.shard);
        if (begin != null) {
            c.send(My.command(client.alloc(), My.COM_QUERY, begin), c.swallow(ReplyTracker.Kind.RESULT, t -> {
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
        return tx.inTransaction();
    }

    /** A reply's final status flags from shard {@code c}. */
    void noteStatus(ShardConnection c, int status) {
        if (status >= 0) {
            c.status = status;
            tx.noteStatus(c.shard, status);
        }
    }

    int statusFlags() {
        return tx.statusFlags();
    }

    // ---- session state ----

    /** A session-state statement ran on every shard: replayed on shard connections opened later. */
    void remember(String sql) {
        links.remember(sql);
    }

    private void reset() {
        statements.clear();
        tx.reset();
        links.closeAll(true);
    }

    // ---- shard connections ----

    /**
     * Runs {@code then} once every shard of {@code mask} has a logged-in connection brought up to the session's
     * state. On failure the client gets an error and {@code cmd} (if any) is released.
     */
    void withShards(long mask, Runnable then, ByteBuf cmd) {
        List<CompletableFuture<ShardConnection>> opening = links.openMissing(mask);
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
                links.adopt(c);
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
                error(My.ER_CANNOT_CONNECT, "08S01", cause.getMessage());
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

    ShardConnection conn(int shard) {
        return links.get(shard);
    }

    int shardCount() {
        return links.size();
    }

    private void lost(ShardConnection c) {
        statements.lost(c);
        if (c.shard == tx.pinned()) {
            tx.end();
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
    void relay(ShardConnection c, ByteBuf cmd, ReplyTracker.Kind kind, boolean statement, Consumer<ReplyTracker.Outcome> after) {
        ShardConnection.Reply r = relayReply(kind, null, after);
        if (statement) {
            sendStatement(c, cmd, r);
        } else {
            c.send(cmd, r);
            c.flush();
        }
    }

    /** A reply relayed to the client; {@code first} may rewrite the first packet (a prepare's statement id). */
    ShardConnection.Reply relayReply(ReplyTracker.Kind kind, Consumer<ByteBuf> first, Consumer<ReplyTracker.Outcome> after) {
        ReplyTracker t = new ReplyTracker(caps);
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
                    ReplyTracker.Outcome o = t.outcome();
                    noteStatus(c, o.status());
                    after.accept(o);
                    finish();
                }
                return end;
            }

            @Override
            public void lost(ShardConnection c, Throwable cause) {
                infile = null;
                error(My.ER_CONNECTION_LOST, "08S01", "Lost connection to shard " + c.name + ": " + cause.getMessage()
                        + (c.shard == tx.pinned() ? "; the transaction was rolled back" : ""));
            }
        };
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (client.isWritable()) {
            links.forEachOpen(c -> c.channel().config().setAutoRead(true));
        }
        ctx.fireChannelWritabilityChanged();
    }

    // ---- answers the proxy writes itself ----

    /** An error answering the running command (which is then complete). */
    void error(int code, String sqlState, String message) {
        client.writeAndFlush(My.err(client.alloc(), lastSeq + 1, code, sqlState, message));
        finish();
    }

    /** A statement sharding cannot answer correctly: ERR 1235, SQLSTATE 0A000, saying why. */
    void refuse(String why) {
        error(ER_NOT_SUPPORTED, NOT_SUPPORTED, "Sluice: " + why);
    }

    void ok(long affected, long insertId) {
        ByteBuf b = My.start(client.alloc(), lastSeq + 1).writeByte(0);
        My.writeLenenc(b, affected);
        My.writeLenenc(b, insertId);
        b.writeShortLE(statusFlags()).writeShortLE(0);
        client.writeAndFlush(My.seal(b));
        finish();
    }

    /** COM_SET_OPTION is answered with an EOF packet. */
    private void eof() {
        ByteBuf b = My.start(client.alloc(), lastSeq + 1).writeByte(0xfe).writeShortLE(0).writeShortLE(statusFlags());
        client.writeAndFlush(My.seal(b));
        finish();
    }

    int lastSeq() {
        return lastSeq;
    }

    void protocolError(String message) {
        log.info("{}: closing client {}: {}", user, client.remoteAddress(), message);
        client.writeAndFlush(My.err(client.alloc(), lastSeq + 1, My.ER_HANDSHAKE, "08S01", message)).addListener(f -> client.close());
        closed = true;
    }

    // ---- KILL ----

    /** KILL QUERY of whatever this session's shard connections run now. */
    void killQueries() {
        links.killRunning();
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
        ClientErrors.exceptionCaught(ctx, cause, log, user, this::protocolError);
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
        links.closeAll(false);
    }
}
