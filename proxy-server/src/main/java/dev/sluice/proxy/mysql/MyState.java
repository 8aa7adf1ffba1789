package dev.sluice.proxy.mysql;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a client set up in its session that a backend connection opened later must be given too: the current
 * database (COM_INIT_DB / USE), session-state statements (SET NAMES, SET SESSION …, in order, each text once)
 * and the COM_SET_OPTION multi-statement switch.
 */
final class MyState {
    private static final int MAX_STATEMENTS = 500;

    String database;
    Integer option;
    private final Map<String, String> statements = new LinkedHashMap<>();

    MyState(String database) {
        this.database = database;
    }

    /** Remembers a session-state statement; false when there are too many distinct ones to replay. */
    boolean record(String sql) {
        String key = sql.strip();
        statements.remove(key); // moved to the end: the latest SET of a variable wins on replay
        if (statements.size() >= MAX_STATEMENTS) {
            return false;
        }
        statements.put(key, sql);
        return true;
    }

    void clear(String loginDatabase) {
        database = loginDatabase;
        option = null;
        statements.clear();
    }

    /** Sends what {@code be} lacks of this state, ahead of the command about to go to it (the replies are swallowed). */
    void bringUp(MyBackend be) {
        io.netty.buffer.ByteBufAllocator alloc = be.channel().alloc();
        if (database != null && !database.equals(be.database)) {
            be.send(My.command(alloc, My.COM_INIT_DB, database), ReplyTracker.Kind.SIMPLE, true, null);
            be.database = database;
        }
        for (String sql : statements.values()) {
            be.send(My.command(alloc, My.COM_QUERY, sql), ReplyTracker.Kind.RESULT, true, null);
        }
        if (option != null) {
            io.netty.buffer.ByteBuf b = My.start(alloc, 0).writeByte(My.COM_SET_OPTION).writeShortLE(option);
            be.send(My.seal(b), ReplyTracker.Kind.SIMPLE, true, null);
        }
    }
}
