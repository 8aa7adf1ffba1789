package dev.sluice.proxy.pg;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.TooLongFrameException;
import java.util.List;

/**
 * Splits a PostgreSQL v3 byte stream into whole messages without copying them: each output is a retained
 * slice holding the type byte, the length and the body. Before startup is done (client side only) messages
 * have no type byte (SSLRequest, CancelRequest, StartupMessage): those come out as the length + body.
 *
 * <p>A length below 4 or above the limit is protocol garbage or an attack: it fails the channel instead of
 * waiting for gigabytes that will never be sent (memory stays bounded by the limit).
 */
public final class PgFrameDecoder extends ByteToMessageDecoder {
    private final int maxMessageBytes;
    private boolean untyped;
    private boolean corrupt;

    /** @param untypedFirst true on the client side: the first messages are startup packets without a type byte */
    public PgFrameDecoder(int maxMessageBytes, boolean untypedFirst) {
        this.maxMessageBytes = maxMessageBytes;
        this.untyped = untypedFirst;
    }

    /** Startup is over: from now on every message starts with its type byte. */
    public void typed() {
        untyped = false;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (corrupt) {
            // the stream has no message boundaries any more and the connection is being closed with an
            // error: drop what arrives instead of decoding it (and failing) again when the channel closes
            in.skipBytes(in.readableBytes());
            return;
        }
        while (true) {
            int head = untyped ? 0 : 1;
            if (in.readableBytes() < head + 4) {
                return;
            }
            int start = in.readerIndex();
            int len = in.getInt(start + head);
            if (len < 4) {
                throw corrupt(in, new CorruptedFrameException("bad message length " + len
                        + (untyped ? " in startup packet" : " for message type '" + (char) in.getByte(start) + "'")));
            }
            if (len > maxMessageBytes) {
                throw corrupt(in, new TooLongFrameException("message of " + len + " bytes"
                        + (untyped ? " (startup packet)" : " (type '" + (char) in.getByte(start) + "')")
                        + " exceeds max-message-bytes " + maxMessageBytes));
            }
            if (in.readableBytes() < head + len) {
                return;
            }
            out.add(in.readRetainedSlice(head + len));
            if (untyped) {
                // one startup packet at a time: the handler decides whether what follows is typed (it may
                // also insert TLS in front of this decoder, so nothing more may be consumed here)
                return;
            }
        }
    }

    private RuntimeException corrupt(ByteBuf in, RuntimeException e) {
        corrupt = true;
        in.skipBytes(in.readableBytes());
        return e;
    }

    @Override
    public boolean isSingleDecode() {
        return untyped;
    }
}
