package dev.sluice.proxy.mysql;

import dev.sluice.core.cache.CacheSession;
import dev.sluice.core.route.Router;
import dev.sluice.core.route.Session;
import dev.sluice.core.sql.Classification;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The read cache (docs/cache.md) in one MySQL client session. A COM_QUERY, or a COM_STMT_EXECUTE without a
 * cursor or long data, that is a cacheable read is looked up before it is routed: a hit is answered here with
 * the reply packets relayed for it last time (sequence numbers 1..n, as the reply to any command), and no
 * backend is involved; a miss runs as usual while its packets are copied, and is stored when the reply ends
 * without error, outside a transaction, with autocommit on. The key holds the text, the session's database,
 * reply-shaping capabilities and collation, and for an execute its parameter types and values. Everything
 * runs on the client's event loop.
 */
final class MyReplyCache {
    private static final int SESSION_STATE_CHANGED = 0x4000;

    private final CacheSession cache;
    private final MySession s;
    private final MyState state;
    private final int maxResultBytes;
    private CacheSession.Lookup armed; // set by serve() for the command about to run, taken by track()

    MyReplyCache(Router router, Session session, MySession s, MyState state) {
        this.cache = new CacheSession(router.readCache(), session);
        this.s = s;
        this.state = state;
        this.maxResultBytes = router.config().cacheMaxResultBytes();
    }

    /** The cluster has the cache on: only then is a command's key worth computing. */
    boolean enabled() {
        return cache.enabled();
    }

    /** The key part of an execute: its parameter types and values; null when it must not be cached. */
    static Object executeKey(MyStatements.Stmt st, ByteBuf exec) {
        int r = exec.readerIndex();
        if (exec.getByte(r + 9) != 0 || !st.longData.isEmpty()) {
            return null; // a cursor (rows come by COM_STMT_FETCH) or long data: not a one-reply read
        }
        if (st.numParams == 0) {
            return ByteBuffer.wrap(new byte[0]);
        }
        int nulls = (st.numParams + 7) / 8;
        int bound = r + 4 + 10 + nulls;
        int values = bound + 1 + (exec.getByte(bound) == 1 ? 2 * st.numParams : 0);
        byte[] types = st.types == null ? new byte[0] : st.types; // values mean what the last types sent said
        byte[] key = new byte[types.length + nulls + (exec.writerIndex() - values)];
        System.arraycopy(types, 0, key, 0, types.length);
        exec.getBytes(bound - nulls, key, types.length, nulls);
        exec.getBytes(values, key, types.length + nulls, exec.writerIndex() - values);
        return ByteBuffer.wrap(key);
    }

    /**
     * Before {@code cmd} (the text {@code sql}; {@code st} the statement of a COM_STMT_EXECUTE, null for a
     * COM_QUERY) is routed: answers a hit to the client and releases {@code cmd} (true), or arms the copy of a
     * miss's reply for {@link #track} (false).
     */
    boolean serve(ByteBuf cmd, String sql, Classification c, MyStatements.Stmt st) {
        armed = null;
        if (!cache.enabled() || c.kind() != dev.sluice.core.sql.StatementKind.READ) {
            return false;
        }
        boolean execute = st != null;
        Object params = execute ? executeKey(st, cmd) : null;
        if (execute && params == null) {
            return false;
        }
        MySqlProxy.PoolKey pk = s.poolKey();
        cache.context("user", s.user);
        cache.context("database", state.database);
        cache.context("protocol", (execute ? "binary" : "text") + ",caps=" + pk.caps() + ",collation=" + pk.collation()
                + ",option=" + state.option);
        CacheSession.Lookup l = cache.lookup(sql, c, params);
        if (l == null) {
            return false;
        }
        if (!l.isHit()) {
            armed = l;
            return false;
        }
        cmd.release();
        s.writeAndFlush(Unpooled.wrappedBuffer((byte[]) l.hit())); // shared, never written to
        return true;
    }

    /** The command {@link #serve} armed is about to run: {@code r} with its reply copied and stored at its end. */
    MyCommands.Running track(MyCommands.Running r) {
        CacheSession.Lookup l = armed;
        armed = null;
        if (l == null) {
            return r;
        }
        return new MyCommands.Running() {
            private byte[] reply = new byte[256];
            private int length;
            private boolean spoiled;

            @Override
            public void onPacket(ByteBuf frame) {
                r.onPacket(frame);
                int n = frame.readableBytes();
                if (spoiled || length + n > maxResultBytes || My.first(frame) == 0xfb) {
                    spoiled = true; // too big, or a LOCAL INFILE request: not for the cache
                    reply = null;
                    return;
                }
                if (length + n > reply.length) {
                    reply = Arrays.copyOf(reply, Math.max(length + n, 2 * reply.length));
                }
                frame.getBytes(frame.readerIndex(), reply, length, n);
                length += n;
            }

            @Override
            public void done(MyBackend be, ReplyTracker.Outcome o) {
                int st = o.status();
                if (!spoiled && o.error() == null && st >= 0 && (st & My.STATUS_IN_TRANS) == 0 && (st & My.STATUS_AUTOCOMMIT) != 0
                        && (st & SESSION_STATE_CHANGED) == 0) {
                    cache.store(l, be.node, Arrays.copyOf(reply, length), length);
                }
                r.done(be, o);
            }
        };
    }

    /** A routed statement's reply ended (with or without error): its writes become pending. */
    void ran(Classification c, String sql) {
        cache.ran(c, sql);
    }

    /** A COM_STMT_EXECUTE ended: as {@link #ran}, and session state it set (not replayable as text) ends caching. */
    void ranExecute(dev.sluice.core.route.RouteDecision d, String sql) {
        if (d.allConnections()) {
            cache.sessionState(null);
        }
        cache.ran(d.classification(), sql);
    }

    /** After the reply's status flags were applied: outside a transaction, pending writes have committed. */
    void settled(boolean inTransaction) {
        cache.settled(inTransaction);
    }

    /** SET and friends ran (and will be replayed): part of every later key. */
    void sessionState(String sql) {
        cache.sessionState(sql);
    }

    /** COM_RESET_CONNECTION / COM_CHANGE_USER. */
    void reset() {
        cache.reset();
    }
}
