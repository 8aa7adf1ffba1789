package dev.sluice.proxy.pg.shard;

import dev.sluice.core.shard.ShardPlan;
import dev.sluice.proxy.pg.Pg;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * A statement the client prepared (Parse), kept by the sharded session: its text, parameter types and shard plan
 * (decided once per text; the shards are chosen per Bind), and the Parse to send to a shard before the first Bind
 * of it there. Identity matters: a name parsed again is a new definition, which each shard connection must be sent.
 *
 * @param planError why the statement cannot be routed by shard key (a ShardingException's message), or null
 */
record StatementDef(String name, String sql, int[] paramTypes, ShardPlan plan, String planError) {

    ByteBuf parse(ByteBufAllocator a) {
        return Pg.parse(a, name, sql, paramTypes);
    }

    int paramType(int i) {
        return i < paramTypes.length ? paramTypes[i] : 0;
    }
}
