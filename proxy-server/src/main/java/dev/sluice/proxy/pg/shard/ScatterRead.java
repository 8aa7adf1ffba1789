package dev.sluice.proxy.pg.shard;

import dev.sluice.core.shard.MergePlan;
import dev.sluice.core.shard.MergeValues;
import dev.sluice.core.shard.StreamMerger;
import dev.sluice.proxy.pg.Messages;
import dev.sluice.proxy.pg.Pg;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A read on several shards: each runs the (rewritten) statement, and the rows are merged as they arrive by
 * router-core's {@link StreamMerger} — decoding from each wire row only the columns the merge reads
 * ({@link MergePlan#neededColumns}); rows that come out unchanged are relayed as the shard sent them (minus the
 * hidden trailing columns), grouped rows get only their aggregate columns re-encoded, in the client's format.
 * A column the merge must read but cannot (a type or format not understood) fails the statement with 0A000
 * naming it: never a guessed order.
 */
final class ScatterRead implements Run {
    /** Rows held per shard above which that shard is not read until the merge catches up. */
    private static final int PAUSE_ROWS = 1000;

    /** A DataRow as it came, and the values the merge needs (others null). */
    record WireRow(byte[] frame, Object[] values) {
    }

    /** A MIN/MAX value: compared by its decoded value, re-sent as the bytes the winning shard sent. */
    record Picked(Object value, byte[] raw) implements Comparable<Picked> {
        @Override
        public int compareTo(Picked o) {
            return MergeValues.compare(value, o.value, null, null);
        }
    }

    /** What the shards run and how the client wants it. */
    record Request(String sql, int[] paramTypes, BindMsg bind, int[] order, List<String> extra, boolean describe,
                   boolean execute, long offset, long limit) {
    }

    private final PgShardedSession session;
    private final List<ShardLink> links;
    private final MergePlan plan;
    private final Request req;
    private final boolean simple;
    private final boolean[] done;
    private StreamMerger<WireRow> merger;
    private RowDesc desc;
    private int[] needed;
    private boolean[] picked;      // 0-based columns holding MIN/MAX (their raw bytes are kept)
    private boolean[] aggregate;   // 0-based visible columns re-encoded in grouped output
    private RowDesc clientDesc;
    private ByteBuf error;
    private long rows;
    private int open;

    ScatterRead(PgShardedSession session, List<ShardLink> links, MergePlan plan, Request req, boolean simple) {
        this.session = session;
        this.links = links;
        this.plan = plan;
        this.req = req;
        this.simple = simple;
        this.done = new boolean[links.size()];
        this.open = links.size();
    }

    /** Sends the statement to every shard. */
    void start() {
        for (ShardLink l : links) {
            ByteBufAllocator a = l.channel().alloc();
            if (simple) {
                l.write(Pg.query(a, req.sql()));
            } else {
                l.parsed.remove(""); // the unnamed statement there is this one now
                l.write(Pg.parse(a, "", req.sql(), req.paramTypes()));
                int visible = req.bind().resultFormats().length;
                l.write(req.bind().rebind(a, req.order(), req.extra(), visible, plan.hiddenColumns()));
                l.write(Wire.describe(a, 'P', ""));
                if (req.execute()) {
                    l.write(Wire.execute(a));
                }
                l.write(Wire.sync(a));
            }
            l.flush();
        }
    }

    @Override
    public boolean uses(ShardLink l) {
        return links.contains(l);
    }

    @Override
    public boolean onFrame(ShardLink l, ByteBuf frame) {
        int s = links.indexOf(l);
        byte t = frame.getByte(frame.readerIndex());
        try {
            switch (t) {
                case 'T' -> rowDescription(l, frame);
                case 'D' -> {
                    if (error == null && merger != null) {
                        row(s, frame);
                    }
                }
                case 'C' -> {
                    if (merger != null) {
                        merger.end(s);
                        drain();
                    }
                }
                case 'n' -> {
                    if (req.describe() && s == 0 && error == null && clientDesc == null) {
                        session.toClient(Wire.empty('n'), null);
                        clientDesc = new RowDesc(List.of());
                    }
                }
                case 'E' -> fail(l, Messages.ErrorFields.decode(frame), frame);
                case 'Z' -> {
                    done[s] = true;
                    open--;
                }
                case 'A', 'N', 'S' -> {
                    session.passive(l, frame);
                    return false;
                }
                default -> { } // ParseComplete, BindComplete, EmptyQueryResponse: nothing for the client
            }
        } finally {
            if (t != 'A' && t != 'N' && t != 'S') {
                frame.release();
            }
        }
        flow();
        if (open > 0) {
            return false;
        }
        finish();
        return true;
    }

    private void rowDescription(ShardLink l, ByteBuf frame) {
        RowDesc d = RowDesc.decode(frame);
        if (desc != null) {
            if (d.width() != desc.width() && error == null) {
                error = Pg.error(session.alloc(), "ERROR", Pg.FEATURE_NOT_SUPPORTED, "shard " + l.name + " returned " + d.width()
                        + " columns, shard " + links.get(0).name + " " + desc.width() + ": the shards' schemas differ");
            }
            return;
        }
        desc = d;
        int width = d.width();
        if (width <= plan.hiddenColumns()) {
            error = Pg.error(session.alloc(), "ERROR", Pg.FEATURE_NOT_SUPPORTED, "the merged result has no columns to show");
            return;
        }
        needed = plan.neededColumns(width);
        picked = new boolean[width];
        aggregate = new boolean[width];
        List<RowDesc.Field> visible = new ArrayList<>(d.fields().subList(0, width - plan.hiddenColumns()));
        for (MergePlan.Aggregate a : plan.aggregates()) {
            int c = plan.resolve(a.column(), width) - 1;
            aggregate[c] = true;
            if (a.fn() == MergePlan.Fn.MIN || a.fn() == MergePlan.Fn.MAX) {
                picked[c] = true;
            } else if (a.fn() == MergePlan.Fn.AVG && c < visible.size()) {
                // the shards ran SUM under AVG's name: the client gets AVG's type (float8 for floating point, else numeric)
                int sumType = visible.get(c).type();
                boolean fp = sumType == PgValues.FLOAT4 || sumType == PgValues.FLOAT8;
                visible.set(c, visible.get(c).withType(fp ? PgValues.FLOAT8 : PgValues.NUMERIC, (short) (fp ? 8 : -1)));
            }
        }
        clientDesc = new RowDesc(List.copyOf(visible));
        long limit = req.limit();
        merger = new StreamMerger<>(plan, links.size(), width, req.offset(), limit, false, WireRow::values);
        if (req.describe() || simple) {
            session.toClient(clientDesc.encode(session.alloc()), null);
        }
        if (req.execute() || simple) {
            // a column the merge needs must be readable in the format it comes in: checked once, before any row
            for (int c : needed) {
                RowDesc.Field f = d.field(c - 1);
                if (!readable(f.type())) {
                    error = Pg.error(session.alloc(), "ERROR", Pg.FEATURE_NOT_SUPPORTED, "column " + c + " (\"" + f.name() + "\") of type "
                            + PgValues.typeName(f.type()) + (f.format() == 1 ? " in binary format" : "") + " cannot be merged across shards "
                            + "(ordering, grouping or aggregating by it needs its value); route by the shard key, or cast it to a common type");
                    return;
                }
            }
        }
    }

    private static boolean readable(int oid) {
        return switch (oid) {
            case PgValues.BOOL, PgValues.NAME, PgValues.INT8, PgValues.INT2, PgValues.INT4, PgValues.TEXT, PgValues.OID, PgValues.FLOAT4,
                 PgValues.FLOAT8, PgValues.BPCHAR, PgValues.VARCHAR, PgValues.DATE, PgValues.TIME, PgValues.TIMESTAMP, PgValues.TIMESTAMPTZ,
                 PgValues.NUMERIC -> true;
            default -> false;
        };
    }

    private void row(int s, ByteBuf frame) {
        byte[] bytes = new byte[frame.readableBytes()];
        frame.getBytes(frame.readerIndex(), bytes);
        Object[] values = new Object[desc.width()];
        int[] offsets = offsets(bytes, desc.width());
        for (int c : needed) {
            int at = offsets[c - 1];
            int len = readInt(bytes, at);
            if (len < 0) {
                continue;
            }
            RowDesc.Field f = desc.field(c - 1);
            try {
                Object v = PgValues.decode(f.type(), f.format() == 1, bytes, at + 4, len);
                values[c - 1] = picked[c - 1] ? new Picked(v, Arrays.copyOfRange(bytes, at + 4, at + 4 + len)) : v;
            } catch (PgValues.Unsupported e) {
                error = Pg.error(session.alloc(), "ERROR", Pg.FEATURE_NOT_SUPPORTED, "column " + c + " (\"" + f.name() + "\") cannot be merged "
                        + "across shards: " + e.getMessage());
                return;
            }
        }
        merger.add(s, new WireRow(bytes, values));
        drain();
    }

    /** Each column's length field position in a DataRow's bytes (type, length, count, then the columns). */
    private static int[] offsets(byte[] b, int width) {
        int[] out = new int[width];
        int at = 7;
        for (int i = 0; i < width; i++) {
            out[i] = at;
            int len = readInt(b, at);
            at += 4 + Math.max(len, 0);
        }
        return out;
    }

    private static int readInt(byte[] b, int at) {
        return (b[at] & 0xff) << 24 | (b[at + 1] & 0xff) << 16 | (b[at + 2] & 0xff) << 8 | b[at + 3] & 0xff;
    }

    private void drain() {
        if (error != null || merger == null) {
            return;
        }
        StreamMerger.Out<WireRow> out;
        while ((out = merger.poll()) != null) {
            if (!req.execute() && !simple) {
                continue;
            }
            ByteBuf b = encode(out);
            if (b == null) {
                return;
            }
            session.toClient(b, null);
            rows++;
        }
    }

    private ByteBuf encode(StreamMerger.Out<WireRow> out) {
        byte[] f = out.row().frame();
        int width = desc.width();
        int visible = width - plan.hiddenColumns();
        if (!out.changed() && visible == width) {
            return Unpooled.wrappedBuffer(f);
        }
        int[] offsets = offsets(f, width);
        ByteBuf b = session.alloc().buffer(f.length + 16);
        int at = Pg.begin(b, 'D');
        b.writeShort(visible);
        for (int c = 0; c < visible; c++) {
            if (out.changed() && aggregate[c]) {
                Object v = out.values()[c];
                byte[] raw;
                try {
                    raw = v instanceof Picked p ? p.raw() : PgValues.encode(v, clientDesc.field(c).type(), clientDesc.field(c).format() == 1);
                } catch (PgValues.Unsupported e) {
                    b.release();
                    error = Pg.error(session.alloc(), "ERROR", Pg.FEATURE_NOT_SUPPORTED, "column " + (c + 1) + " (\"" + clientDesc.field(c).name()
                            + "\"): " + e.getMessage() + "; ask for it in text format");
                    return null;
                }
                if (raw == null) {
                    b.writeInt(-1);
                } else {
                    b.writeInt(raw.length);
                    b.writeBytes(raw);
                }
            } else {
                int len = readInt(f, offsets[c]);
                b.writeBytes(f, offsets[c], 4 + Math.max(len, 0));
            }
        }
        return Pg.end(b, at);
    }

    private void fail(ShardLink l, Messages.ErrorFields e, ByteBuf frame) {
        if (error == null) {
            error = Pg.error(session.alloc(), "ERROR", e.sqlState(), "shard " + l.name + ": " + e.message());
        }
    }

    /** Pauses a shard whose rows pile up (the merge waits for another) or when the client reads slowly. */
    void flow() {
        boolean writable = session.clientWritable();
        for (int i = 0; i < links.size(); i++) {
            links.get(i).pause(!done[i] && (!writable || merger != null && merger.buffered(i) > PAUSE_ROWS));
        }
    }

    private void finish() {
        for (ShardLink l : links) {
            l.pause(false);
        }
        if (error != null) {
            session.toClient(error, null);
            error = null;
            if (!simple) {
                session.errorInCycle();
            }
        } else if (req.execute() || simple) {
            drain();
            session.toClient(Wire.commandComplete(session.alloc(), "SELECT " + rows), null);
        }
        if (simple) {
            session.cycleEnded(null);
        }
    }


    @Override
    public boolean linkLost(ShardLink l, Throwable cause) {
        int s = links.indexOf(l);
        if (error == null) {
            error = Pg.error(session.alloc(), "ERROR", Pg.CONNECTION_FAILURE, "connection to shard " + l.name + " lost: " + cause.getMessage());
        }
        if (!done[s]) {
            done[s] = true;
            open--;
        }
        if (open > 0) {
            return false;
        }
        finish();
        return true;
    }
}
