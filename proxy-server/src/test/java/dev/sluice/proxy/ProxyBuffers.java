package dev.sluice.proxy;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetric;
import io.netty.buffer.ByteBufAllocatorMetricProvider;

/**
 * How much memory the proxy holds in buffers, for tests that check a slow client cannot make it take in a
 * whole result: the proxy runs in the test's JVM and its channels use Netty's default allocator.
 */
public final class ProxyBuffers {
    private ProxyBuffers() {
    }

    /** Bytes in use in Netty's default allocator (direct and heap). */
    public static long usedBytes() {
        ByteBufAllocatorMetric m = ((ByteBufAllocatorMetricProvider) ByteBufAllocator.DEFAULT).metric();
        return m.usedDirectMemory() + m.usedHeapMemory();
    }
}
