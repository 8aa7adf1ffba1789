package dev.sluice.proxy.pg.shard;

import dev.sluice.proxy.pg.Pg;
import io.netty.buffer.ByteBuf;
import java.util.ArrayDeque;

/**
 * Client messages relayed to one shard connection, pipelined: each sent message expects its reply (the types that
 * end it), and answers the session makes itself (a ParseComplete for a Parse it keeps, a BindComplete …) queue
 * behind the replies they follow, so the client sees everything in its own order. The shard's replies are relayed
 * as they are. After an ErrorResponse the shard skips to the next Sync, as does the session.
 */
final class RelayRun implements Run {
    /** One expected reply: the message types that end it; {@code cycleEnd}: a ReadyForQuery (Sync or simple query). */
    private record Expect(String ends, boolean cycleEnd) {
    }

    final ShardLink link;
    private final PgShardedSession session;
    private final ArrayDeque<Object> queue = new ArrayDeque<>(); // Expect, or ByteBuf: a frame of the session's own
    private boolean syncSent;

    RelayRun(PgShardedSession session, ShardLink link) {
        this.session = session;
        this.link = link;
    }

    /** A message was sent to the shard; its reply ends with one of {@code ends}. */
    void expect(String ends) {
        queue.add(new Expect(ends, false));
    }

    /** A Sync (or a simple query) was sent: its ReadyForQuery ends the cycle on this shard. */
    void expectCycleEnd() {
        syncSent = true;
        queue.add(new Expect("Z", true));
    }

    boolean syncSent() {
        return syncSent;
    }

    /** A frame of the session's own, in order behind the replies already expected. */
    void emit(ByteBuf frame) {
        if (queue.isEmpty()) {
            session.toClient(frame, link);
        } else {
            queue.add(frame);
        }
    }

    boolean complete() {
        return queue.isEmpty();
    }

    @Override
    public boolean uses(ShardLink l) {
        return l == link;
    }

    @Override
    public boolean onFrame(ShardLink l, ByteBuf frame) {
        byte t = frame.getByte(frame.readerIndex());
        if (t == 'A' || t == 'N' || t == 'S') {
            session.passive(l, frame);
            return complete();
        }
        Object head = queue.peek();
        if (!(head instanceof Expect e)) {
            session.passive(l, frame); // nothing asked for: a stray reply (logged there)
            return complete();
        }
        if (t == 'Z') {
            frame.release();
            if (e.cycleEnd()) {
                queue.poll();
                session.cycleEnded(l);
                drainEmits();
            }
            return complete();
        }
        if (t == 'E' && !e.cycleEnd()) {
            // extended protocol: the shard now skips everything up to the Sync, so the replies (and the session's own
            // answers) queued before it will not come; the session skips the client's messages up to its Sync too
            session.toClient(frame, link);
            if (!syncSent) {
                session.errorInCycle(); // else the client's Sync is already consumed: its next messages are a new cycle
            }
            while (!queue.isEmpty() && !(queue.peek() instanceof Expect x && x.cycleEnd())) {
                if (queue.poll() instanceof ByteBuf b) {
                    b.release();
                }
            }
            return complete();
        }
        if (t == 'G') {
            session.copyInStarted(l);
        }
        session.toClient(frame, link);
        if (e.ends().indexOf(t) >= 0) {
            queue.poll();
            drainEmits();
        }
        return complete();
    }

    private void drainEmits() {
        while (queue.peek() instanceof ByteBuf b) {
            queue.poll();
            session.toClient(b, link);
        }
    }

    @Override
    public boolean linkLost(ShardLink l, Throwable cause) {
        boolean cycleEnd = queue.stream().anyMatch(o -> o instanceof Expect x && x.cycleEnd());
        queue.forEach(o -> {
            if (o instanceof ByteBuf b) {
                b.release();
            }
        });
        queue.clear();
        session.toClient(Pg.error(session.alloc(), "ERROR", Pg.CONNECTION_FAILURE, "connection to shard " + l.name + " lost: "
                + cause.getMessage()), null);
        if (cycleEnd) {
            session.cycleEnded(null);
        } else {
            session.errorInCycle();
        }
        return true;
    }
}
