package dev.sluice.proxy.pg.shard;

import dev.sluice.core.shard.ShardPlan;
import dev.sluice.core.shard.ShardRouter;
import dev.sluice.proxy.net.ClientErrors;
import dev.sluice.proxy.pg.FrontSession;
import dev.sluice.proxy.pg.Messages;
import dev.sluice.proxy.pg.Pg;
import dev.sluice.proxy.pg.PgProxy;
import dev.sluice.proxy.shard.ShardEndpoints;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client of a sharded PostgreSQL database (docs/sharding.md, "Through the proxies"). It is a protocol client of
 * the shards' inner proxies — one connection per shard it needs, opened on first use ({@link ShardConnections}) — and
 * only chooses shards: each statement is planned by router-core's {@link ShardRouter} (once per text), its shards
 * chosen per execution with the Bind's parameter values; one shard → the client's messages are relayed there and its
 * replies back as they are; several → {@link ScatterRead} merges, {@link ScatterWrite} adds up. Transactions stay on one shard: BEGIN is
 * held back and sent to the shard of the transaction's first statement; a statement needing another shard fails with
 * 0A000 before it runs. Everything runs on the client channel's event loop (the shard connections use it too).
 */
public final class PgShardedSession extends FrontSession implements ShardLink.Owner {
    private static final Logger log = LoggerFactory.getLogger(PgShardedSession.class);
    private static final int MAX_INBOX = 256;

    private final PgProxy proxy;
    final ShardRouter router;
    final Channel client;
    private final String user;
    final ShardConnections connections;
    final ShardChooser chooser;
    private final ExtendedProtocol extended = new ExtendedProtocol(this);
    final ArrayDeque<ByteBuf> inbox = new ArrayDeque<>();
    private final Map<String, String> reported = new HashMap<>();
    /** Shard connections written to since the client's last Sync (each needs a Sync of its own). */
    final Set<ShardLink> touched = new LinkedHashSet<>();
    Run current;
    private ShardLink copyIn;
    boolean discardUntilSync;
    private boolean started;
    private boolean closed;

    private PgShardedSession(PgProxy proxy, ShardEndpoints shards, Channel client, String user, Map<String, String> startup, int pid,
                             int key) {
        super(pid, key);
        this.proxy = proxy;
        this.router = shards.router();
        this.client = client;
        this.user = user;
        Map<String, String> p = new HashMap<>(startup);
        p.remove("user");
        p.remove("database");
        this.connections = new ShardConnections(proxy, shards, Map.copyOf(p), user, this, client.eventLoop(), this::openFailed);
        this.chooser = new ShardChooser(router, connections.byShard, user, proxy.logsRoutes());
    }

    /** The session factory of a sharded proxy's outer listener. */
    public static PgProxy.SessionFactory factory(ShardEndpoints shards) {
        return (proxy, ch, user, params, pid, key) -> new PgShardedSession(proxy, shards, ch, user, params, pid, key);
    }

    // ---- start ----

    /** Logs in to the first shard (its server parameters are the client's welcome), then lets the client talk. */
    @Override
    public void start() {
        connections.open(0, () -> {
            ShardLink l = connections.byShard[0];
            if (l == null) {
                return; // failed: the client got a FATAL
            }
            l.params.forEach((k, v) -> {
                reported.put(k, v);
                client.write(Pg.parameterStatus(client.alloc(), k, v));
            });
            client.write(Pg.backendKeyData(client.alloc(), cancelPid(), cancelKey()));
            client.writeAndFlush(Pg.readyForQuery(client.alloc(), 'I'));
            started = true;
            process();
        });
    }

    /** A shard connection could not be opened: before the welcome the client is turned away, later its next message fails. */
    private void openFailed(ShardLink l, Throwable err) {
        log.info("{}: cannot open a connection to shard {}: {}", user, l.name, err.getMessage());
        if (!started) {
            fatal(Pg.CANNOT_CONNECT, err.getMessage()); // start's next step sees no link and stops
        } else {
            failNext(Pg.CANNOT_CONNECT, "shard " + l.name + ": " + err.getMessage());
        }
    }

    /** The link of shard {@code s} if it is usable; otherwise starts opening it and returns null (processing resumes then). */
    ShardLink link(int s) {
        return connections.link(s, this::process);
    }

    /** The links of {@code mask}, all usable; null when some are being opened (processing resumes then). */
    List<ShardLink> links(long mask) {
        return connections.links(mask, this::process);
    }

    // ---- client → shards ----

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf frame = (ByteBuf) msg;
        if (closed) {
            frame.release();
            return;
        }
        byte t = frame.getByte(frame.readerIndex());
        if (t == 'X') {
            frame.release();
            client.close();
            return;
        }
        if (copyIn != null && (t == 'd' || t == 'c' || t == 'f')) {
            copyIn.write(frame); // COPY … FROM STDIN (on one shard, by hint or key): the data streams straight there
            if (t != 'd') {
                copyIn.flush();
                copyIn = null;
            }
            return;
        }
        inbox.add(frame);
        process();
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (copyIn != null && copyIn.channel() != null) {
            copyIn.flush();
        }
        ctx.fireChannelReadComplete();
    }

    /** The shard running a relayed statement asked for COPY data (CopyInResponse): the client's data goes there. */
    void copyInStarted(ShardLink link) {
        copyIn = link;
    }

    /** Handles the client's messages in order while each can go now; stops when one must wait (a run, a connection). */
    private void process() {
        while (started && !closed && !connections.opening() && !inbox.isEmpty()) {
            ByteBuf f = inbox.peek();
            byte t = f.getByte(f.readerIndex());
            if (discardUntilSync && t != 'S') {
                inbox.poll().release();
                continue;
            }
            boolean consumed;
            try {
                consumed = step(f, t);
            } catch (RuntimeException e) {
                log.info("{}: closing client {}: malformed message '{}': {}", user, client.remoteAddress(), (char) t, e.toString());
                fatal(Pg.PROTOCOL_VIOLATION, "malformed message '" + (char) t + "': " + e.getMessage());
                return;
            }
            if (!consumed) {
                waitForRun();
                break;
            }
            ByteBuf done = inbox.poll();
            if (done != null && done.refCnt() > 0) {
                done.release();
            }
        }
        client.flush();
        client.config().setAutoRead(inbox.size() < MAX_INBOX);
    }

    /** The next message waits for the run in flight: make sure its shard answers what was sent so far (Flush). */
    private void waitForRun() {
        if (current instanceof RelayRun r && !r.syncSent() && !r.complete()) {
            r.link.write(Wire.flush(r.link.channel().alloc()));
            r.link.flush();
        }
    }

    /** One client message; false when it must wait (nothing was changed then). */
    private boolean step(ByteBuf f, byte t) {
        if (log.isTraceEnabled()) {
            log.trace("{}: client '{}' while {} is in flight", user, (char) t, current);
        }
        return switch (t) {
            case 'Q' -> SimpleQuery.run(this, Messages.Query.decode(f).sql());
            case 'P' -> extended.parse(Messages.Parse.decode(f));
            case 'B' -> extended.bind(f);
            case 'D' -> extended.describe(Messages.Target.decode(f));
            case 'E' -> extended.execute(f);
            case 'C' -> extended.close(Messages.Target.decode(f));
            case 'S' -> extended.sync();
            case 'H' -> {
                if (current instanceof RelayRun r && !r.complete()) {
                    r.link.write(Wire.flush(r.link.channel().alloc()));
                    r.link.flush();
                }
                yield true;
            }
            case 'd', 'c', 'f' -> true; // COPY data without a COPY in progress: ignored, as PostgreSQL does
            default -> {
                fatal(Pg.PROTOCOL_VIOLATION, "unexpected message type '" + (char) t + "'");
                yield true;
            }
        };
    }

    // ---- runs ----

    boolean canJoin(int shard) {
        return current == null || current instanceof RelayRun r && r.link.shard == shard && !r.syncSent();
    }

    boolean canEmit() {
        return current == null || current instanceof RelayRun r && !r.syncSent();
    }

    /** A frame of the session's own, after whatever the run in flight still has to relay. */
    void emit(ByteBuf frame) {
        if (current instanceof RelayRun r) {
            r.emit(frame);
        } else {
            client.write(frame);
        }
    }

    /** The relay run on {@code l} (joined or new); a held BEGIN goes first when {@code r} starts the transaction there. */
    RelayRun startRelay(ShardLink l, Route r) {
        RelayRun run = current instanceof RelayRun cur && cur.link == l ? cur : null;
        if (run == null) {
            run = new RelayRun(this, l);
            current = run;
        }
        chooser.starting(l, r).forEach(l::silentQuery); // a held BEGIN goes first to the transaction's shard
        touched.add(l);
        return run;
    }

    void startMulti(List<ShardLink> ls, Route r, StatementDef def, BindMsg bind, boolean describe, boolean execute, boolean simple) {
        ShardPlan plan = r.plan();
        if (plan.read() && !r.sessionState()) {
            ScatterRead.Request req = simple ? ScatterRequests.simple(r) : ScatterRequests.extended(r, def, bind, describe, execute);
            if (req == null) {
                extendedError(Pg.FEATURE_NOT_SUPPORTED, "a LIMIT/OFFSET parameter is not a number");
                return;
            }
            ScatterRead run = new ScatterRead(this, ls, plan.merge(), req, simple);
            current = run;
            run.start();
        } else {
            String sql = r.sql();
            Runnable recorded = r.sessionState() ? () -> connections.recordSessionState(sql) : null;
            ScatterWrite run = new ScatterWrite(this, ls, sql, def == null ? new int[0] : def.paramTypes(), bind, simple, recorded);
            current = run;
            run.start();
        }
    }

    // ---- shards → client ----

    @Override
    public void fromShard(ShardLink link, ByteBuf frame) {
        if (closed) {
            frame.release();
            return;
        }
        byte t = frame.getByte(frame.readerIndex());
        if (t == '1' || t == '3') {
            frame.release(); // the session's own Parse and Close: the client got its answers from the session
            return;
        }
        if (current != null && current.uses(link)) {
            if (current.onFrame(link, frame)) {
                current = null;
                process();
            }
            return;
        }
        passive(link, frame);
    }

    @Override
    public void shardReadComplete(ShardLink link) {
        client.flush();
    }

    /** A message nobody asked for: notices, notifications and new parameter values reach the client; the rest is dropped. */
    void passive(ShardLink link, ByteBuf frame) {
        byte t = frame.getByte(frame.readerIndex());
        if (t == 'S') {
            ByteBuf b = frame.duplicate().skipBytes(5);
            String k = Pg.cstring(b);
            String v = Pg.cstring(b);
            if (!v.equals(reported.put(k, v))) {
                client.write(frame);
                return;
            }
        } else if (t == 'A' || t == 'N') {
            client.write(frame);
            return;
        } else if (t == 'E') {
            Messages.ErrorFields e = Messages.ErrorFields.decode(frame);
            log.info("{}: shard {} said, unasked: {} {}", user, link.name, e.sqlState(), e.message());
        } else if (t == 'Z') {
            link.txStatus = (char) frame.getByte(frame.readerIndex() + 5);
        }
        frame.release();
    }

    void toClient(ByteBuf frame, ShardLink from) {
        client.write(frame);
        if (from != null && !client.isWritable()) {
            from.pause(true); // the client reads slower than the shard sends: let the shard wait instead of this process buffering
        }
    }

    boolean clientWritable() {
        return client.isWritable();
    }

    ByteBufAllocator alloc() {
        return client.alloc();
    }

    /** An error in an extended-protocol cycle: the rest of the client's messages up to its Sync are skipped. */
    void errorInCycle() {
        discardUntilSync = true;
    }

    /**
     * A cycle ended on {@code link} (its ReadyForQuery) or in the session (null): the transaction follows what the shard
     * says, and the client gets its ReadyForQuery.
     */
    void cycleEnded(ShardLink link) {
        if (link != null) {
            touched.remove(link);
        }
        chooser.cycleEnded(link);
        client.write(Pg.readyForQuery(client.alloc(), chooser.txStatus()));
    }

    @Override
    public void shardLost(ShardLink link, Throwable cause) {
        if (closed) {
            return;
        }
        connections.lost(link);
        touched.remove(link);
        boolean txHere = chooser.lost(link.shard);
        if (current != null && current.uses(link)) {
            if (current.linkLost(link, cause)) {
                current = null;
            }
        } else if (txHere) {
            log.info("{}: connection to shard {} lost while a transaction was open on it", user, link.name);
        }
        client.flush();
        process();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (client.isWritable()) {
            if (current instanceof ScatterRead s) {
                s.flow();
            } else {
                connections.resumeAll();
            }
        }
        ctx.fireChannelWritabilityChanged();
    }

    // ---- errors, cancel, close ----

    /** An error for an extended-protocol message: sent in order, and the rest of the cycle is skipped. */
    boolean extendedError(String state, String message) {
        if (!canEmit()) {
            return false;
        }
        emit(Pg.error(client.alloc(), "ERROR", state, message));
        discardUntilSync = true;
        return true;
    }

    void writeError(String state, String message) {
        client.write(Pg.error(client.alloc(), "ERROR", state, message));
    }

    /** A shard connection could not be opened for the next message: it fails (and its cycle is skipped or ended). */
    private void failNext(String state, String message) {
        ByteBuf f = inbox.peek();
        if (f == null) {
            return;
        }
        byte t = f.getByte(f.readerIndex());
        if (current != null) {
            return; // the run in flight finishes first; the next attempt opens the connection again
        }
        inbox.poll().release();
        writeError(state, message);
        if (t == 'Q') {
            client.write(Pg.readyForQuery(client.alloc(), chooser.txStatus()));
        } else {
            discardUntilSync = true;
        }
    }

    private void fatal(String state, String message) {
        client.writeAndFlush(Pg.error(client.alloc(), "FATAL", state, message)).addListener(f -> client.close());
    }

    @Override
    public void cancel() {
        client.eventLoop().execute(connections::cancelAll);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ClientErrors.exceptionCaught(ctx, cause, log, user, message -> fatal(Pg.PROTOCOL_VIOLATION, message));
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closed = true;
        proxy.sessionClosed(this);
        inbox.forEach(ByteBuf::release);
        inbox.clear();
        connections.closeAll();
    }
}
