package dev.sluice.proxy.mysql;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.TooLongFrameException;
import java.util.List;

/**
 * Splits a MySQL byte stream into packets without copying: each output is a retained slice of header +
 * payload. A logical message longer than 16 MB arrives as a chain of full packets; the chain's total is
 * held to max-message-bytes, so memory stays bounded whatever a peer claims.
 */
public final class MyFrameDecoder extends ByteToMessageDecoder {
    private final int maxMessageBytes;
    private long chain;
    private boolean corrupt;

    /** For the client side of a connection (the sharded session to an inner proxy): no TLS is started mid-stream. */
    public MyFrameDecoder(int maxMessageBytes) {
        this(maxMessageBytes, false);
    }

    MyFrameDecoder(int maxMessageBytes, boolean singleUntilHandshakeDone) {
        this.maxMessageBytes = maxMessageBytes;
        // during the handshake one packet at a time: after an SSL request TLS is put in front of this decoder,
        // so nothing that follows may be consumed here yet
        setSingleDecode(singleUntilHandshakeDone);
    }

    void handshakeDone() {
        setSingleDecode(false);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (corrupt) {
            in.skipBytes(in.readableBytes());
            return;
        }
        while (in.readableBytes() >= 4) {
            int len = in.getUnsignedMediumLE(in.readerIndex());
            if (chain + len > maxMessageBytes) {
                corrupt = true;
                in.skipBytes(in.readableBytes());
                throw new TooLongFrameException("packet of " + (chain + len) + " bytes exceeds max-message-bytes " + maxMessageBytes);
            }
            if (in.readableBytes() < 4 + len) {
                return;
            }
            chain = len == My.MAX_PAYLOAD ? chain + len : 0;
            out.add(in.readRetainedSlice(4 + len));
            if (isSingleDecode()) {
                return;
            }
        }
    }
}
