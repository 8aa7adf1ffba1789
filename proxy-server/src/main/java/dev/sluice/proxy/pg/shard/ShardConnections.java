package dev.sluice.proxy.pg.shard;

import dev.sluice.proxy.pg.PgProxy;
import dev.sluice.proxy.shard.ShardEndpoints;
import io.netty.channel.EventLoop;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The shard connections of one {@link PgShardedSession}: at most one per shard, each opened on first use on the
 * client's event loop, and the session state (SET and friends that ran on every open one) replayed on each opened
 * later, so all shards see the same settings. What a failed open means for the client is the session's call.
 */
final class ShardConnections {
    /** Logs as the session it serves. */
    private static final Logger log = LoggerFactory.getLogger(PgShardedSession.class);
    /** Distinct session-state statements kept for replay (as the one-cluster proxy's SessionState). */
    private static final int MAX_SESSION_STATE = 500;

    private final PgProxy proxy;
    private final ShardEndpoints shards;
    private final Map<String, String> startup;
    private final String user;
    private final ShardLink.Owner owner;
    private final EventLoop loop;
    private final BiConsumer<ShardLink, Throwable> openFailed;
    /** Index: shard; null where none is open. {@link ShardChooser} reads it too. */
    final ShardLink[] byShard;
    private final LinkedHashSet<String> sessionState = new LinkedHashSet<>();
    private int opening;
    private boolean closed;

    /**
     * @param startup    the client's startup settings, sent to each shard
     * @param owner      gets each connection's replies
     * @param openFailed told when a connection could not be opened or logged in to (the link only names its shard)
     */
    ShardConnections(PgProxy proxy, ShardEndpoints shards, Map<String, String> startup, String user, ShardLink.Owner owner,
                     EventLoop loop, BiConsumer<ShardLink, Throwable> openFailed) {
        this.proxy = proxy;
        this.shards = shards;
        this.startup = startup;
        this.user = user;
        this.owner = owner;
        this.loop = loop;
        this.openFailed = openFailed;
        this.byShard = new ShardLink[shards.size()];
    }

    /** True while some connection is being opened: the client's next messages wait for it. */
    boolean opening() {
        return opening > 0;
    }

    /** Opens shard {@code s}'s connection (replaying the session state there), then runs {@code then}, on failure too. */
    void open(int s, Runnable then) {
        opening++;
        ShardLink l = new ShardLink(shards, s, startup, owner);
        l.connect(loop, proxy.channelType(), proxy.maxMessageBytes(), (ok, err) -> {
            opening--;
            if (closed) {
                if (ok != null) {
                    ok.close();
                }
                return;
            }
            if (err != null) {
                openFailed.accept(l, err);
            } else {
                byShard[s] = ok;
                for (String sql : sessionState) {
                    ok.silentQuery(sql);
                }
                ok.flush();
            }
            then.run();
        });
    }

    /** The connection of shard {@code s} if it is usable; otherwise starts opening it and returns null ({@code then} runs when done). */
    ShardLink link(int s, Runnable then) {
        ShardLink l = byShard[s];
        if (l != null && l.usable()) {
            return l;
        }
        byShard[s] = null;
        open(s, then);
        return null;
    }

    /** The connections of {@code mask}, all usable; null when some are being opened ({@code then} runs as each is done). */
    List<ShardLink> links(long mask, Runnable then) {
        List<ShardLink> out = new ArrayList<>(Long.bitCount(mask));
        boolean missing = false;
        for (int s = 0; s < byShard.length; s++) {
            if ((mask & 1L << s) != 0) {
                ShardLink l = link(s, then);
                if (l == null) {
                    missing = true;
                } else {
                    out.add(l);
                }
            }
        }
        return missing ? null : out;
    }

    /** A statement that ran on every open connection, to replay on later ones: once each, latest last, bounded. */
    void recordSessionState(String sql) {
        sessionState.remove(sql);
        if (sessionState.size() >= MAX_SESSION_STATE) {
            log.warn("{}: more than {} distinct session-state statements; not replaying: {}", user, MAX_SESSION_STATE, sql);
            return;
        }
        sessionState.add(sql);
    }

    /** {@code l} is gone: the next use of its shard opens a new one. */
    void lost(ShardLink l) {
        byShard[l.shard] = null;
    }

    /** The client reads again: every connection may send again. */
    void resumeAll() {
        for (ShardLink l : byShard) {
            if (l != null) {
                l.pause(false);
            }
        }
    }

    /** Cancels what runs on each connection (the client's CancelRequest); on the event loop. */
    void cancelAll() {
        for (ShardLink l : byShard) {
            if (l != null) {
                l.cancel(loop, proxy.channelType());
            }
        }
    }

    /** The client is gone: closes every connection, and those still being opened once they are. */
    void closeAll() {
        closed = true;
        for (ShardLink l : byShard) {
            if (l != null) {
                l.close();
            }
        }
    }
}
