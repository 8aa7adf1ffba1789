package dev.sluice.proxy.pg;

import dev.sluice.proxy.net.WriteCoalescer;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;

/**
 * The backend → client side of a {@link ClientSession}'s cycle: each message of the backend running the cycle is
 * looked at where the proxy must (ParseComplete/CloseComplete it asked for itself, ParameterStatus, ErrorResponse,
 * CopyInResponse, ReadyForQuery) and otherwise relayed as it is, gathered into few writes to the client. Kept apart
 * from the session, whose concern is the order of cycles (queueing, routing, backends, transactions), because this
 * runs per reply message and is the proxy's hot path: one place, no allocation, no lookups. The session hops onto
 * its event loop and sorts out replies to its own queries and messages of idle backends ({@link #idle}) before
 * calling {@link #relay}, and ends the cycle when that returns a ReadyForQuery status. One per session, used on its
 * event loop only.
 */
final class ReplyRelay {
    private final Channel client;
    /** Backend messages relayed during the current backend read, written at its end or its ReadyForQuery. */
    private final WriteCoalescer toClient;
    private final PreparedStatements statements;
    private final ReadAgain readAgain;
    private final PgReplyCache replies;
    private final CopyInStream copyIn;
    private boolean errorInCycle;

    ReplyRelay(Channel client, PreparedStatements statements, ReadAgain readAgain, PgReplyCache replies, CopyInStream copyIn) {
        this.client = client;
        this.toClient = new WriteCoalescer(client);
        this.statements = statements;
        this.readAgain = readAgain;
        this.replies = replies;
        this.copyIn = copyIn;
    }

    /** A cycle starts: no error seen in it yet. */
    void cycleStarts() {
        errorInCycle = false;
    }

    /** Whether the backend sent an ErrorResponse during the current cycle. */
    boolean errorInCycle() {
        return errorInCycle;
    }

    /**
     * Relays message {@code frame} (type {@code t}) of {@code be}, the backend running the cycle, taking ownership
     * of it. Returns the transaction status (I/T/E) when it was the cycle's ReadyForQuery, already flushed to the
     * client; 0 otherwise.
     */
    char relay(BackendConnection be, ByteBuf frame, byte t) {
        switch (t) {
            case '1' -> {
                BackendConnection.PendingParse pp = be.parses.poll();
                if (pp != null && pp.swallow()) {
                    frame.release();
                    return 0;
                }
            }
            case '3' -> {
                if (Boolean.TRUE.equals(be.closes.poll())) {
                    frame.release();
                    return 0;
                }
            }
            case 'S' -> be.parameter(frame);
            case 'E' -> {
                errorInCycle = true;
                statements.onError(be);
                Messages.ErrorFields e = Messages.ErrorFields.decode(frame);
                if (e.severity().equals("FATAL") || e.severity().equals("PANIC")) {
                    // the backend connection ends, not the client's session: the client must not see a FATAL
                    // (its driver would drop the connection); it gets 08006 with this reason when the channel closes
                    be.fatal(e.sqlState() + " " + e.message());
                    frame.release();
                    return 0;
                }
            }
            case 'G' -> copyIn.started();
            case 'Z' -> {
                char status = (char) frame.getByte(frame.readerIndex() + 5);
                be.txStatus = status;
                toClient.add(frame);
                writeOut();
                client.flush();
                return status;
            }
            default -> { }
        }
        readAgain.answered(t);
        replies.relayed(frame);
        toClient.add(frame);
        if (!client.isWritable()) {
            // the client reads slower than the server sends (a big result): stop reading this backend until the
            // client's socket drains (channelWritabilityChanged), so the server waits instead of the proxy buffering
            be.channel().config().setAutoRead(false);
        }
        return 0;
    }

    /** Message {@code frame} (type {@code t}) of {@code be}, a held backend not running the cycle; takes ownership. */
    void idle(BackendConnection be, ByteBuf frame, byte t) {
        // a held backend spoke while not running anything: notifications reach the client
        if (t == 'A' || t == 'N') {
            writeOut();
            client.writeAndFlush(frame, client.voidPromise());
        } else {
            be.unsolicited(frame, t);
        }
    }

    /**
     * Writes (without flushing) the relayed messages gathered so far; every other write to the client comes after:
     * the session calls this before each message of its own, so none overtakes what was relayed before it.
     */
    void writeOut() {
        toClient.write();
    }

    /** The client channel is gone: drops what is gathered. */
    void release() {
        toClient.release();
    }
}
