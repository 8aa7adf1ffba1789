package dev.sluice.proxy.mysql;

import io.netty.buffer.ByteBuf;

/**
 * Follows one command's reply from a backend packet by packet, to know where it ends (the next command may
 * go) and what the final status flags say (transaction open? autocommit?). Only packet headers are looked
 * at: rows are never decoded.
 *
 * <p>The shapes (MySQL client/server protocol): a simple command answers with one OK or ERR; COM_QUERY and
 * COM_STMT_EXECUTE with OK, ERR, a LOCAL INFILE request, or a result set (column count, column definitions,
 * an EOF unless DEPRECATE_EOF, rows, then an EOF/OK terminator), several in a row while the status says
 * MORE_RESULTS; COM_STMT_PREPARE with a prepare-OK followed by parameter and column definitions (each group
 * closed by an EOF unless DEPRECATE_EOF). A row or terminator is told apart by its first byte: 0xFE with a
 * payload shorter than a full packet ends the rows, 0xFF is an error. A packet following a full 16 MB packet
 * continues it and is never interpreted.
 */
public final class ReplyTracker {
    public enum Kind { SIMPLE, RESULT, PREPARE, FIELD_LIST, RAW_ONE, FETCH }

    private enum State { FIRST, COLUMNS, COLUMNS_EOF, ROWS, PARAMS, PARAMS_EOF, PREP_COLUMNS, PREP_COLUMNS_EOF, INFILE, DONE }

    private final int caps;
    private Kind kind;
    private State state = State.DONE;
    private long remaining;
    private int prepColumns;
    private boolean continuation;
    /** Final status flags of the reply (from its last OK/EOF); -1 when it carried none (error, prepare, raw). */
    int status = -1;
    My.Err error;
    long stmtId;
    int numParams;
    int numColumns;

    /** What a finished reply said, kept apart from the tracker (which moves on to the next reply). */
    public record Outcome(int status, My.Err error, long stmtId, int numParams, int numColumns) {
    }

    public Outcome outcome() {
        return new Outcome(status, error, stmtId, numParams, numColumns);
    }

    public ReplyTracker(int caps) {
        this.caps = caps;
    }

    boolean deprecateEof() {
        return (caps & My.DEPRECATE_EOF) != 0;
    }

    public void start(Kind k) {
        kind = k;
        error = null;
        status = -1;
        continuation = false;
        state = switch (k) {
            case FIELD_LIST -> State.COLUMNS;
            case FETCH -> State.ROWS;
            default -> State.FIRST;
        };
        remaining = k == Kind.FIELD_LIST ? Long.MAX_VALUE : 0;
    }

    boolean busy() {
        return state != State.DONE;
    }

    /** True when the reply waits for the client to send a LOCAL INFILE's contents. */
    public boolean awaitingInfile() {
        return state == State.INFILE;
    }

    /** The client's file contents went (ending with an empty packet): the server answers with OK or ERR now. */
    void infileSent() {
        state = State.FIRST;
    }

    /** Takes the next packet of the reply; true when it was the last one. */
    public boolean accept(ByteBuf frame) {
        int len = My.payloadLength(frame);
        if (continuation) {
            continuation = len == My.MAX_PAYLOAD;
            return false;
        }
        continuation = len == My.MAX_PAYLOAD;
        int h = My.first(frame);
        switch (state) {
            case FIRST -> {
                if (kind == Kind.RAW_ONE) {
                    return done(-1);
                }
                if (h == 0xff) {
                    return failed(frame);
                }
                if (h == 0x00 && kind == Kind.PREPARE) {
                    ByteBuf b = frame.duplicate().skipBytes(5);
                    stmtId = b.readUnsignedIntLE();
                    numColumns = b.readUnsignedShortLE();
                    numParams = b.readUnsignedShortLE();
                    prepColumns = numColumns;
                    return prepareNext(numParams > 0 ? State.PARAMS : State.PREP_COLUMNS, numParams);
                }
                if (h == 0x00 || (h == 0xfe && len < My.MAX_PAYLOAD && kind != Kind.RESULT)) {
                    return ended(My.okStatus(frame));
                }
                if (kind == Kind.SIMPLE || kind == Kind.PREPARE) {
                    return done(-1); // whatever it is, the reply is one packet
                }
                if (h == 0xfb) {
                    state = State.INFILE;
                    return false;
                }
                remaining = My.readLenenc(frame.duplicate().skipBytes(4));
                state = State.COLUMNS;
                return false;
            }
            case COLUMNS -> {
                if (kind == Kind.FIELD_LIST) {
                    if (h == 0xff) {
                        return failed(frame);
                    }
                    if (h == 0xfe && len < My.MAX_PAYLOAD) {
                        return ended(My.okStatus(frame));
                    }
                    return false;
                }
                if (--remaining == 0) {
                    state = deprecateEof() ? State.ROWS : State.COLUMNS_EOF;
                }
                return false;
            }
            case COLUMNS_EOF -> {
                int st = My.okStatus(frame);
                if ((st & My.STATUS_CURSOR_EXISTS) != 0) {
                    return done(st); // a cursor was opened: rows come with COM_STMT_FETCH
                }
                state = State.ROWS;
                return false;
            }
            case ROWS -> {
                if (h == 0xff) {
                    return failed(frame);
                }
                if (h == 0xfe && len < My.MAX_PAYLOAD) {
                    return ended(My.okStatus(frame));
                }
                return false;
            }
            case PARAMS -> {
                return --remaining == 0 ? prepareNext(deprecateEof() ? State.PREP_COLUMNS : State.PARAMS_EOF, 0) : false;
            }
            case PARAMS_EOF -> {
                return prepareNext(State.PREP_COLUMNS, 0);
            }
            case PREP_COLUMNS -> {
                return --remaining == 0 ? prepareNext(deprecateEof() ? State.DONE : State.PREP_COLUMNS_EOF, 0) : false;
            }
            case PREP_COLUMNS_EOF -> {
                return done(-1);
            }
            case INFILE, DONE -> throw new IllegalStateException("backend sent a packet while no reply was expected"
                    + " (header 0x" + Integer.toHexString(h) + ")");
            default -> throw new IllegalStateException(state.name());
        }
    }

    /** Moves through the prepare reply's groups, skipping empty ones. */
    private boolean prepareNext(State next, int count) {
        if (next == State.PARAMS) {
            remaining = count;
            state = next;
            return false;
        }
        if (next == State.PREP_COLUMNS) {
            if (prepColumns == 0) {
                return done(-1);
            }
            remaining = prepColumns;
            state = next;
            return false;
        }
        if (next == State.DONE) {
            return done(-1);
        }
        state = next;
        return false;
    }

    private boolean ended(int st) {
        if ((st & My.STATUS_MORE_RESULTS) != 0 && kind == Kind.RESULT) {
            state = State.FIRST;
            status = st;
            return false;
        }
        return done(st);
    }

    private boolean failed(ByteBuf frame) {
        error = My.Err.decode(frame);
        state = State.DONE;
        status = -1;
        return true;
    }

    private boolean done(int st) {
        state = State.DONE;
        status = st;
        return true;
    }
}
