package dev.sluice.proxy.pg.shard;

import dev.sluice.core.shard.ShardPlan;
import dev.sluice.core.shard.ShardingException;
import dev.sluice.proxy.pg.Messages;
import dev.sluice.proxy.pg.Pg;
import io.netty.buffer.ByteBuf;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * The extended query protocol of a sharded session. The session answers Parse itself (it keeps the statement,
 * planned once by its text) and chooses the shards at each Bind from the parameter values; a statement reaches a
 * shard as a Parse just before its first Bind there. A Bind to one shard is relayed, with what follows it for the
 * same portal; a Bind to several is answered here and the portal runs at its Execute as a scatter (with the
 * Describe before it, in the same round). Each method returns false when the message must wait for the run in
 * flight (nothing changed then).
 */
final class ExtendedProtocol {
    /** A bound portal: where its executions go. */
    private record Portal(StatementDef def, BindMsg bind, Route route) {
    }

    private final PgShardedSession s;
    private final Map<String, StatementDef> statements = new HashMap<>();
    private final Map<String, Portal> portals = new HashMap<>();

    ExtendedProtocol(PgShardedSession session) {
        this.s = session;
    }


    boolean parse(Messages.Parse p) {
        if (!s.canEmit()) {
            return false;
        }
        ShardPlan plan = null;
        String err = null;
        try {
            plan = s.router.plan(p.sql());
        } catch (ShardingException e) {
            err = e.getMessage();
        }
        statements.put(p.name(), new StatementDef(p.name(), p.sql(), p.paramTypes(), plan, err));
        s.emit(Wire.empty('1'));
        return true;
    }

    boolean bind(ByteBuf f) {
        BindMsg b = BindMsg.decode(f);
        StatementDef def = statements.get(b.statement());
        if (def == null) {
            return s.extendedError("26000", "prepared statement \"" + b.statement() + "\" does not exist");
        }
        if (def.planError() != null) {
            return s.extendedError(Pg.FEATURE_NOT_SUPPORTED, def.planError());
        }
        Route r = s.chooser.route(def.sql(), def.plan(), b.routingValues(def));
        switch (r.kind()) {
            case ERROR -> {
                return s.extendedError(Pg.FEATURE_NOT_SUPPORTED, r.tag());
            }
            case ONE -> {
                if (!s.canJoin(r.shard())) {
                    return false;
                }
                ShardLink l = s.link(r.shard());
                if (l == null) {
                    return false;
                }
                RelayRun run = s.startRelay(l, r);
                ensureParsed(l, def);
                l.write(f.retain());
                run.expect("2");
                portals.put(b.portal(), new Portal(def, b, r));
                return true;
            }
            default -> { // LOCAL, MULTI: answered here; the work happens at Describe/Execute
                if (!s.canEmit()) {
                    return false;
                }
                portals.put(b.portal(), new Portal(def, b, r));
                s.emit(Wire.empty('2'));
                return true;
            }
        }
    }

    boolean describe(Messages.Target d) {
        if (d.kind() == 'S') {
            StatementDef def = statements.get(d.name());
            if (def == null) {
                return s.extendedError("26000", "prepared statement \"" + d.name() + "\" does not exist");
            }
            int shard = s.chooser.pinned() >= 0 ? s.chooser.pinned() : s.current instanceof RelayRun r ? r.link.shard : s.chooser.anyShard();
            if (!s.canJoin(shard)) {
                return false;
            }
            ShardLink l = s.link(shard);
            if (l == null) {
                return false;
            }
            RelayRun run = s.startRelay(l, null);
            ensureParsed(l, def);
            l.write(Wire.describe(l.channel().alloc(), 'S', d.name()));
            run.expect("Tn");
            return true;
        }
        Portal p = portals.get(d.name());
        if (p == null) {
            return s.extendedError("34000", "portal \"" + d.name() + "\" does not exist");
        }
        switch (p.route().kind()) {
            case ONE -> {
                if (!s.canJoin(p.route().shard())) {
                    return false;
                }
                ShardLink l = s.link(p.route().shard());
                if (l == null) {
                    return false;
                }
                RelayRun run = s.startRelay(l, null);
                l.write(Wire.describe(l.channel().alloc(), 'P', d.name()));
                run.expect("Tn");
                return true;
            }
            case MULTI -> {
                if (s.current != null) {
                    return false;
                }
                if (!p.route().plan().read() || p.route().sessionState()) {
                    s.emit(Wire.empty('n'));
                    return true;
                }
                // the merged row description comes from the shards: with the Execute that follows, in one round
                ByteBuf next = s.inbox.size() > 1 ? secondInInbox() : null;
                if (next == null) {
                    return false; // wait for the client's next message (it always sends Sync at least)
                }
                boolean executeFollows = next.getByte(next.readerIndex()) == 'E' && executePortal(next).equals(d.name());
                if (executeFollows && executeRows(next) != 0) {
                    return s.extendedError(Pg.FEATURE_NOT_SUPPORTED, "fetching in batches (a fetch size) from a query on several shards is "
                            + "not supported; read it whole");
                }
                List<ShardLink> ls = s.links(p.route().mask());
                if (ls == null) {
                    return false;
                }
                s.startMulti(ls, p.route(), p.def(), p.bind(), true, executeFollows, false);
                if (executeFollows) {
                    s.inbox.poll().release(); // the Describe; process() consumes the Execute as this step's message
                }
                return true;
            }
            default -> {
                s.emit(Wire.empty('n'));
                return true;
            }
        }
    }

    private ByteBuf secondInInbox() {
        java.util.Iterator<ByteBuf> it = s.inbox.iterator();
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

    boolean execute(ByteBuf f) {
        String name = executePortal(f);
        Portal p = portals.get(name);
        if (p == null) {
            return s.extendedError("34000", "portal \"" + name + "\" does not exist");
        }
        switch (p.route().kind()) {
            case ONE -> {
                if (!s.canJoin(p.route().shard())) {
                    return false;
                }
                ShardLink l = s.link(p.route().shard());
                if (l == null) {
                    return false;
                }
                RelayRun run = s.startRelay(l, null);
                l.write(f.retain());
                run.expect("CIsE");
                return true;
            }
            case MULTI -> {
                if (s.current != null) {
                    return false;
                }
                if (p.route().plan().read() && !p.route().sessionState() && executeRows(f) != 0) {
                    return s.extendedError(Pg.FEATURE_NOT_SUPPORTED, "fetching in batches (a fetch size) from a query on several shards is "
                            + "not supported; read it whole");
                }
                List<ShardLink> ls = s.links(p.route().mask());
                if (ls == null) {
                    return false;
                }
                s.startMulti(ls, p.route(), p.def(), p.bind(), false, true, false);
                return true;
            }
            case LOCAL -> {
                if (!s.canEmit()) {
                    return false;
                }
                s.emit(Wire.commandComplete(s.alloc(), s.chooser.runLocal(p.route())));
                return true;
            }
            default -> {
                return s.extendedError(Pg.FEATURE_NOT_SUPPORTED, p.route().tag());
            }
        }
    }

    boolean close(Messages.Target c) {
        if (!s.canEmit()) {
            return false;
        }
        if (c.kind() == 'S') {
            StatementDef def = statements.remove(c.name());
            for (ShardLink l : s.connections.byShard) {
                if (l != null && def != null && l.parsed.remove(c.name()) != null && l.usable() && !c.name().isEmpty()) {
                    // sent now, answered (and its CloseComplete swallowed) whenever that connection next runs
                    l.write(Pg.closeStatement(l.channel().alloc(), c.name()));
                    s.touched.add(l);
                }
            }
        } else {
            portals.remove(c.name());
        }
        s.emit(Wire.empty('3'));
        return true;
    }

    boolean sync() {
        if (s.current instanceof RelayRun r && !r.syncSent() && (s.touched.isEmpty() || s.touched.size() == 1 && s.touched.contains(r.link))) {
            r.link.write(Wire.sync(r.link.channel().alloc()));
            r.expectCycleEnd();
            r.link.flush();
            s.discardUntilSync = false;
            return true;
        }
        if (s.current != null) {
            return false;
        }
        s.discardUntilSync = false;
        List<ShardLink> toSync = s.touched.stream().filter(ShardLink::usable).toList();
        s.touched.clear();
        if (toSync.isEmpty()) {
            s.cycleEnded(null);
            return true;
        }
        for (ShardLink l : toSync) {
            l.write(Wire.sync(l.channel().alloc()));
            l.flush();
        }
        s.current = new SyncRun(s, new LinkedHashSet<>(toSync));
        return true;
    }

    /** Sends the Parse of {@code def} to {@code l} unless it has it (its ParseComplete is swallowed there). */
    static void ensureParsed(ShardLink l, StatementDef def) {
        if (l.parsed.get(def.name()) == def) {
            return;
        }
        if (!def.name().isEmpty()) {
            l.write(Pg.closeStatement(l.channel().alloc(), def.name())); // it may exist there from a cycle that failed
        }
        l.write(def.parse(l.channel().alloc()));
        l.parsed.put(def.name(), def);
    }
}
