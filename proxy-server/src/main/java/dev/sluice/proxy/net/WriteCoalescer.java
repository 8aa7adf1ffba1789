package dev.sluice.proxy.net;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;

/**
 * Gathers the small messages bound for one channel into one buffer, so that a burst (a reply's 3-4 messages, a
 * client's Bind/Execute/Sync) goes down the pipeline and out of the socket as one write, not one per message:
 * each pipeline write costs an outbound-buffer entry and an iovec, which for a point select's tiny messages is
 * more than copying their bytes. Messages of {@link #MAX_BYTES} or more (rows of a big result, COPY data) are
 * written as they are. Used by one thread at a time (the owning session's event loop); nothing is sent until
 * {@link #write} (plus a flush).
 */
public final class WriteCoalescer {
    public static final int MAX_BYTES = 8192;

    private final Channel ch;
    private ByteBuf gathered;

    public WriteCoalescer(Channel ch) {
        this.ch = ch;
    }

    public ByteBufAllocator alloc() {
        return ch.alloc();
    }

    /** Queues {@code m} after what is gathered; takes ownership of it. */
    public void add(ByteBuf m) {
        int n = m.readableBytes();
        if (n >= MAX_BYTES) {
            write();
            ch.write(m, ch.voidPromise());
            return;
        }
        if (gathered != null && gathered.maxWritableBytes() < n) {
            write();
        }
        if (gathered == null) {
            gathered = ch.alloc().ioBuffer(Math.min(MAX_BYTES, Math.max(256, 2 * n)), MAX_BYTES);
        }
        gathered.writeBytes(m);
        m.release();
    }

    /** Writes (without flushing) what is gathered. No listener: a failed write reaches exceptionCaught, which closes. */
    public void write() {
        ByteBuf g = gathered;
        if (g != null) {
            gathered = null;
            ch.write(g, ch.voidPromise());
        }
    }

    /** The channel is gone: drops what is gathered. */
    public void release() {
        if (gathered != null) {
            gathered.release();
            gathered = null;
        }
    }
}
