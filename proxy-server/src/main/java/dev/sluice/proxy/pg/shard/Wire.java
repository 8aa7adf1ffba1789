package dev.sluice.proxy.pg.shard;

import dev.sluice.proxy.pg.Pg;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;

/** The protocol messages the sharded session writes itself, to the client or to a shard. */
final class Wire {
    private Wire() {
    }

    /** A message with no body: ParseComplete '1', BindComplete '2', CloseComplete '3', NoData 'n'. */
    static ByteBuf empty(char type) {
        return Unpooled.wrappedBuffer(new byte[] {(byte) type, 0, 0, 0, 4});
    }

    static ByteBuf commandComplete(ByteBufAllocator a, String tag) {
        ByteBuf b = a.buffer(tag.length() + 6);
        int at = Pg.begin(b, 'C');
        Pg.writeCString(b, tag);
        return Pg.end(b, at);
    }

    /** Describe of a statement ('S') or portal ('P'). */
    static ByteBuf describe(ByteBufAllocator a, char kind, String name) {
        ByteBuf b = a.buffer(8 + name.length());
        int at = Pg.begin(b, 'D');
        b.writeByte(kind);
        Pg.writeCString(b, name);
        return Pg.end(b, at);
    }

    /** Execute of the unnamed portal, all rows. */
    static ByteBuf execute(ByteBufAllocator a) {
        ByteBuf b = a.buffer(12);
        int at = Pg.begin(b, 'E');
        b.writeByte(0);
        b.writeInt(0);
        return Pg.end(b, at);
    }

    static ByteBuf sync(ByteBufAllocator a) {
        ByteBuf b = a.buffer(5);
        int at = Pg.begin(b, 'S');
        return Pg.end(b, at);
    }

    static ByteBuf flush(ByteBufAllocator a) {
        ByteBuf b = a.buffer(5);
        int at = Pg.begin(b, 'H');
        return Pg.end(b, at);
    }
}
