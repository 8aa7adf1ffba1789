package dev.sluice.proxy.mysql;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.ssl.SslContext;
import java.util.List;

/**
 * Watches the client's first packet on the raw byte stream. A MySQL client that wants TLS sends a 32-byte
 * SSLRequest and then its TLS ClientHello at once, without waiting for an answer, so both may arrive in one
 * read: the TLS handler must take over exactly after the request's last byte. This decoder consumes the
 * request and replaces itself with the TLS handler, which Netty hands the bytes that followed. Any other first
 * packet (a plain handshake response) goes on untouched, and this handler leaves the pipeline.
 */
final class MyTlsStart extends ByteToMessageDecoder {
    private final SslContext ssl;
    private final MyFrontend frontend;

    MyTlsStart(SslContext ssl, MyFrontend frontend) {
        this.ssl = ssl;
        this.frontend = frontend;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (in.readableBytes() < 4) {
            return;
        }
        int len = in.getUnsignedMediumLE(in.readerIndex());
        if (len == 32 && in.readableBytes() >= 8 && (in.getIntLE(in.readerIndex() + 4) & My.SSL) != 0) {
            if (in.readableBytes() < 36) {
                return;
            }
            in.skipBytes(36);
            frontend.tlsStarted();
            ctx.pipeline().replace(this, "tls", ssl.newHandler(ctx.alloc()));
            return;
        }
        ctx.pipeline().remove(this);
    }
}
