package dev.sluice.proxy.mysql.shard;

import dev.sluice.core.shard.MergePlan;
import dev.sluice.core.shard.StreamMerger;
import dev.sluice.core.shard.ValueRef;
import dev.sluice.proxy.mysql.My;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.List;

/**
 * One read running on several shards, merged into one result set for the client with router-core's
 * {@link StreamMerger}. Each shard's reply is read packet by packet: its column count and definitions (the first
 * shard's definitions are what the client gets, without the hidden trailing columns the rewrite added), then
 * its rows, of which only the columns the merge compares or combines are decoded ({@code neededColumns}); rows
 * go out as they came (minus hidden columns), and a merged group gets its aggregate columns re-encoded. Packets
 * are renumbered for the client. A shard with many rows waiting is not read until the merge has taken them.
 */
final class Scatter {
    private static final int PAUSE_ABOVE = 2000;
    private static final int RESUME_BELOW = 500;

    /** A row as the merge holds it: its packet (header included) copied off the network buffer, and its decoded values. */
    record Row(byte[] packet, Object[] values) {
    }

    private enum State { COUNT, COLUMNS, COLUMNS_EOF, ROWS, DONE }

    private final ShardedMySession s;
    private final MergePlan plan;
    private final int[] shards;
    private final boolean binary;
    private final long offset;
    private final long limit;
    private final State[] state;
    private final long[] remaining;
    private final ColumnDef[][] defs;
    private final ShardConnection[] conns;
    private List<ByteBuf> header;      // the first shard's column definition packets, for the client
    private int headerFrom = -1;
    private int width = -1;
    private boolean[] needed;
    private boolean[] aggregate;
    private StreamMerger<Row> merger;
    private boolean headerSent;
    private boolean failed;
    private int open;
    private int seq;

    /** {@code [offset, limit]} of the merge with these parameters (limit -1: none). */
    static long[] window(MergePlan plan, List<?> params) {
        return new long[] {plan.offset() == null ? 0 : number(plan.offset(), params, "OFFSET"),
            plan.limit() == null ? -1 : number(plan.limit(), params, "LIMIT")};
    }

    private static long number(ValueRef ref, List<?> params, String what) {
        Object v = ref.resolve(params);
        if (v instanceof Number n) {
            return Math.max(0, n.longValue());
        }
        if (v instanceof String str) {
            return Math.max(0, Long.parseLong(str.trim()));
        }
        throw new dev.sluice.core.shard.ShardingException(what + " across shards needs a number, got " + v);
    }

    Scatter(ShardedMySession s, MergePlan plan, int[] shards, boolean binary, long offset, long limit) {
        this.s = s;
        this.plan = plan;
        this.shards = shards;
        this.binary = binary;
        this.offset = offset;
        this.limit = limit;
        this.state = new State[shards.length];
        this.remaining = new long[shards.length];
        this.defs = new ColumnDef[shards.length][];
        this.conns = new ShardConnection[shards.length];
        java.util.Arrays.fill(state, State.COUNT);
        this.open = shards.length;
        this.seq = s.lastSeq() + 1;
    }

    private int position(int shard) {
        for (int i = 0; i < shards.length; i++) {
            if (shards[i] == shard) {
                return i;
            }
        }
        throw new IllegalArgumentException("shard " + shard + " is not part of this read");
    }

    /** The reply of {@code shard}. */
    ShardConnection.Reply reply(int shard) {
        int k = position(shard);
        return new ShardConnection.Reply() {
            @Override
            public boolean packet(ShardConnection c, ByteBuf frame) {
                conns[k] = c;
                try {
                    return Scatter.this.packet(k, c, frame);
                } finally {
                    frame.release();
                }
            }

            @Override
            public void lost(ShardConnection c, Throwable cause) {
                if (state[k] != State.DONE) {
                    state[k] = State.DONE;
                    fail(new My.Err(My.ER_CONNECTION_LOST, "08S01", "Lost connection to shard " + c.name + ": " + cause.getMessage()));
                    ended();
                }
            }
        };
    }

    /** The statement could not be sent to {@code shard} (its prepare failed there). */
    void failed(int shard, My.Err e) {
        int k = position(shard);
        state[k] = State.DONE;
        fail(e);
        ended();
    }

    private boolean packet(int k, ShardConnection c, ByteBuf frame) {
        int len = My.payloadLength(frame);
        int h = My.first(frame);
        String name = c.name;
        switch (state[k]) {
            case COUNT -> {
                if (h == 0xff) {
                    My.Err e = My.Err.decode(frame);
                    fail(new My.Err(e.code(), e.sqlState(), "shard " + name + ": " + e.message()));
                    return done(k);
                }
                if (h == 0x00 || h == 0xfe || h == 0xfb) {
                    if (h == 0x00 || h == 0xfe) {
                        s.noteStatus(c, My.okStatus(frame));
                    }
                    fail(new My.Err(1105, "HY000", "shard " + name + " answered a read without a result set"));
                    return h != 0xfb ? done(k) : false;
                }
                long n = My.readLenenc(frame.duplicate().skipBytes(4));
                remaining[k] = n;
                defs[k] = new ColumnDef[(int) n];
                if (width < 0) {
                    width = (int) n;
                } else if (width != n) {
                    fail(new My.Err(1105, "HY000", "shards answered with different column counts (" + width + " and " + n + " on shard " + name + ")"));
                }
                if (headerFrom < 0) {
                    headerFrom = k;
                    header = new ArrayList<>((int) n);
                }
                state[k] = State.COLUMNS;
                return false;
            }
            case COLUMNS -> {
                int i = defs[k].length - (int) remaining[k];
                defs[k][i] = ColumnDef.decode(frame);
                if (k == headerFrom) {
                    header.add(frame.retainedDuplicate());
                }
                if (--remaining[k] == 0) {
                    state[k] = s.deprecateEof() ? State.ROWS : State.COLUMNS_EOF;
                    if (state[k] == State.ROWS) {
                        columnsDone();
                    }
                }
                return false;
            }
            case COLUMNS_EOF -> {
                state[k] = State.ROWS;
                columnsDone();
                return false;
            }
            case ROWS -> {
                if (h == 0xff) {
                    My.Err e = My.Err.decode(frame);
                    fail(new My.Err(e.code(), e.sqlState(), "shard " + name + ": " + e.message()));
                    return done(k);
                }
                if (h == 0xfe && len < My.MAX_PAYLOAD) {
                    int st = My.okStatus(frame);
                    s.noteStatus(c, st);
                    if ((st & My.STATUS_MORE_RESULTS) != 0) {
                        fail(new My.Err(My.ER_NOT_SUPPORTED, ShardedMySession.NOT_SUPPORTED,
                                "Sluice: several result sets from one statement cannot be merged across shards"));
                    }
                    if (merger != null && !failed) {
                        merger.end(k);
                    }
                    return done(k);
                }
                if (len == My.MAX_PAYLOAD) {
                    fail(new My.Err(My.ER_NOT_SUPPORTED, ShardedMySession.NOT_SUPPORTED,
                            "Sluice: a row of 16 MB or more cannot be merged across shards"));
                    return false;
                }
                if (failed || merger == null) {
                    return false;
                }
                byte[] packet = ByteBufUtil.getBytes(frame, frame.readerIndex(), frame.readableBytes());
                Object[] values = binary ? RowCodec.decodeBinary(frame, defs[k], needed) : RowCodec.decodeText(frame, defs[k], needed);
                merger.add(k, new Row(packet, values));
                if (merger.buffered(k) > PAUSE_ABOVE) {
                    c.channel().config().setAutoRead(false); // the merge waits for other shards: stop reading this one
                }
                emit();
                return false;
            }
            default -> throw new IllegalStateException("a packet after shard " + name + "'s reply ended");
        }
    }

    /** A shard's column definitions are complete: the merge can start once the width is known. */
    private void columnsDone() {
        if (merger != null || failed) {
            maybeHeader();
            return;
        }
        needed = new boolean[width];
        for (int c : plan.neededColumns(width)) {
            needed[c - 1] = true;
        }
        aggregate = new boolean[width];
        for (MergePlan.Aggregate a : plan.aggregates()) {
            aggregate[plan.resolve(a.column(), width) - 1] = true;
        }
        merger = new StreamMerger<>(plan, shards.length, width, offset, limit, true, Row::values);
        maybeHeader();
    }

    /** True for a visible column that is an AVG of exact numbers (its value is re-encoded at the input scale + 4). */
    private boolean avgDecimal(int i) {
        ColumnDef c = defs[headerFrom][i];
        if (c.type() != ColumnDef.NEWDECIMAL && c.type() != ColumnDef.DECIMAL) {
            return false;
        }
        for (MergePlan.Aggregate a : plan.aggregates()) {
            if (a.fn() == MergePlan.Fn.AVG && plan.resolve(a.column(), width) - 1 == i) {
                return true;
            }
        }
        return false;
    }

    /** Once every shard has its columns (none failed), the client gets the result's header. */
    private void maybeHeader() {
        if (headerSent || failed) {
            return;
        }
        for (State st : state) {
            if (st == State.COUNT || st == State.COLUMNS || st == State.COLUMNS_EOF) {
                return;
            }
        }
        int visible = merger.visibleColumns();
        ByteBuf count = My.start(s.client.alloc(), seq++);
        My.writeLenenc(count, visible);
        s.client.write(My.seal(count));
        for (int i = 0; i < visible; i++) {
            ByteBuf d = header.get(i).retainedDuplicate();
            d.setByte(d.readerIndex() + 3, seq++);
            if (avgDecimal(i)) {
                // the shards ran SUM for this AVG: the client gets AVG's own scale, input + div_precision_increment
                // (4), as one server says it (the decimals byte is the last before the 2-byte filler)
                int at = d.writerIndex() - 3;
                d.setByte(at, Math.min(d.getUnsignedByte(at) + 4, 38));
            }
            s.client.write(d);
        }
        releaseHeader();
        if (!s.deprecateEof()) {
            s.client.write(My.seal(My.start(s.client.alloc(), seq++).writeByte(0xfe).writeShortLE(0).writeShortLE(s.statusFlags())));
        }
        headerSent = true;
    }

    /** Writes every row the merge can give now. */
    private void emit() {
        if (!headerSent || failed) {
            return;
        }
        int visible = merger.visibleColumns();
        StreamMerger.Out<Row> o;
        boolean wrote = false;
        while ((o = merger.poll()) != null) {
            ByteBuf frame = Unpooled.wrappedBuffer(o.row().packet());
            ByteBuf out;
            if (o.changed()) {
                ColumnDef[] cols = defs[headerFrom];
                out = binary ? RowCodec.reencodeBinary(s.client.alloc(), frame, cols, visible, o.values(), aggregate)
                        : RowCodec.reencodeText(s.client.alloc(), frame, cols, visible, o.values(), aggregate);
            } else {
                out = binary ? RowCodec.truncateBinary(s.client.alloc(), frame, defs[headerFrom], visible) : RowCodec.truncateText(frame, visible, width);
            }
            out.setByte(out.readerIndex() + 3, seq++);
            s.client.write(out);
            wrote = true;
        }
        if (wrote) {
            s.client.flush();
        }
        if (!s.client.isWritable()) {
            // the client reads slower than the shards send: stop reading them until its socket drains (the session
            // resumes every shard connection in channelWritabilityChanged), so the proxy does not buffer the result
            for (ShardConnection c : conns) {
                if (c != null && c.channel() != null) {
                    c.channel().config().setAutoRead(false);
                }
            }
            return;
        }
        for (int k = 0; k < shards.length; k++) {
            if (conns[k] != null && state[k] == State.ROWS && merger.buffered(k) < RESUME_BELOW && !conns[k].channel().config().isAutoRead()
                    && s.client.isWritable()) {
                conns[k].channel().config().setAutoRead(true);
            }
        }
    }

    private boolean done(int k) {
        state[k] = State.DONE;
        if (!failed && merger != null) {
            maybeHeader();
            emit();
        }
        ended();
        return true;
    }

    /** A shard failed: the client gets that error (in place of the result, or ending it), and the rest is read and dropped. */
    private void fail(My.Err e) {
        if (failed) {
            return;
        }
        failed = true;
        releaseHeader();
        s.client.writeAndFlush(My.err(s.client.alloc(), seq++, e.code(), e.sqlState(), e.message()));
        for (ShardConnection c : conns) {
            if (c != null && c.channel() != null) {
                c.channel().config().setAutoRead(true);
            }
        }
    }

    private void releaseHeader() {
        if (header != null) {
            header.forEach(ByteBuf::release);
            header = null;
        }
    }

    /** One shard's reply ended; after the last, the client gets the terminator and the session goes on. */
    private void ended() {
        if (--open > 0) {
            return;
        }
        if (!failed) {
            maybeHeader();
            emit();
            if (s.deprecateEof()) {
                s.client.write(My.seal(My.start(s.client.alloc(), seq++).writeByte(0xfe).writeByte(0).writeByte(0)
                        .writeShortLE(s.statusFlags()).writeShortLE(0)));
            } else {
                s.client.write(My.seal(My.start(s.client.alloc(), seq++).writeByte(0xfe).writeShortLE(0).writeShortLE(s.statusFlags())));
            }
            s.client.flush();
        }
        s.finish();
    }
}
