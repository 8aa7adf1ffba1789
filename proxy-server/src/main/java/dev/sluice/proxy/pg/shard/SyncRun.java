package dev.sluice.proxy.pg.shard;

import io.netty.buffer.ByteBuf;
import java.util.HashSet;
import java.util.Set;

/** The client's Sync, sent to every shard connection its cycle touched: one ReadyForQuery for the client once all answered. */
final class SyncRun implements Run {
    private final PgShardedSession session;
    private final Set<ShardLink> waiting;

    SyncRun(PgShardedSession session, Set<ShardLink> links) {
        this.session = session;
        this.waiting = new HashSet<>(links);
    }

    @Override
    public boolean uses(ShardLink l) {
        return waiting.contains(l);
    }

    @Override
    public boolean onFrame(ShardLink l, ByteBuf frame) {
        byte t = frame.getByte(frame.readerIndex());
        if (t == 'Z') {
            frame.release();
            waiting.remove(l);
            if (waiting.isEmpty()) {
                session.cycleEnded(l);
                return true;
            }
            return false;
        }
        if (t == 'E') {
            session.toClient(frame, l); // e.g. the implicit transaction's commit failed at the Sync
        } else {
            session.passive(l, frame);
        }
        return false;
    }

    @Override
    public boolean linkLost(ShardLink l, Throwable cause) {
        waiting.remove(l);
        if (waiting.isEmpty()) {
            session.cycleEnded(null);
            return true;
        }
        return false;
    }
}
