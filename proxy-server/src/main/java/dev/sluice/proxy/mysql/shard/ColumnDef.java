package dev.sluice.proxy.mysql.shard;

import dev.sluice.proxy.mysql.My;
import io.netty.buffer.ByteBuf;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;

/**
 * The parts of a ColumnDefinition41 packet the merge needs: the column's type, flags, character set and
 * decimals (how its values are laid out in text and binary rows, and how a re-encoded value is written).
 */
record ColumnDef(int charset, int type, int flags, int decimals) {
    static final int DECIMAL = 0;
    static final int TINY = 1;
    static final int SHORT = 2;
    static final int LONG = 3;
    static final int FLOAT = 4;
    static final int DOUBLE = 5;
    static final int NULL = 6;
    static final int TIMESTAMP = 7;
    static final int LONGLONG = 8;
    static final int INT24 = 9;
    static final int DATE = 10;
    static final int TIME = 11;
    static final int DATETIME = 12;
    static final int YEAR = 13;
    static final int NEWDATE = 14;
    static final int BIT = 16;
    static final int TIMESTAMP2 = 17;
    static final int DATETIME2 = 18;
    static final int TIME2 = 19;
    static final int NEWDECIMAL = 246;

    static final int UNSIGNED_FLAG = 0x20;
    /** The {@code binary} character set: the value is bytes, not text. */
    static final int BINARY_CHARSET = 63;

    /** How a value is laid out in a binary-protocol row. */
    enum Layout { NONE, FIXED, TEMPORAL, LENENC }

    /** Decodes a column definition packet (frame with its 4-byte header). */
    static ColumnDef decode(ByteBuf frame) {
        ByteBuf b = frame.duplicate().skipBytes(4);
        for (int i = 0; i < 6; i++) { // catalog, schema, table, org_table, name, org_name
            long n = My.readLenenc(b);
            b.skipBytes((int) Math.max(0, n));
        }
        My.readLenenc(b); // length of the fixed fields (0x0c)
        int charset = b.readUnsignedShortLE();
        b.skipBytes(4); // column length
        int type = b.readUnsignedByte();
        int flags = b.readUnsignedShortLE();
        int decimals = b.readUnsignedByte();
        return new ColumnDef(charset, type, flags, decimals);
    }

    boolean unsigned() {
        return (flags & UNSIGNED_FLAG) != 0;
    }

    boolean integer() {
        return type == TINY || type == SHORT || type == LONG || type == INT24 || type == LONGLONG || type == YEAR;
    }

    boolean decimal() {
        return type == DECIMAL || type == NEWDECIMAL;
    }

    boolean floating() {
        return type == FLOAT || type == DOUBLE;
    }

    boolean date() {
        return type == DATE || type == NEWDATE;
    }

    boolean dateTime() {
        return type == DATETIME || type == TIMESTAMP || type == DATETIME2 || type == TIMESTAMP2;
    }

    boolean time() {
        return type == TIME || type == TIME2;
    }

    /** Bytes (binary character set, BIT or GEOMETRY) rather than text. */
    boolean bytes() {
        return charset == BINARY_CHARSET && !integer() && !decimal() && !floating() && !date() && !dateTime() && !time()
                || type == BIT || type == 255;
    }

    /**
     * The Java character set of this column's text: latin1 for the latin1 collations, UTF-8 otherwise (utf8mb3 and
     * utf8mb4, and what Sluice assumes of the rest: strings are compared by collation weights, not decoded text).
     */
    Charset javaCharset() {
        return switch (charset) {
            case 5, 8, 15, 31, 47, 48, 49, 94 -> StandardCharsets.ISO_8859_1;
            default -> StandardCharsets.UTF_8;
        };
    }

    Layout layout() {
        if (type == NULL) {
            return Layout.NONE;
        }
        if (integer() || floating()) {
            return Layout.FIXED;
        }
        if (date() || dateTime() || time()) {
            return Layout.TEMPORAL;
        }
        return Layout.LENENC;
    }

    /** Width of a FIXED value in a binary row. */
    int fixedWidth() {
        return switch (type) {
            case TINY -> 1;
            case SHORT, YEAR -> 2;
            case LONG, INT24, FLOAT -> 4;
            default -> 8;
        };
    }
}
