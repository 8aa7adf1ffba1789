package dev.sluice.proxy.pg;

import dev.sluice.proxy.net.WriteCoalescer;
import java.util.HashMap;
import java.util.Map;

/**
 * A client's prepared statements, and keeping each backend in step with them. The client believes it
 * talks to one server; its statements may run on several. So the proxy remembers every Parse, and when a
 * Bind or Describe names a statement the chosen backend does not have (or has in an older definition),
 * it first re-creates it there and swallows the server's ParseComplete, which the client never asked for.
 * The unnamed statement is treated the same way (it lives until the next unnamed Parse or simple Query).
 */
final class PreparedStatements {
    private final Map<String, Messages.Parse> defs = new HashMap<>();
    /** Read-lane names of definitions (asked per read on a lane); pruned when it outgrows the definitions. */
    private final java.util.IdentityHashMap<Messages.Parse, String> laneNames = new java.util.IdentityHashMap<>();

    /** The client's statement {@code name} as it was prepared, or null. */
    Messages.Parse def(String name) {
        return defs.get(name);
    }

    /** {@link LaneMessages#laneName} of {@code def}, made once per definition. */
    String laneName(Messages.Parse def) {
        String n = laneNames.get(def);
        if (n == null) {
            if (laneNames.size() > 2 * defs.size() + 16) {
                laneNames.clear(); // definitions the client replaced or closed
            }
            n = LaneMessages.laneName(def);
            laneNames.put(def, n);
        }
        return n;
    }

    /** The client's Parse {@code p} failed (on a read lane): the statement does not exist. */
    void failed(Messages.Parse p) {
        defs.remove(p.name(), p);
    }

    /** The text of a statement the client prepared, or null. */
    String sql(String name) {
        Messages.Parse p = defs.get(name);
        return p == null ? null : p.sql();
    }

    /**
     * Before relaying one client message to {@code be}: creates, re-creates, closes or forgets statements
     * (and portals, in {@code portals}: portal → statement text) as the message needs.
     */
    void beforeRelay(BackendConnection be, io.netty.buffer.ByteBuf m, Object rec, WriteCoalescer out, Map<String, String> portals) {
        if (rec instanceof Messages.Parse p) {
            onParse(be, p, out);
        } else if (rec instanceof Messages.Bind bd) {
            ensure(be, bd.statement(), out);
            String text = sql(bd.statement());
            if (text != null) {
                portals.put(bd.portal(), text);
            }
        } else if (rec instanceof Messages.Target tg) {
            byte type = m.getByte(m.readerIndex());
            if (type == 'D' && tg.kind() == 'S') {
                ensure(be, tg.name(), out);
            } else if (type == 'C' && tg.kind() == 'S') {
                onClose(be, tg.name());
            } else if (type == 'C') {
                portals.remove(tg.name());
                be.closes.add(Boolean.FALSE);
            }
        } else if (rec instanceof Messages.Query) {
            onQuery(be);
        }
    }

    /** Before relaying the client's Parse to {@code be}. */
    void onParse(BackendConnection be, Messages.Parse p, WriteCoalescer out) {
        Messages.Parse there = be.prepared.get(p.name());
        if (!p.name().isEmpty() && there != null && !defs.containsKey(p.name())) {
            // the client closed this name while on another backend: drop the stale one here first
            out.add(Pg.closeStatement(out.alloc(), p.name()));
            be.closes.add(Boolean.TRUE);
        }
        defs.put(p.name(), p);
        be.prepared.put(p.name(), p);
        be.parses.add(new BackendConnection.PendingParse(p, false));
    }

    /** Before relaying a Bind or Describe of statement {@code name} to {@code be}. */
    void ensure(BackendConnection be, String name, WriteCoalescer out) {
        Messages.Parse def = defs.get(name);
        if (def == null) {
            return; // never prepared through the proxy: the server gives the client its own error
        }
        Messages.Parse there = be.prepared.get(name);
        if (there == def) {
            return;
        }
        if (there != null && !name.isEmpty()) {
            out.add(Pg.closeStatement(out.alloc(), name));
            be.closes.add(Boolean.TRUE);
        }
        out.add(Pg.parse(out.alloc(), name, def.sql(), def.paramTypes()));
        be.prepared.put(name, def);
        be.parses.add(new BackendConnection.PendingParse(def, true));
    }

    /** Before relaying the client's Close of a statement. */
    void onClose(BackendConnection be, String name) {
        defs.remove(name);
        be.prepared.remove(name);
        be.closes.add(Boolean.FALSE);
    }

    /** A simple Query destroys the unnamed statement (on that backend, and so for the client). */
    void onQuery(BackendConnection be) {
        defs.remove("");
        be.prepared.remove("");
    }

    /**
     * The backend reported an error: it skips everything up to Sync, so the Parses still waiting for their
     * ParseComplete never happened. Forget them, so they are re-created when next needed.
     */
    void onError(BackendConnection be) {
        for (BackendConnection.PendingParse pp : be.parses) {
            String name = pp.def().name();
            if (be.prepared.get(name) == pp.def()) {
                be.prepared.remove(name);
            }
            if (!pp.swallow() && defs.get(name) == pp.def()) {
                defs.remove(name); // the client's own Parse failed: the statement does not exist
            }
        }
        be.parses.clear();
        be.closes.clear();
    }

    /** The parameter types a statement was prepared with, or null when the proxy never saw it prepared. */
    int[] paramTypes(String name) {
        Messages.Parse p = defs.get(name);
        return p == null ? null : p.paramTypes();
    }

    /**
     * A cached reply answered the client's Parse without any backend: the client has the statement now, so
     * later Binds find it and {@link #ensure} creates it on whichever backend they go to.
     */
    void defined(Messages.Parse p) {
        defs.put(p.name(), p);
    }

    /** A cached reply answered a simple Query: for the client it destroyed the unnamed statement. */
    void clientQuery() {
        defs.remove("");
    }
}
