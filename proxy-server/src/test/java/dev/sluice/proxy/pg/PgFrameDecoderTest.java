package dev.sluice.proxy.pg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PgFrameDecoderTest {
    /** Records the errors the decoder raises, as the session handler would see them. */
    static final class Errors extends ChannelInboundHandlerAdapter {
        final List<Throwable> seen = new ArrayList<>();

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            seen.add(cause);
        }
    }

    @Test
    void aCorruptFrameFailsOnceAndLaterBytesAreDropped() {
        Errors errors = new Errors();
        EmbeddedChannel ch = new EmbeddedChannel(new PgFrameDecoder(1024, false), errors);
        ByteBuf good = Unpooled.buffer().writeByte('S').writeInt(4);
        ch.writeInbound(good);
        ByteBuf frame = ch.readInbound();
        assertEquals(5, frame.readableBytes());
        frame.release();

        ch.writeInbound(Unpooled.buffer().writeByte('Q').writeInt(1 << 30).writeBytes(new byte[100]));
        // more bytes after the garbage, then the close: neither decodes (and fails) again
        ch.writeInbound(Unpooled.buffer().writeByte('S').writeInt(4));
        ch.finish();
        assertEquals(1, errors.seen.size(), errors.seen.toString());
        assertNull(ch.readInbound());
    }
}
