package dev.sluice.proxy.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** A decoder's complaint goes to the client as a protocol error; any other failure just closes. */
class ClientErrorsTest {
    private final List<String> protocolErrors = new ArrayList<>();

    private EmbeddedChannel session() {
        return new EmbeddedChannel(new ChannelInboundHandlerAdapter() {
            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                ClientErrors.exceptionCaught(ctx, cause, LoggerFactory.getLogger(ClientErrorsTest.class), "alice",
                        protocolErrors::add);
            }
        });
    }

    @Test
    void aDecoderErrorIsAnsweredWithItsMessageAndLeftToTheSessionToClose() {
        EmbeddedChannel ch = session();
        ch.pipeline().fireExceptionCaught(new DecoderException("frame length 2147483647 exceeds the limit"));
        assertEquals(List.of("frame length 2147483647 exceeds the limit"), protocolErrors);
        assertTrue(ch.isOpen(), "the protocol error must get out before the session closes");
    }

    @Test
    void anyOtherErrorClosesWithoutAnswering() {
        EmbeddedChannel ch = session();
        ch.pipeline().fireExceptionCaught(new IOException("Connection reset by peer"));
        assertEquals(List.of(), protocolErrors);
        assertFalse(ch.isOpen());
    }
}
