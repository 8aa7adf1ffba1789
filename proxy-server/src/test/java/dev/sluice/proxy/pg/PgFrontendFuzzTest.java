package dev.sluice.proxy.pg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.sluice.core.config.ClusterConfig;
import dev.sluice.core.config.Engine;
import dev.sluice.core.config.NodeConfig;
import dev.sluice.core.route.Router;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.DecoderException;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Coverage-guided fuzzing of what the proxy reads from a client before any backend sees it (docs/fuzzing.md):
 * the byte stream goes through {@link PgFrameDecoder} in an {@link EmbeddedChannel}, in chunks of a fuzzed
 * size; startup packets through {@link Messages.Startup#decode} (as {@code PgFrontend} does), typed messages
 * through {@link BatchBuilder#accept} (as {@code ClientSession} does) and the other decoders.
 *
 * <p>Findings: an exception other than the decoder's (a {@link DecoderException}, which fails the connection)
 * or {@link IllegalArgumentException} from a message decoder (a protocol error for the client); a frame not
 * released at the end (leak) or released twice; the decoder holding more than one message's worth of bytes
 * (max-message-bytes is small here); a frame shorter than its header or longer than the limit.
 *
 * <p>Input layout: the last byte is the chunk size (1-64), the rest the client's byte stream.
 */
class PgFrontendFuzzTest {
    static final int MAX_MESSAGE_BYTES = 4096;
    private static final Router ROUTER = new Router(ClusterConfig.of("fuzz", "fuzz", Engine.POSTGRESQL, "db",
            List.of(new NodeConfig("n1", "127.0.0.1", 5432, 1)), Map.of(), Map.of()));
    private static final Field CUMULATION;

    static {
        try {
            CUMULATION = ByteToMessageDecoder.class.getDeclaredField("cumulation");
            CUMULATION.setAccessible(true);
        } catch (NoSuchFieldException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Plays PgFrontend then ClientSession: startup packets until a 3.0 StartupMessage, then typed messages. */
    static final class Client extends ChannelInboundHandlerAdapter {
        final PgFrameDecoder decoder;
        final BatchBuilder batches = new BatchBuilder(ROUTER, new PreparedStatements(), new HashMap<>());
        final List<ByteBuf> frames = new ArrayList<>();
        final List<Throwable> decoderErrors = new ArrayList<>();
        Throwable unexpected;
        boolean typed;
        /**
         * The channel is closing: ByteToMessageDecoder then decodes once more ({@code decodeLast}) before it
         * hands over what it decoded, so a frame after a startup packet can come out still untyped while the
         * handler has already switched. Harmless (the client is gone); only its length check is skipped.
         */
        boolean closing;

        Client(PgFrameDecoder decoder) {
            this.decoder = decoder;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf frame = (ByteBuf) msg;
            frames.add(frame);
            try {
                int head = typed ? 5 : 4;
                assertTrue(frame.readableBytes() >= 4 && frame.readableBytes() <= MAX_MESSAGE_BYTES + 1,
                        "frame of " + frame.readableBytes() + " bytes");
                if (!closing) {
                    assertTrue(frame.readableBytes() >= head, "frame of " + frame.readableBytes() + " bytes");
                    assertEquals(frame.readableBytes() - head + 4, frame.getInt(frame.readerIndex() + head - 4), "frame length");
                } else if (frame.readableBytes() < 5) {
                    frame.release();
                    return;
                }
                if (!typed) {
                    try {
                        Messages.Startup s = Messages.Startup.decode(frame);
                        if (s.code() == Pg.PROTOCOL_3_0) {
                            typed = true;
                            decoder.typed();
                        }
                    } catch (IllegalArgumentException protocolError) {
                        // PgFrontend refuses the client with a protocol violation
                    } finally {
                        frame.release();
                    }
                    return;
                }
                byte t = frame.getByte(frame.readerIndex());
                otherDecoders(frame);
                int index = frame.readerIndex();
                Batch done;
                try {
                    done = batches.accept(frame, t);
                } catch (IllegalArgumentException protocolError) {
                    frame.release(); // ClientSession: a protocol error for the client, the frame is not kept
                    return;
                }
                assertEquals(index, frame.readerIndex(), "a decoder moved the frame's reader index");
                if (done != null) {
                    assertTrue(!done.messages.isEmpty() && done.messages.size() == done.decoded.size());
                    assertEquals(done.statements.size(), done.texts.size());
                    done.release();
                }
            } catch (Throwable e) {
                if (unexpected == null) {
                    unexpected = e;
                }
            }
        }

        /** The decoders the proxy applies to a backend's messages: bytes it reads too, so the same contract. */
        private static void otherDecoders(ByteBuf frame) {
            try {
                Messages.ErrorFields.decode(frame);
            } catch (IllegalArgumentException expected) {
                // malformed
            }
            try {
                Messages.Auth.decode(frame);
            } catch (IllegalArgumentException expected) {
                // malformed
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (cause instanceof DecoderException) {
                decoderErrors.add(cause);
            } else if (unexpected == null) {
                unexpected = cause;
            }
        }
    }

    @FuzzTest
    void clientStream(FuzzedDataProvider data) throws Exception {
        int chunk = data.consumeInt(1, 64);
        byte[] stream = data.consumeRemainingAsBytes();
        PgFrameDecoder decoder = new PgFrameDecoder(MAX_MESSAGE_BYTES, true);
        Client client = new Client(decoder);
        EmbeddedChannel ch = new EmbeddedChannel(decoder, client);
        List<ByteBuf> written = new ArrayList<>();
        try {
            for (int off = 0; off < stream.length; off += chunk) {
                ByteBuf in = Unpooled.copiedBuffer(stream, off, Math.min(chunk, stream.length - off));
                written.add(in);
                ch.writeInbound(in);
                rethrow(client.unexpected);
                ByteBuf held = (ByteBuf) CUMULATION.get(decoder);
                int heldBytes = held == null ? 0 : held.readableBytes();
                if (heldBytes > MAX_MESSAGE_BYTES + 1) {
                    fail("the decoder holds " + heldBytes + " bytes, more than one message of max-message-bytes");
                }
            }
        } finally {
            client.closing = true;
            ch.finishAndReleaseAll();
            client.batches.release();
        }
        rethrow(client.unexpected);
        assertTrue(client.decoderErrors.size() <= 1, "the decoder failed more than once: " + client.decoderErrors);
        for (ByteBuf b : written) {
            assertEquals(0, b.refCnt(), "input buffer leaked");
        }
        for (ByteBuf f : client.frames) {
            assertEquals(0, f.refCnt(), "frame leaked");
        }
    }

    private static void rethrow(Throwable t) throws Exception {
        if (t instanceof Exception e) {
            throw e;
        }
        if (t instanceof Error e) {
            throw e;
        }
    }
}
