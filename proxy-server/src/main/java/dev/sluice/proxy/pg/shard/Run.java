package dev.sluice.proxy.pg.shard;

import io.netty.buffer.ByteBuf;

/**
 * Work the sharded session has in flight on one or more shard connections: the replies from those connections
 * go to it until it is complete. One run at a time per session; the next client message that needs other
 * connections (or an answer in order after this one) waits for it.
 */
interface Run {
    /** A reply from {@code link}, one this run uses; the run owns (releases or relays) it. True when the run is complete. */
    boolean onFrame(ShardLink link, ByteBuf frame);

    boolean uses(ShardLink link);

    /** {@code link} died under this run. True when the run is complete (it told the client). */
    boolean linkLost(ShardLink link, Throwable cause);
}
