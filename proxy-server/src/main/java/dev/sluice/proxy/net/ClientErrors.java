package dev.sluice.proxy.net;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.DecoderException;
import java.util.function.Consumer;
import org.slf4j.Logger;

/**
 * How a logged-in client session (PostgreSQL or MySQL, plain or sharded) answers an exception from its pipeline.
 * Bytes its frame decoder rejected are the client's fault: it is told so with a protocol error, so a confused
 * driver learns why it is cut off. Anything else (a reset, a failed write) means the connection is gone: it is
 * closed and logged at debug only, as clients vanish all the time. The login handlers keep their own rule,
 * since they must also tell a failed TLS handshake apart.
 */
public final class ClientErrors {
    private ClientErrors() {
    }

    /**
     * @param log           the session's logger, so the line keeps its class's category
     * @param user          who the session is logged in as, for the log line
     * @param protocolError sends the client a protocol error with the decoder's message and closes
     */
    public static void exceptionCaught(ChannelHandlerContext ctx, Throwable cause, Logger log, String user,
                                       Consumer<String> protocolError) {
        if (cause instanceof DecoderException) {
            protocolError.accept(cause.getMessage());
        } else {
            log.debug("{}: client connection error: {}", user, cause.toString());
            ctx.close();
        }
    }
}
