package dev.sluice.proxy.mysql;

import io.netty.buffer.ByteBuf;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** COM_CHANGE_USER: a new login on an open connection, then a session reset. */
final class MyChangeUser {
    private static final Logger log = LoggerFactory.getLogger(MyChangeUser.class);

    private final MySession s;
    private final MyCommands commands;
    private final MyState state;

    MyChangeUser(MySession s, MyCommands commands, MyState state) {
        this.s = s;
        this.commands = commands;
        this.state = state;
    }

    private MyClientAuth changing;
    private Handshake.ChangeUser change;

    /** True while a COM_CHANGE_USER's authentication exchange goes on: client packets go to {@link #packet}. */
    boolean active() {
        return changing != null;
    }

    /**
     * A new login on the same connection. The client's token was made over the greeting's scramble, which this
     * fresh exchange does not reuse: it always answers with an AuthSwitchRequest carrying a new scramble (the
     * protocol allows that here), so one authentication path serves logins and user changes alike.
     */
    void start(ByteBuf cmd) {
        try {
            change = Handshake.ChangeUser.decode(cmd, s.caps());
        } finally {
            cmd.release();
        }
        changing = s.proxy().newAuth(s.clientHost());
        step(changing.start(change.user(), "(re-authenticate)", change.authResponse(), s.secure()), 1);
    }

    void packet(ByteBuf frame) {
        int seq = My.seq(frame);
        byte[] payload = io.netty.buffer.ByteBufUtil.getBytes(frame, frame.readerIndex() + 4, My.payloadLength(frame));
        frame.release();
        step(changing.next(payload), seq + 1);
    }

    private void step(MyClientAuth.Step step, int seq) {
        if (step instanceof MyClientAuth.Step.Send send) {
            s.writeAndFlush(My.packet(s.client().alloc(), seq, send.payload()));
            return;
        }
        changing = null;
        if (step instanceof MyClientAuth.Step.Fail f) {
            log.info("{}: change to user {} refused: {}", s.user, change.user(), f.message());
            s.writeAndFlush(My.err(s.client().alloc(), seq, f.errno(), f.sqlState(), f.message()))
                    .addListener(x -> s.client().close()); // as MySQL: a failed change user ends the connection
            return;
        }
        MyClientAuth.Step.Ok ok = (MyClientAuth.Step.Ok) step;
        if (ok.before() != null) {
            s.write(My.packet(s.client().alloc(), seq++, ok.before()));
        }
        commands.resetSession();
        state.database = change.database() != null ? change.database() : s.proxy().database();
        s.changedUser(ok.user(), change.collation());
        s.writeAndFlush(My.ok(s.client().alloc(), seq, 0, s.statusFlags()));
    }
}
