package dev.sluice.proxy.pg;

import dev.sluice.core.cache.CacheSession;
import dev.sluice.core.route.RouteDecision;
import dev.sluice.core.route.Router;
import dev.sluice.core.route.Session;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The read cache (docs/cache.md) in one PostgreSQL client session. A cycle that is one cacheable read — a
 * simple Query, or an extended-protocol batch {@code [Parse] Bind [Describe] Execute Sync} — is looked up
 * before it is routed: a hit is answered here with the backend messages the proxy relayed for it last time
 * (everything up to ReadyForQuery) and a ReadyForQuery('I') of its own, and no backend is involved; a miss
 * runs as usual while the messages relayed to the client are copied, and stored when the cycle ends without
 * error outside a transaction. The key holds the statement text and, for the extended protocol, the message
 * shape, the parameter types and the Bind's values and formats. Everything runs on the client's event loop.
 */
final class PgReplyCache {
    /** Message types a cacheable reply may consist of; anything else (an error, a notification, COPY) spoils it. */
    private static final String REPLY_TYPES = "TDCIN12nts";

    private final CacheSession cache;
    private final PreparedStatements statements;
    private final int maxResultBytes;
    private CacheSession.Lookup miss; // the cycle in flight is a cacheable miss: its reply is being copied
    private byte[] reply = new byte[0];
    private int replyLength;
    private boolean spoiled;

    PgReplyCache(Router router, Session session, String user, Map<String, String> startupSettings, PreparedStatements statements) {
        this.cache = new CacheSession(router.readCache(), session);
        this.statements = statements;
        this.maxResultBytes = router.config().cacheMaxResultBytes();
        cache.context("user", user);
        cache.context("database", router.config().database());
        cache.context("startup", new TreeMap<>(startupSettings).toString()); // client_encoding, DateStyle, TimeZone …
    }

    /**
     * Before a batch that starts a cycle is routed: answers a cache hit to {@code client} (and releases the
     * batch: true), or arms the copy of a cacheable miss's reply (false), or does nothing (false).
     */
    boolean serve(Batch b, Channel client) {
        miss = null;
        if (!cache.enabled() || !b.endsCycle || b.statements.size() != 1 || b.texts.get(0) == null
                || b.statements.get(0).kind() != dev.sluice.core.sql.StatementKind.READ) {
            return false;
        }
        Object params = b.messages.size() == 1 && b.decoded.get(0) instanceof Messages.Query ? null : extendedKey(b);
        if (params == NOT_CACHEABLE) {
            return false;
        }
        CacheSession.Lookup l = cache.lookup(b.texts.get(0), b.statements.get(0), params);
        if (l == null) {
            return false;
        }
        if (!l.isHit()) {
            miss = l;
            replyLength = 0;
            spoiled = false;
            return false;
        }
        byte[] r = (byte[]) l.hit();
        for (Object rec : b.decoded) {
            if (rec instanceof Messages.Parse p) {
                statements.defined(p); // the client now has this statement: a later Bind must find it
            } else if (rec instanceof Messages.Query) {
                statements.clientQuery(); // a simple Query destroys the unnamed statement
            }
        }
        b.release();
        client.write(Unpooled.wrappedBuffer(r)); // shared, never written to: Netty only reads it
        client.writeAndFlush(Pg.readyForQuery(client.alloc(), 'I'));
        return true;
    }

    private static final Object NOT_CACHEABLE = new Object();
    /** The extended-protocol cycles cached: one execution, prepared in the same cycle or before. */
    private static final java.util.regex.Pattern CACHEABLE_SHAPE = java.util.regex.Pattern.compile("P?BD?ES");

    /**
     * The key part of an extended-protocol batch: its message shape, the statement's parameter types, the
     * Bind after its names (formats, values, result formats), Describe's target kind, Execute's row limit.
     * Names are left out: S_1 in one session is S_7 in another.
     */
    private Object extendedKey(Batch b) {
        StringBuilder shape = new StringBuilder();
        java.io.ByteArrayOutputStream key = new java.io.ByteArrayOutputStream(64 + b.bytes);
        String stmt = null;
        for (int i = 0; i < b.messages.size(); i++) {
            ByteBuf m = b.messages.get(i);
            byte t = m.getByte(m.readerIndex());
            shape.append((char) t);
            Object rec = b.decoded.get(i);
            if (rec instanceof Messages.Parse p) {
                types(key, p.paramTypes());
            } else if (rec instanceof Messages.Bind bd) {
                stmt = bd.statement();
                int body = m.readerIndex() + 5 + utf8Length(bd.portal()) + 1 + utf8Length(bd.statement()) + 1;
                key.write('B');
                byte[] rest = new byte[m.writerIndex() - body];
                m.getBytes(body, rest);
                key.writeBytes(rest);
            } else if (rec instanceof Messages.Target tg && t == 'D') {
                key.write('D');
                key.write(tg.kind());
            } else if (rec instanceof Messages.Execute) {
                key.write('E');
                types(key, new int[] {m.getInt(m.writerIndex() - 4)}); // the row limit
            } else if (t != 'S') {
                return NOT_CACHEABLE; // Close, a second Query, FunctionCall …
            }
        }
        if (!CACHEABLE_SHAPE.matcher(shape).matches()) {
            return NOT_CACHEABLE;
        }
        if (shape.charAt(0) != 'P' && stmt != null) {
            int[] types = statements.paramTypes(stmt);
            if (types == null) {
                return NOT_CACHEABLE; // not prepared through the proxy: let the server answer
            }
            types(key, types);
        }
        key.writeBytes(shape.toString().getBytes(StandardCharsets.US_ASCII));
        return ByteBuffer.wrap(key.toByteArray());
    }

    private static void types(java.io.ByteArrayOutputStream out, int[] values) {
        out.write('P');
        int[] all = new int[values.length + 1];
        all[0] = values.length;
        System.arraycopy(values, 0, all, 1, values.length);
        for (int v : all) {
            out.write(v >>> 24);
            out.write(v >>> 16);
            out.write(v >>> 8);
            out.write(v);
        }
    }

    private static int utf8Length(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }

    /** A message of the active backend, on its way to the client: copied while a miss is armed. */
    void relayed(ByteBuf frame) {
        if (miss == null || spoiled) {
            return;
        }
        int n = frame.readableBytes();
        if (REPLY_TYPES.indexOf(frame.getByte(frame.readerIndex())) < 0 || replyLength + n > maxResultBytes) {
            spoiled = true; // an error, a notification, COPY … or too big: not for the cache
            reply = new byte[0];
            return;
        }
        if (replyLength + n > reply.length) {
            reply = Arrays.copyOf(reply, Math.max(replyLength + n, 2 * reply.length));
        }
        frame.getBytes(frame.readerIndex(), reply, replyLength, n);
        replyLength += n;
    }

    /**
     * The cycle ended with ReadyForQuery({@code status}) on {@code node}: an armed miss is stored, and what ran
     * is reported — writes invalidate once the session is outside a transaction.
     */
    void cycleDone(String node, char status, boolean error, List<RouteDecision> decisions, List<String> texts) {
        if (miss != null && !spoiled && !error && status == 'I') {
            cache.store(miss, node, Arrays.copyOf(reply, replyLength), replyLength);
        }
        miss = null;
        if (reply.length > 64 * 1024) {
            reply = new byte[0]; // do not keep a big buffer per idle client
        }
        if (!cache.enabled()) {
            return;
        }
        for (int i = 0; i < decisions.size(); i++) {
            cache.ran(decisions.get(i).classification(), texts.get(i));
        }
        cache.settled(status != 'I');
    }

    /** SET and friends ran (and will be replayed): part of every later key. */
    void sessionState(String sql) {
        cache.sessionState(sql);
    }
}
