package dev.sluice.proxy.mysql.shard;

import dev.sluice.proxy.mysql.My;
import dev.sluice.proxy.mysql.MySqlProxy;
import dev.sluice.proxy.mysql.ReplyTracker;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A sharded session's connections to the shards' inner proxies, at most one per shard, opened when a statement first
 * needs the shard; and what a connection opened later must be given first: the session-state statements (SET …, in
 * the order they last ran, each text once) and the COM_SET_OPTION multi-statement switch.
 */
final class ShardLinks {
    private static final Logger log = LoggerFactory.getLogger(ShardLinks.class);
    private static final int MAX_STATE = 500;

    private final ShardedMySql shards;
    private final MySqlProxy proxy;
    private final Channel client;
    private final String user;
    private final int caps;
    private final int collation;
    private final Consumer<ShardConnection> onLost;
    private final ShardConnection[] conns;
    private final Map<String, String> state = new LinkedHashMap<>();
    private Integer option;

    ShardLinks(ShardedMySql shards, MySqlProxy proxy, Channel client, String user, int caps, int collation, Consumer<ShardConnection> onLost) {
        this.shards = shards;
        this.proxy = proxy;
        this.client = client;
        this.user = user;
        this.caps = caps;
        this.collation = collation;
        this.onLost = onLost;
        this.conns = new ShardConnection[shards.targets.size()];
    }

    ShardConnection get(int shard) {
        return conns[shard];
    }

    int size() {
        return conns.length;
    }

    /** A shard that already has a connection (else the first). */
    int anyOpen() {
        for (int i = 0; i < conns.length; i++) {
            if (conns[i] != null && conns[i].usable()) {
                return i;
            }
        }
        return 0;
    }

    /** Starts connections to the shards of {@code mask} that have none usable; empty when all are there. */
    List<CompletableFuture<ShardConnection>> openMissing(long mask) {
        List<CompletableFuture<ShardConnection>> opening = new ArrayList<>();
        for (int s : ShardedMySession.shardsOf(mask)) {
            if (conns[s] == null || !conns[s].usable()) {
                conns[s] = null;
                ShardedMySql.Target t = shards.targets.get(s);
                // the client's reply-shaping flags (DEPRECATE_EOF …), so relayed replies have the shape it expects
                int connCaps = My.BACKEND_BASE_CAPS | (caps & My.RELAY_CAPS);
                opening.add(ShardConnection.open(client.eventLoop(), proxy.channelType(), t.address(), s, t.name(), shards.user, shards.secret,
                        connCaps, collation, proxy.maxMessageBytes(), proxy.loginTimeoutMs(), this::lost));
            }
        }
        return opening;
    }

    /** A new connection is the session's for its shard: it gets the session's state first. */
    void adopt(ShardConnection c) {
        conns[c.shard] = c;
        c.readComplete = client::flush; // what was relayed goes out once the shard's batch is read
        for (String sql : state.values()) {
            c.send(My.command(client.alloc(), My.COM_QUERY, sql), c.swallow(ReplyTracker.Kind.RESULT, null));
        }
        if (option != null) {
            sendOption(c);
        }
    }

    /** A session-state statement ran on every shard: replayed on shard connections opened later. */
    void remember(String sql) {
        String key = sql.strip();
        state.remove(key);
        if (state.size() >= MAX_STATE) {
            log.warn("{}: more than {} distinct session-state statements; not replaying: {}", user, MAX_STATE, sql);
            return;
        }
        state.put(key, sql);
    }

    /** COM_SET_OPTION: every open connection now (its reply is read and dropped), later ones when opened. */
    void setOption(int value) {
        option = value;
        for (ShardConnection c : conns) {
            if (c != null && c.usable()) {
                sendOption(c);
                c.flush();
            }
        }
    }

    private void sendOption(ShardConnection c) {
        ByteBuf b = My.start(client.alloc(), 0).writeByte(My.COM_SET_OPTION).writeShortLE(option);
        c.send(My.seal(b), c.swallow(ReplyTracker.Kind.SIMPLE, null));
    }

    /** Every connection that is open, e.g. to resume reading once the client drained. */
    void forEachOpen(Consumer<ShardConnection> action) {
        for (ShardConnection c : conns) {
            if (c != null && c.channel() != null) {
                action.accept(c);
            }
        }
    }

    /** KILL QUERY of whatever this session's shard connections run, each on a connection of its own to that shard. */
    void killRunning() {
        forEachOpen(c -> {
            if (c.idle() || !c.usable()) {
                return;
            }
            ShardedMySql.Target t = shards.targets.get(c.shard);
            long inner = c.connectionId;
            ShardConnection.open(client.eventLoop(), proxy.channelType(), t.address(), c.shard, t.name(), shards.user, shards.secret,
                    My.BACKEND_BASE_CAPS, collation, proxy.maxMessageBytes(), proxy.loginTimeoutMs(), x -> { }).whenComplete((k, err) -> {
                        if (err != null) {
                            log.warn("{}: could not kill the query on shard {}: {}", user, t.name(), err.getMessage());
                            return;
                        }
                        k.send(My.command(client.alloc(), My.COM_QUERY, "KILL QUERY " + inner), k.swallow(ReplyTracker.Kind.RESULT, r -> k.close()));
                        k.flush();
                    });
        });
    }

    private void lost(ShardConnection c) {
        if (conns[c.shard] == c) {
            conns[c.shard] = null;
        }
        onLost.accept(c);
    }

    /** Closes every connection (COM_RESET_CONNECTION, the client left); {@code forget}: the session state goes too. */
    void closeAll(boolean forget) {
        for (int i = 0; i < conns.length; i++) {
            if (conns[i] != null) {
                conns[i].close();
                conns[i] = null;
            }
        }
        if (forget) {
            state.clear();
            option = null;
        }
    }
}
