package dev.sluice.proxy.pg.shard;

import dev.sluice.proxy.pg.Messages;
import dev.sluice.proxy.pg.Pg;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.ArrayList;
import java.util.List;

/**
 * A statement that is not a merged read, run on several shards at once in autocommit: a write without a usable
 * key, a broadcast-table write, DDL, or session state (SET …). The update counts add up; an error names the
 * shard it came from and the shards where the statement did commit (each shard is its own transaction: nothing
 * is rolled back there, as with the driver: docs/sharding.md, "Transactions").
 */
final class ScatterWrite implements Run {
    private final PgShardedSession session;
    private final List<ShardLink> links;
    private final String sql;
    private final int[] paramTypes;
    private final BindMsg bind;
    private final boolean simple;
    private final Runnable onSuccess;
    private final boolean[] done;
    private final List<String> committed = new ArrayList<>();
    private final List<String> failed = new ArrayList<>();
    private String errorState;
    private String errorMessage;
    private String verb;
    private long count;
    private boolean counted;
    private int open;

    /** @param onSuccess run when every shard succeeded (session state is recorded for later connections then) */
    ScatterWrite(PgShardedSession session, List<ShardLink> links, String sql, int[] paramTypes, BindMsg bind, boolean simple, Runnable onSuccess) {
        this.session = session;
        this.links = links;
        this.sql = sql;
        this.paramTypes = paramTypes;
        this.bind = bind;
        this.simple = simple;
        this.onSuccess = onSuccess;
        this.done = new boolean[links.size()];
        this.open = links.size();
    }

    void start() {
        for (ShardLink l : links) {
            ByteBufAllocator a = l.channel().alloc();
            if (simple) {
                l.write(Pg.query(a, sql));
            } else {
                l.parsed.remove("");
                l.write(Pg.parse(a, "", sql, paramTypes));
                int[] order = new int[bind.values().length];
                for (int i = 0; i < order.length; i++) {
                    order[i] = i + 1;
                }
                l.write(bind.rebind(a, order, List.of(), bind.resultFormats().length, 0));
                l.write(Wire.execute(a));
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
        if (t == 'A' || t == 'N' || t == 'S') {
            session.passive(l, frame);
            return false;
        }
        try {
            switch (t) {
                case 'C' -> {
                    String tag = Pg.cstring(frame.duplicate().skipBytes(5));
                    committed.add(l.name);
                    add(tag);
                }
                case 'E' -> {
                    Messages.ErrorFields e = Messages.ErrorFields.decode(frame);
                    failed.add(l.name);
                    if (errorMessage == null) {
                        errorState = e.sqlState();
                        errorMessage = "shard " + l.name + ": " + e.message();
                    }
                }
                case 'Z' -> {
                    done[s] = true;
                    open--;
                }
                default -> { } // ParseComplete, BindComplete, rows of a RETURNING on one shard: not expected here
            }
        } finally {
            frame.release();
        }
        if (open > 0) {
            return false;
        }
        finish();
        return true;
    }

    /** Adds a CommandComplete tag's count ("UPDATE 3", "INSERT 0 2"); a tag without a count ("SET", "CREATE TABLE") is kept. */
    private void add(String tag) {
        int sp = tag.lastIndexOf(' ');
        if (sp > 0 && tag.substring(sp + 1).chars().allMatch(Character::isDigit) && !tag.substring(sp + 1).isEmpty()) {
            verb = tag.substring(0, sp);
            count += Long.parseLong(tag.substring(sp + 1));
            counted = true;
        } else if (verb == null) {
            verb = tag;
        }
    }

    private void finish() {
        if (errorMessage != null) {
            String where = committed.isEmpty() ? "" : "; it did run on shard" + (committed.size() > 1 ? "s " : " ") + committed
                    + " (autocommit there: not rolled back)";
            session.toClient(Pg.error(session.alloc(), "ERROR", errorState, errorMessage + where), null);
            if (!simple) {
                session.errorInCycle();
            }
        } else {
            String tag = counted ? verb + " " + count : verb == null ? "" : verb;
            session.toClient(Wire.commandComplete(session.alloc(), tag), null);
            if (onSuccess != null) {
                onSuccess.run();
            }
        }
        if (simple) {
            session.cycleEnded(null);
        }
    }

    @Override
    public boolean linkLost(ShardLink l, Throwable cause) {
        int s = links.indexOf(l);
        if (errorMessage == null) {
            errorState = Pg.CONNECTION_FAILURE;
            errorMessage = "connection to shard " + l.name + " lost: " + cause.getMessage();
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
