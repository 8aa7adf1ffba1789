package dev.sluice.proxy.pg.shard;

import dev.sluice.proxy.pg.Pg;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.ArrayList;
import java.util.List;

/**
 * A RowDescription ('T'), field by field: what a merge needs to decode a shard's rows (each column's type and
 * format), and the client's RowDescription of a merged result (hidden columns dropped, AVG columns retyped).
 */
record RowDesc(List<Field> fields) {

    record Field(String name, int table, short attnum, int type, short typlen, int typmod, short format) {
        Field withType(int t, short len) {
            return new Field(name, table, attnum, t, len, -1, format);
        }
    }

    static RowDesc decode(ByteBuf frame) {
        ByteBuf b = frame.duplicate().skipBytes(5);
        int n = b.readShort();
        List<Field> fields = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            fields.add(new Field(Pg.cstring(b), b.readInt(), b.readShort(), b.readInt(), b.readShort(), b.readInt(), b.readShort()));
        }
        return new RowDesc(List.copyOf(fields));
    }

    int width() {
        return fields.size();
    }

    Field field(int i) {
        return fields.get(i);
    }

    ByteBuf encode(ByteBufAllocator a) {
        ByteBuf b = a.buffer(8 + fields.size() * 32);
        int at = Pg.begin(b, 'T');
        b.writeShort(fields.size());
        for (Field f : fields) {
            Pg.writeCString(b, f.name());
            b.writeInt(f.table());
            b.writeShort(f.attnum());
            b.writeInt(f.type());
            b.writeShort(f.typlen());
            b.writeInt(f.typmod());
            b.writeShort(f.format());
        }
        return Pg.end(b, at);
    }
}
