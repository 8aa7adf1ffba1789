package dev.sluice.proxy.pg.shard;

import dev.sluice.core.shard.ShardPlan;
import dev.sluice.core.shard.ShardRouter;
import dev.sluice.core.shard.ShardingException;
import dev.sluice.proxy.pg.FrontSession;
import dev.sluice.proxy.pg.Messages;
import dev.sluice.proxy.pg.Pg;
import dev.sluice.proxy.pg.PgProxy;
import dev.sluice.proxy.shard.ShardEndpoints;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.DecoderException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client of a sharded PostgreSQL database (docs/sharding.md, "Through the proxies"). It is a protocol client of
 * the shards' inner proxies — one connection per shard it needs, opened on first use — and only chooses shards:
 * each statement is planned by router-core's {@link ShardRouter} (once per text), its shards chosen per execution
 * with the Bind's parameter values; one shard → the client's messages are relayed there and its replies back as they
 * are; several → {@link ScatterRead} merges, {@link ScatterWrite} adds up. Transactions stay on one shard: BEGIN is
 * held back and sent to the shard of the transaction's first statement; a statement needing another shard fails with
 * 0A000 before it runs. Everything runs on the client channel's event loop (the shard connections use it too).
 */
public final class PgShardedSession extends FrontSession implements ShardLink.Owner {
    private static final Logger log = LoggerFactory.getLogger(PgShardedSession.class);
    private static final Logger routes = LoggerFactory.getLogger("dev.sluice.routes");
    private static final int MAX_INBOX = 256;

    private final PgProxy proxy;
    private final ShardEndpoints shards;
    private final ShardRouter router;
    private final Channel client;
    private final String user;
    private final Map<String, String> startup;
    private final ShardLink[] links;
    private final ArrayDeque<ByteBuf> inbox = new ArrayDeque<>();
    private final Map<String, StatementDef> statements = new HashMap<>();
    private final Map<String, Portal> portals = new HashMap<>();
    private final Map<String, String> reported = new HashMap<>();
    /** SET and friends that ran on every open shard connection: replayed on connections opened later. */
    private final List<String> sessionState = new ArrayList<>();
    /** BEGIN (and SAVEPOINT …) not sent yet: they go to the shard of the transaction's first statement. */
    private final List<String> held = new ArrayList<>();
    /** Shard connections written to since the client's last Sync (each needs a Sync of its own). */
    private final Set<ShardLink> touched = new LinkedHashSet<>();
    private Run current;
    private ShardLink copyIn;
    private int pinned = -1;
    private int lastUsed = -1;
    private int connecting;
    private boolean discardUntilSync;
    private boolean started;
    private boolean closed;

    /** A bound portal: where its executions go. */
    private record Portal(StatementDef def, BindMsg bind, Route route) {
    }

    private enum Kind { LOCAL, ONE, MULTI, ERROR }

    /**
     * Where one execution goes: LOCAL (answered here: a held BEGIN …, with {@code tag}), ONE shard, MULTI (a mask), or
     * ERROR ({@code tag} is the message).
     */
    private record Route(Kind kind, int shard, long mask, String tag, String sql, ShardPlan plan, boolean sessionState) {
    }

    private PgShardedSession(PgProxy proxy, ShardEndpoints shards, Channel client, String user, Map<String, String> startup, int pid,
                             int key) {
        super(pid, key);
        this.proxy = proxy;
        this.shards = shards;
        this.router = shards.router();
        this.client = client;
        this.user = user;
        Map<String, String> p = new HashMap<>(startup);
        p.remove("user");
        p.remove("database");
        this.startup = Map.copyOf(p);
        this.links = new ShardLink[shards.size()];
    }

    /** The session factory of a sharded proxy's outer listener. */
    public static PgProxy.SessionFactory factory(ShardEndpoints shards) {
        return (proxy, ch, user, params, pid, key) -> new PgShardedSession(proxy, shards, ch, user, params, pid, key);
    }

    // ---- start ----

    /** Logs in to the first shard (its server parameters are the client's welcome), then lets the client talk. */
    @Override
    public void start() {
        connecting++;
        openLink(0, () -> {
            ShardLink l = links[0];
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

    /** Connects shard {@code s}'s link (replaying the session state there), then runs {@code then}; {@code connecting} was counted. */
    private void openLink(int s, Runnable then) {
        ShardLink l = new ShardLink(shards, s, startup, this);
        l.connect(client.eventLoop(), proxy.channelType(), proxy.maxMessageBytes(), (ok, err) -> {
            connecting--;
            if (closed) {
                if (ok != null) {
                    ok.close();
                }
                return;
            }
            if (err != null) {
                log.info("{}: cannot open a connection to shard {}: {}", user, l.name, err.getMessage());
                if (!started) {
                    fatal(Pg.CANNOT_CONNECT, err.getMessage());
                    return;
                }
                failNext(Pg.CANNOT_CONNECT, "shard " + l.name + ": " + err.getMessage());
            } else {
                links[s] = ok;
                for (String sql : sessionState) {
                    ok.silentQuery(sql);
                }
                ok.flush();
            }
            then.run();
        });
    }

    /** The link of shard {@code s} if it is usable; otherwise starts opening it and returns null (processing resumes then). */
    private ShardLink link(int s) {
        ShardLink l = links[s];
        if (l != null && l.usable()) {
            return l;
        }
        links[s] = null;
        connecting++;
        openLink(s, this::process);
        return null;
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
        while (started && !closed && connecting == 0 && !inbox.isEmpty()) {
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
            r.link.write(flush(r.link.channel().alloc()));
            r.link.flush();
        }
    }

    /** One client message; false when it must wait (nothing was changed then). */
    private boolean step(ByteBuf f, byte t) {
        if (log.isTraceEnabled()) {
            log.trace("{}: client '{}' while {} is in flight", user, (char) t, current);
        }
        return switch (t) {
            case 'Q' -> simpleQuery(Messages.Query.decode(f).sql());
            case 'P' -> parse(Messages.Parse.decode(f));
            case 'B' -> bind(f);
            case 'D' -> describe(Messages.Target.decode(f));
            case 'E' -> execute(f);
            case 'C' -> close(Messages.Target.decode(f));
            case 'S' -> sync();
            case 'H' -> {
                if (current instanceof RelayRun r && !r.complete()) {
                    r.link.write(flush(r.link.channel().alloc()));
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

    // ---- simple query ----

    private boolean simpleQuery(String sql) {
        if (current != null) {
            return false;
        }
        ShardPlan plan;
        try {
            plan = router.plan(sql);
        } catch (ShardingException e) {
            writeError(Pg.FEATURE_NOT_SUPPORTED, e.getMessage());
            client.write(Pg.readyForQuery(client.alloc(), txStatus()));
            return true;
        }
        Route r = route(sql, plan, List.of());
        switch (r.kind()) {
            case ERROR -> {
                writeError(Pg.FEATURE_NOT_SUPPORTED, r.tag());
                client.write(Pg.readyForQuery(client.alloc(), txStatus()));
            }
            case LOCAL -> {
                client.write(commandComplete(runLocal(r)));
                client.write(Pg.readyForQuery(client.alloc(), txStatus()));
            }
            case ONE -> {
                ShardLink l = link(r.shard());
                if (l == null) {
                    return false;
                }
                RelayRun run = startRelay(l, r);
                l.write(Pg.query(l.channel().alloc(), sql));
                l.parsed.remove("");
                run.expectCycleEnd();
                l.flush();
            }
            case MULTI -> {
                List<ShardLink> ls = links(r.mask());
                if (ls == null) {
                    return false;
                }
                startMulti(ls, r, null, null, true, true, true);
            }
            default -> throw new IllegalStateException();
        }
        return true;
    }

    // ---- extended protocol ----

    private boolean parse(Messages.Parse p) {
        if (!canEmit()) {
            return false;
        }
        ShardPlan plan = null;
        String err = null;
        try {
            plan = router.plan(p.sql());
        } catch (ShardingException e) {
            err = e.getMessage();
        }
        statements.put(p.name(), new StatementDef(p.name(), p.sql(), p.paramTypes(), plan, err));
        emit(simple('1'));
        return true;
    }

    private boolean bind(ByteBuf f) {
        BindMsg b = BindMsg.decode(f);
        StatementDef def = statements.get(b.statement());
        if (def == null) {
            return extendedError("26000", "prepared statement \"" + b.statement() + "\" does not exist");
        }
        if (def.planError() != null) {
            return extendedError(Pg.FEATURE_NOT_SUPPORTED, def.planError());
        }
        Route r = route(def.sql(), def.plan(), b.routingValues(def));
        switch (r.kind()) {
            case ERROR -> {
                return extendedError(Pg.FEATURE_NOT_SUPPORTED, r.tag());
            }
            case ONE -> {
                if (!canJoin(r.shard())) {
                    return false;
                }
                ShardLink l = link(r.shard());
                if (l == null) {
                    return false;
                }
                RelayRun run = startRelay(l, r);
                ensureParsed(l, def);
                l.write(f.retain());
                run.expect("2");
                portals.put(b.portal(), new Portal(def, b, r));
                return true;
            }
            default -> { // LOCAL, MULTI: answered here; the work happens at Describe/Execute
                if (!canEmit()) {
                    return false;
                }
                portals.put(b.portal(), new Portal(def, b, r));
                emit(simple('2'));
                return true;
            }
        }
    }

    private boolean describe(Messages.Target d) {
        if (d.kind() == 'S') {
            StatementDef def = statements.get(d.name());
            if (def == null) {
                return extendedError("26000", "prepared statement \"" + d.name() + "\" does not exist");
            }
            int s = pinned >= 0 ? pinned : current instanceof RelayRun r ? r.link.shard : anyShard();
            if (!canJoin(s)) {
                return false;
            }
            ShardLink l = link(s);
            if (l == null) {
                return false;
            }
            RelayRun run = startRelay(l, null);
            ensureParsed(l, def);
            l.write(describeMessage(l.channel().alloc(), 'S', d.name()));
            run.expect("Tn");
            return true;
        }
        Portal p = portals.get(d.name());
        if (p == null) {
            return extendedError("34000", "portal \"" + d.name() + "\" does not exist");
        }
        switch (p.route().kind()) {
            case ONE -> {
                if (!canJoin(p.route().shard())) {
                    return false;
                }
                ShardLink l = link(p.route().shard());
                if (l == null) {
                    return false;
                }
                RelayRun run = startRelay(l, null);
                l.write(describeMessage(l.channel().alloc(), 'P', d.name()));
                run.expect("Tn");
                return true;
            }
            case MULTI -> {
                if (current != null) {
                    return false;
                }
                if (!p.route().plan().read() || p.route().sessionState()) {
                    emit(simple('n'));
                    return true;
                }
                // the merged row description comes from the shards: with the Execute that follows, in one round
                ByteBuf next = inbox.size() > 1 ? secondInInbox() : null;
                if (next == null) {
                    return false; // wait for the client's next message (it always sends Sync at least)
                }
                boolean executeFollows = next.getByte(next.readerIndex()) == 'E' && executePortal(next).equals(d.name());
                if (executeFollows && executeRows(next) != 0) {
                    return extendedError(Pg.FEATURE_NOT_SUPPORTED, "fetching in batches (a fetch size) from a query on several shards is "
                            + "not supported; read it whole");
                }
                List<ShardLink> ls = links(p.route().mask());
                if (ls == null) {
                    return false;
                }
                startMulti(ls, p.route(), p.def(), p.bind(), true, executeFollows, false);
                if (executeFollows) {
                    inbox.poll().release(); // the Describe; process() consumes the Execute as this step's message
                }
                return true;
            }
            default -> {
                emit(simple('n'));
                return true;
            }
        }
    }

    private ByteBuf secondInInbox() {
        java.util.Iterator<ByteBuf> it = inbox.iterator();
        it.next();
        return it.next();
    }

    private static String executePortal(ByteBuf f) {
        return Messages.Execute.decode(f).portal();
    }

    private static int executeRows(ByteBuf f) {
        ByteBuf b = f.duplicate().skipBytes(5);
        Pg.cstring(b);
        return b.readInt();
    }

    private boolean execute(ByteBuf f) {
        String name = executePortal(f);
        Portal p = portals.get(name);
        if (p == null) {
            return extendedError("34000", "portal \"" + name + "\" does not exist");
        }
        switch (p.route().kind()) {
            case ONE -> {
                if (!canJoin(p.route().shard())) {
                    return false;
                }
                ShardLink l = link(p.route().shard());
                if (l == null) {
                    return false;
                }
                RelayRun run = startRelay(l, null);
                l.write(f.retain());
                run.expect("CIsE");
                return true;
            }
            case MULTI -> {
                if (current != null) {
                    return false;
                }
                if (p.route().plan().read() && !p.route().sessionState() && executeRows(f) != 0) {
                    return extendedError(Pg.FEATURE_NOT_SUPPORTED, "fetching in batches (a fetch size) from a query on several shards is "
                            + "not supported; read it whole");
                }
                List<ShardLink> ls = links(p.route().mask());
                if (ls == null) {
                    return false;
                }
                startMulti(ls, p.route(), p.def(), p.bind(), false, true, false);
                return true;
            }
            case LOCAL -> {
                if (!canEmit()) {
                    return false;
                }
                emit(commandComplete(runLocal(p.route())));
                return true;
            }
            default -> {
                return extendedError(Pg.FEATURE_NOT_SUPPORTED, p.route().tag());
            }
        }
    }

    private boolean close(Messages.Target c) {
        if (!canEmit()) {
            return false;
        }
        if (c.kind() == 'S') {
            StatementDef def = statements.remove(c.name());
            for (ShardLink l : links) {
                if (l != null && def != null && l.parsed.remove(c.name()) != null && l.usable() && !c.name().isEmpty()) {
                    // sent now, answered (and its CloseComplete swallowed) whenever that connection next runs
                    l.write(closeMessage(l.channel().alloc(), c.name()));
                    touched.add(l);
                }
            }
        } else {
            portals.remove(c.name());
        }
        emit(simple('3'));
        return true;
    }

    private boolean sync() {
        if (current instanceof RelayRun r && !r.syncSent() && (touched.isEmpty() || touched.size() == 1 && touched.contains(r.link))) {
            r.link.write(ScatterRead.sync(r.link.channel().alloc()));
            r.expectCycleEnd();
            r.link.flush();
            discardUntilSync = false;
            return true;
        }
        if (current != null) {
            return false;
        }
        discardUntilSync = false;
        List<ShardLink> toSync = touched.stream().filter(ShardLink::usable).toList();
        touched.clear();
        if (toSync.isEmpty()) {
            cycleEnded(null);
            return true;
        }
        for (ShardLink l : toSync) {
            l.write(ScatterRead.sync(l.channel().alloc()));
            l.flush();
        }
        current = new SyncRun(this, new LinkedHashSet<>(toSync));
        return true;
    }

    // ---- routing ----

    /** Where one execution of {@code sql} goes, with these parameter values (index 0 = $1). */
    private Route route(String sql, ShardPlan plan, List<Object> params) {
        if (plan.kind() == ShardPlan.Kind.TRANSACTION) {
            return transaction(sql, plan);
        }
        long mask;
        try {
            mask = plan.targets(shards.map(), params);
        } catch (ShardingException e) {
            return error(e.getMessage(), plan);
        }
        boolean state = plan.kind() == ShardPlan.Kind.FIXED && "session-state".equals(plan.reason());
        Route r;
        if (mask == 0) {
            r = new Route(Kind.ONE, pinned >= 0 ? pinned : anyShard(), 0, null, sql, plan, false);
        } else if (state) {
            if (inTransaction()) {
                r = pinned >= 0 ? new Route(Kind.ONE, pinned, 0, null, sql, plan, false) : heldRoute(sql, plan, "SET");
            } else {
                r = new Route(Kind.MULTI, -1, openMask(), null, sql, plan, true);
            }
        } else if (Long.bitCount(mask) == 1) {
            int s = Long.numberOfTrailingZeros(mask);
            r = pinned >= 0 && s != pinned ? error("this transaction is on shard " + shards.map().shardName(pinned) + "; the statement needs shard "
                    + shards.map().shardName(s) + " (a transaction stays on one shard: commit first, or route it by the same key)", plan)
                    : new Route(Kind.ONE, s, mask, null, sql, plan, false);
        } else if (inTransaction()) {
            r = error("a transaction stays on one shard" + (pinned >= 0 ? " (this one is on " + shards.map().shardName(pinned) + ")" : "")
                    + "; the statement needs shards " + shards.map().names(mask) + ": run it outside the transaction, or route it by the shard key", plan);
        } else if (plan.scatterError() != null || plan.read() && plan.merge() == null) {
            r = error(plan.scatterError() != null ? plan.scatterError() : "this read cannot be merged across shards", plan);
        } else {
            r = new Route(Kind.MULTI, -1, mask, null, sql, plan, false);
        }
        if (proxy.logsRoutes()) {
            routes.info("{}: {} -> {} ({})", user, sql, r.kind() == Kind.ONE ? shards.map().shardName(r.shard())
                    : r.kind() == Kind.MULTI ? shards.map().names(r.mask()) : r.kind(), plan.reason());
        }
        return r;
    }

    private Route error(String why, ShardPlan plan) {
        return new Route(Kind.ERROR, -1, 0, why, null, plan, false);
    }

    private Route heldRoute(String sql, ShardPlan plan, String tag) {
        return new Route(Kind.LOCAL, -1, 0, tag, sql, plan, false);
    }

    /** BEGIN is held until the transaction's first statement; COMMIT/ROLLBACK go to its shard (answered here when there is none). */
    private Route transaction(String sql, ShardPlan plan) {
        dev.sluice.core.sql.Classification c = router.classify(sql);
        switch (c.kind()) {
            case BEGIN, BEGIN_READ_ONLY, BEGIN_READ_WRITE -> {
                if (inTransaction()) {
                    // PostgreSQL warns and carries on; so does the shard that has the transaction
                    return pinned >= 0 ? new Route(Kind.ONE, pinned, 0, null, sql, plan, false) : heldRoute(sql, plan, "BEGIN");
                }
                return heldRoute(sql, plan, "BEGIN");
            }
            case COMMIT, ROLLBACK -> {
                if (pinned >= 0) {
                    return new Route(Kind.ONE, pinned, 0, null, sql, plan, false);
                }
                boolean prepared = sql.toUpperCase(java.util.Locale.ROOT).contains("PREPARED");
                if (!held.isEmpty() || !prepared) {
                    return heldRoute(sql, plan, c.kind() == dev.sluice.core.sql.StatementKind.COMMIT ? "COMMIT" : "ROLLBACK");
                }
                return new Route(Kind.ONE, anyShard(), 0, null, sql, plan, false);
            }
            default -> { // SAVEPOINT, RELEASE, SET TRANSACTION …
                if (pinned >= 0) {
                    return new Route(Kind.ONE, pinned, 0, null, sql, plan, false);
                }
                if (!held.isEmpty()) {
                    return heldRoute(sql, plan, firstWord(sql));
                }
                return new Route(Kind.ONE, anyShard(), 0, null, sql, plan, false);
            }
        }
    }

    private static String firstWord(String sql) {
        String s = sql.strip();
        int sp = 0;
        while (sp < s.length() && Character.isLetter(s.charAt(sp))) {
            sp++;
        }
        return s.substring(0, sp).toUpperCase(java.util.Locale.ROOT);
    }

    /** Runs a LOCAL route (held transaction control): returns its CommandComplete tag. */
    private String runLocal(Route r) {
        String tag = r.tag();
        switch (tag) {
            case "BEGIN" -> {
                if (held.isEmpty() && pinned < 0) {
                    held.add(r.sql());
                }
            }
            case "COMMIT", "ROLLBACK" -> held.clear();
            default -> held.add(r.sql());
        }
        return tag;
    }

    private boolean inTransaction() {
        return pinned >= 0 || !held.isEmpty();
    }

    /** The transaction status the client sees: the pinned shard's, or 'T' while BEGIN is held. */
    char txStatus() {
        if (pinned >= 0 && links[pinned] != null) {
            return links[pinned].txStatus;
        }
        return held.isEmpty() ? 'I' : 'T';
    }

    /** A shard for statements any shard answers: the transaction's, else the last used, else an open one, else the first. */
    private int anyShard() {
        if (pinned >= 0) {
            return pinned;
        }
        if (lastUsed >= 0 && links[lastUsed] != null && links[lastUsed].usable()) {
            return lastUsed;
        }
        for (ShardLink l : links) {
            if (l != null && l.usable()) {
                return l.shard;
            }
        }
        return 0;
    }

    private long openMask() {
        long m = 0;
        for (ShardLink l : links) {
            if (l != null && l.usable()) {
                m |= 1L << l.shard;
            }
        }
        return m == 0 ? 1 : m;
    }

    /** The links of {@code mask}, all usable; null when some are being opened (processing resumes then). */
    private List<ShardLink> links(long mask) {
        List<ShardLink> out = new ArrayList<>(Long.bitCount(mask));
        boolean missing = false;
        for (int s = 0; s < links.length; s++) {
            if ((mask & 1L << s) != 0) {
                ShardLink l = link(s);
                if (l == null) {
                    missing = true;
                } else {
                    out.add(l);
                }
            }
        }
        return missing ? null : out;
    }

    // ---- runs ----

    private boolean canJoin(int shard) {
        return current == null || current instanceof RelayRun r && r.link.shard == shard && !r.syncSent();
    }

    private boolean canEmit() {
        return current == null || current instanceof RelayRun r && !r.syncSent();
    }

    /** A frame of the session's own, after whatever the run in flight still has to relay. */
    private void emit(ByteBuf frame) {
        if (current instanceof RelayRun r) {
            r.emit(frame);
        } else {
            client.write(frame);
        }
    }

    /** The relay run on {@code l} (joined or new); a held BEGIN goes first when {@code r} starts the transaction there. */
    private RelayRun startRelay(ShardLink l, Route r) {
        RelayRun run = current instanceof RelayRun cur && cur.link == l ? cur : null;
        if (run == null) {
            run = new RelayRun(this, l);
            current = run;
        }
        if (r != null && !held.isEmpty() && pinned < 0 && r.plan() != null && r.plan().kind() != ShardPlan.Kind.ANY) {
            pinned = l.shard;
            held.forEach(l::silentQuery);
            held.clear();
        }
        touched.add(l);
        lastUsed = l.shard;
        return run;
    }

    private void startMulti(List<ShardLink> ls, Route r, StatementDef def, BindMsg bind, boolean describe, boolean execute, boolean simple) {
        ShardPlan plan = r.plan();
        if (plan.read() && !r.sessionState()) {
            ScatterRead.Request req = simple ? simpleRequest(r) : extendedRequest(r, def, bind, describe, execute);
            if (req == null) {
                return;
            }
            ScatterRead run = new ScatterRead(this, ls, plan.merge(), req, simple);
            current = run;
            run.start();
        } else {
            String sql = r.sql();
            Runnable recorded = r.sessionState() ? () -> sessionState.add(sql) : null;
            ScatterWrite run = new ScatterWrite(this, ls, sql, def == null ? new int[0] : def.paramTypes(), bind, simple, recorded);
            current = run;
            run.start();
        }
    }

    private ScatterRead.Request simpleRequest(Route r) {
        ShardPlan plan = r.plan();
        long[] lo = limits(plan, List.of());
        String sql = plan.scatterSql() != null ? plan.scatterSql() : r.sql();
        return new ScatterRead.Request(sql, new int[0], null, new int[0], List.of(), true, true, lo[0], lo[1]);
    }

    /** The shards' statement: the rewrite's ? (the computed row limit) numbered after the client's own $n parameters. */
    private ScatterRead.Request extendedRequest(Route r, StatementDef def, BindMsg bind, boolean describe, boolean execute) {
        ShardPlan plan = r.plan();
        List<Object> params = bind.routingValues(def);
        long[] lo = limits(plan, params);
        if (lo == null) {
            extendedError(Pg.FEATURE_NOT_SUPPORTED, "LIMIT/OFFSET parameter is not a number");
            return null;
        }
        int n = bind.values().length;
        String sql = plan.scatterSql() != null ? PgSql.numberPlaceholders(plan.scatterSql(), n + 1) : def.sql();
        int[] map = plan.scatterSql() != null ? plan.paramMap() : new int[0];
        int[] order = new int[n + map.length];
        int[] types = new int[n + map.length];
        List<String> extra = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            order[i] = i + 1;
            int t = def.paramType(i);
            // a parameter the rewrite no longer uses (an OFFSET) still needs a type the server accepts
            types[i] = t != 0 || PgSql.references(sql, i + 1) ? t : bind.paramBinary(i) ? 17 : PgValues.TEXT;
        }
        for (int j = 0; j < map.length; j++) {
            order[n + j] = map[j];
            types[n + j] = map[j] == 0 ? PgValues.INT8 : def.paramType(map[j] - 1);
            if (map[j] == 0) {
                extra.add(Long.toString(lo[1] < 0 ? Long.MAX_VALUE : lo[0] + lo[1]));
            }
        }
        return new ScatterRead.Request(sql, types, bind, order, extra, describe, execute, lo[0], lo[1]);
    }

    /** {offset, limit (-1: none)} of the merge with these parameters; null when a parameter is not a number. */
    private static long[] limits(ShardPlan plan, List<Object> params) {
        try {
            long offset = plan.merge().offset() == null ? 0 : number(plan.merge().offset().resolve(params), 0);
            long limit = plan.merge().limit() == null ? -1 : number(plan.merge().limit().resolve(params), -1);
            return new long[] {offset, limit};
        } catch (NumberFormatException | ArithmeticException e) {
            return null;
        }
    }

    private static long number(Object v, long ifNull) {
        if (v == null) {
            return ifNull;
        }
        return v instanceof Number n ? new java.math.BigDecimal(n.toString()).longValueExact()
                : new java.math.BigDecimal(v.toString().trim()).longValueExact();
    }

    /** Sends the Parse of {@code def} to {@code l} unless it has it (its ParseComplete is swallowed there). */
    private static void ensureParsed(ShardLink l, StatementDef def) {
        if (l.parsed.get(def.name()) == def) {
            return;
        }
        if (!def.name().isEmpty()) {
            l.write(closeMessage(l.channel().alloc(), def.name())); // it may exist there from a cycle that failed
        }
        l.write(def.parse(l.channel().alloc()));
        l.parsed.put(def.name(), def);
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
            if (link.txStatus != 'I' && pinned < 0) {
                pinned = link.shard;
            }
        }
        if (pinned >= 0 && (links[pinned] == null || links[pinned].txStatus == 'I')) {
            pinned = -1;
        }
        client.write(Pg.readyForQuery(client.alloc(), txStatus()));
    }

    @Override
    public void shardLost(ShardLink link, Throwable cause) {
        if (closed) {
            return;
        }
        links[link.shard] = null;
        touched.remove(link);
        boolean txHere = pinned == link.shard;
        if (txHere) {
            pinned = -1;
        }
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
                for (ShardLink l : links) {
                    if (l != null) {
                        l.pause(false);
                    }
                }
            }
        }
        ctx.fireChannelWritabilityChanged();
    }

    // ---- errors, cancel, close ----

    /** An error for an extended-protocol message: sent in order, and the rest of the cycle is skipped. */
    private boolean extendedError(String state, String message) {
        if (!canEmit()) {
            return false;
        }
        emit(Pg.error(client.alloc(), "ERROR", state, message));
        discardUntilSync = true;
        return true;
    }

    private void writeError(String state, String message) {
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
            client.write(Pg.readyForQuery(client.alloc(), txStatus()));
        } else {
            discardUntilSync = true;
        }
    }

    private void fatal(String state, String message) {
        client.writeAndFlush(Pg.error(client.alloc(), "FATAL", state, message)).addListener(f -> client.close());
    }

    @Override
    public void cancel() {
        client.eventLoop().execute(() -> {
            for (ShardLink l : links) {
                if (l != null) {
                    l.cancel(client.eventLoop(), proxy.channelType());
                }
            }
        });
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof DecoderException) {
            fatal(Pg.PROTOCOL_VIOLATION, cause.getMessage());
        } else {
            log.debug("{}: client connection error: {}", user, cause.toString());
            ctx.close();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closed = true;
        proxy.sessionClosed(this);
        inbox.forEach(ByteBuf::release);
        inbox.clear();
        for (ShardLink l : links) {
            if (l != null) {
                l.close();
            }
        }
    }

    // ---- messages the session writes ----

    private ByteBuf simple(char type) {
        return Unpooled.wrappedBuffer(new byte[] {(byte) type, 0, 0, 0, 4});
    }

    private ByteBuf commandComplete(String tag) {
        ByteBuf b = client.alloc().buffer(tag.length() + 6);
        int at = Pg.begin(b, 'C');
        Pg.writeCString(b, tag);
        return Pg.end(b, at);
    }

    private static ByteBuf describeMessage(ByteBufAllocator a, char kind, String name) {
        ByteBuf b = a.buffer(8 + name.length());
        int at = Pg.begin(b, 'D');
        b.writeByte(kind);
        Pg.writeCString(b, name);
        return Pg.end(b, at);
    }

    private static ByteBuf closeMessage(ByteBufAllocator a, String name) {
        return Pg.closeStatement(a, name);
    }

    private static ByteBuf flush(ByteBufAllocator a) {
        ByteBuf b = a.buffer(5);
        int at = Pg.begin(b, 'H');
        return Pg.end(b, at);
    }
}
