package dev.sluice.proxy.pg;

import io.netty.channel.EventLoop;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The proxy's {@link ReadLane}s: up to {@code perNode} per node, event loop and session state (sessions whose state
 * differs from a fresh connection's — startup settings, SET — share lanes only with sessions in the same state, and
 * the lane is set up with it first). Opened lazily, when every open lane already has a cycle in flight; until one is
 * ready the session uses its own connection. One per proxy: two proxies in one JVM share no lane.
 */
final class ReadLanes {
    private static final Logger log = LoggerFactory.getLogger(ReadLanes.class);

    private static final int MAX_KEYS = 256;

    private record Key(EventLoop loop, String node, String setup) {
    }

    /** The lanes of one key, used on its event loop only. */
    private static final class Lanes {
        final List<ReadLane> open = new ArrayList<>(4);
        int opening;
        long lastOpenNanos; // when the last lane of this key was asked for (0: never)
    }

    /**
     * Lanes of one key are opened at most this often: a lane whose set-up fails retires at once, and reopening it for
     * every read would make the server log in again and again.
     */
    private static final long REOPEN_NANOS = 1_000_000_000L;

    private final PgProxy proxy;
    private final int perNode;
    private final int depth;
    private final Map<Key, Lanes> byKey = new ConcurrentHashMap<>();

    ReadLanes(PgProxy proxy, int perNode, int depth) {
        this.proxy = proxy;
        this.perNode = perNode;
        this.depth = depth;
    }

    /**
     * The lane of {@code node} on {@code loop} for sessions in state {@code setup} that has the fewest cycles in flight
     * and can take one more, or null (then the session runs the cycle on its own connection). Opens another lane when
     * none is idle and fewer than {@code perNode} are open. Called on {@code loop}.
     */
    ReadLane pick(EventLoop loop, String node, String setup, long now) {
        Key key = new Key(loop, node, setup);
        Lanes ls = byKey.get(key);
        if (ls == null) {
            if (byKey.size() >= MAX_KEYS) {
                return null; // sessions in this many different states: the rest use their own connections
            }
            ls = byKey.computeIfAbsent(key, k -> new Lanes());
        }
        ReadLane best = null;
        for (int i = 0; i < ls.open.size(); i++) {
            ReadLane l = ls.open.get(i);
            if (l.open(now) && (best == null || l.inFlight() < best.inFlight())) {
                best = l;
            }
        }
        if ((best == null || best.inFlight() > 0) && ls.open.size() + ls.opening < perNode
                && (ls.lastOpenNanos == 0 || now - ls.lastOpenNanos >= REOPEN_NANOS)) {
            ls.lastOpenNanos = now;
            openLane(ls, loop, node, setup);
        }
        return best;
    }

    /**
     * A lane of {@code node} that can run {@code b} now, for a session on {@code loop} in state {@code setup}, if
     * {@code b} {@link LaneMessages#fits} one; else null (the session runs it on its own connection).
     */
    ReadLane laneFor(Batch b, String node, String setup, PreparedStatements defs, EventLoop loop) {
        if (!LaneMessages.fits(b, defs)) {
            return null;
        }
        ReadLane lane = pick(loop, node, setup, System.nanoTime());
        return lane != null && lane.accepts(b, defs) ? lane : null;
    }

    private void openLane(Lanes ls, EventLoop loop, String node, String setup) {
        ls.opening++;
        proxy.pool(node).acquire(loop, (c, err) -> loop.execute(() -> {
            ls.opening--;
            if (err != null) {
                log.debug("read lane to node {} not opened: {}", node, err.getMessage());
                return;
            }
            if (c.channel().eventLoop() != loop) {
                c.resetAndRelease(true); // the pool was full and handed one of another thread: not for a lane
                return;
            }
            ls.open.add(c.lane(this, depth, setup));
            log.debug("read lane {} opened to node {} ({} open)", c.channel().localAddress(), node, ls.open.size());
        }));
    }

    /** {@code lane} closed or is retiring: no new cycle goes to it (called on its loop). */
    void remove(ReadLane lane) {
        for (Map.Entry<Key, Lanes> e : byKey.entrySet()) {
            if (e.getKey().loop() == lane.conn.channel().eventLoop()) {
                e.getValue().open.remove(lane);
            }
        }
    }

    private final java.util.concurrent.atomic.LongAdder groups = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder cycles = new java.util.concurrent.atomic.LongAdder();

    /** A lane sent a group of {@code members} cycles. */
    void sent(int members) {
        groups.increment();
        cycles.add(members);
    }

    /** Groups sent and the cycles in them, over all lanes since start. */
    long[] sent() {
        return new long[] {groups.sum(), cycles.sum()};
    }

    /** Lanes open (for tests and the status). */
    int count() {
        int n = 0;
        for (Lanes ls : byKey.values()) {
            n += ls.open.size();
        }
        return n;
    }
}
