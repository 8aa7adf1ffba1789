package dev.sluice.proxy.mysql;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.sluice.core.config.ClusterConfig;
import dev.sluice.core.config.Engine;
import dev.sluice.core.config.NodeConfig;
import dev.sluice.core.route.Router;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.DecoderException;
import java.lang.reflect.Field;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Coverage-guided fuzzing of what the MySQL proxy reads from a client (docs/fuzzing.md): the byte stream goes
 * through {@link MyFrameDecoder} in an {@link EmbeddedChannel}, in chunks of a fuzzed size. The handler plays
 * {@code MyFrontend}, then {@code MySession}: the first packet through {@link Handshake.Response#decode} (an
 * SSL request is followed by another response, as after the TLS upgrade), the authentication exchange through
 * {@link MyClientAuth} (users with empty passwords let the fuzzer log in), then each command packet through
 * what {@code MyCommands} reads of it before anything goes to a node: {@link MyCommands#checkLength}, the
 * statement id ({@link MyStatements}), an execute's NULL bitmap and types ({@link MyStatements#carriesTypes},
 * and {@link MyStatements#addTypes} on a copy without them), {@link Handshake.ChangeUser#decode} and its
 * re-authentication, the text of COM_QUERY/COM_INIT_DB/COM_STMT_PREPARE ({@link Router#classify}). Every
 * packet also goes through the decoders the proxy applies to server packets ({@link Handshake.Greeting#decode},
 * {@link My.Err#decode}, {@link My#okStatus}, {@link My#readLenenc} and friends, {@link ReplyTracker#accept}):
 * bytes from a node are no more trusted than a client's.
 *
 * <p>Expected, so no finding: the decoder's {@link DecoderException} (at most once: the connection is closed);
 * {@link IllegalArgumentException} from a message decoder or a command check; {@link IndexOutOfBoundsException}
 * where the caller turns it into a clean ERR and a close with the packet released (the handshake response:
 * {@code MyFrontend.channelRead}'s catch and finally; COM_CHANGE_USER: {@code MyChangeUser.start}'s finally and
 * {@code MySession.drain}'s catch; the server-side decoders: {@code MyBackend}'s catch, which closes that
 * backend connection). Findings: any other exception (an index error from a command's own fields, which would
 * leak the packet); {@link MyClientAuth} throwing at all; {@link ReplyTracker#accept} saying "last packet" while
 * still busy or the reverse, or moving a packet's reader index; {@link MyStatements#addTypes} producing a packet
 * that is not the execute with its types added; a frame or input buffer not released, or released twice; a
 * frame over max-message-bytes or whose length field disagrees with its size; the decoder holding more than one
 * packet's worth of bytes after the handshake.
 *
 * <p>Input layout: the last byte is the chunk size (1-64), the rest the client's byte stream (handshake
 * response first, as on the wire after the server's greeting).
 */
class MyFrontendFuzzTest {
    static final int MAX_MESSAGE_BYTES = 4096;
    private static final Router ROUTER = new Router(ClusterConfig.of("fuzz", "fuzz", Engine.MARIADB, "db",
            List.of(new NodeConfig("n1", "127.0.0.1", 3306, 1)), Map.of(), Map.of()));
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final MyAuth.RsaKeys RSA = MyAuth.RsaKeys.generate(RANDOM);
    /**
     * app/app2 have passwords (the fuzzer gets denied); nopw/nopw2 have none (it gets in). The SHA-256-crypt
     * secrets use crypt's fewest rounds (1000), so that a full authentication costs the fuzzer less.
     */
    private static final Map<String, MyClientAuth.User> USERS = Map.of(
            "app", new MyClientAuth.User("app", MyAuth.nativeHash("app-secret")),
            "app2", new MyClientAuth.User("app2", sha2Fast("app2-secret")),
            "nopw", new MyClientAuth.User("nopw", MyAuth.nativeHash("")),
            "nopw2", new MyClientAuth.User("nopw2", sha2Fast("")));
    private static final Field CUMULATION;

    static {
        try {
            CUMULATION = ByteToMessageDecoder.class.getDeclaredField("cumulation");
            CUMULATION.setAccessible(true);
        } catch (NoSuchFieldException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    static String sha2Fast(String password) {
        String secret = org.apache.commons.codec.digest.Sha2Crypt.sha256Crypt(password.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                "$5$rounds=1000$fuzzfuzzfuzzfuzz");
        assertTrue(MyAuth.looksSha2(secret), secret);
        return secret;
    }

    private enum Phase { RESPONSE, AUTH, COMMANDS, CHANGE_USER, CLOSED }

    /** Plays MyFrontend, then MySession with MyCommands' reading of each command. */
    static final class Client extends ChannelInboundHandlerAdapter {
        final MyFrameDecoder decoder;
        final MyStatements statements = new MyStatements();
        final Map<String, byte[]> fastCache = new ConcurrentHashMap<>();
        final List<ByteBuf> frames = new ArrayList<>();
        final List<Throwable> decoderErrors = new ArrayList<>();
        ReplyTracker tracker;
        Throwable unexpected;
        Phase phase = Phase.RESPONSE;
        MyClientAuth auth;
        boolean tls;
        int caps;
        int replyKinds;
        /** The packet just read is kept (long data, until its execute, close or reset): not released by channelRead. */
        boolean keep;

        Client(MyFrameDecoder decoder) {
            this.decoder = decoder;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf frame = (ByteBuf) msg;
            frames.add(frame);
            keep = false;
            try {
                assertTrue(frame.readableBytes() >= 4 && frame.readableBytes() <= MAX_MESSAGE_BYTES + 4,
                        "frame of " + frame.readableBytes() + " bytes");
                assertEquals(frame.readableBytes() - 4, My.payloadLength(frame), "frame length");
                serverSideDecoders(frame);
                switch (phase) {
                    case RESPONSE -> response(frame);
                    case AUTH, CHANGE_USER -> step(auth.next(ByteBufUtil.getBytes(frame, frame.readerIndex() + 4, My.payloadLength(frame))));
                    case COMMANDS -> command(frame);
                    case CLOSED -> {
                        // refused or closing: nothing more is read
                    }
                }
            } catch (Throwable e) {
                if (unexpected == null) {
                    unexpected = e;
                }
            } finally {
                if (!keep) {
                    frame.release();
                }
            }
        }

        /** MyFrontend.channelRead for the first packet(s). */
        private void response(ByteBuf frame) {
            Handshake.Response r;
            try {
                r = Handshake.Response.decode(frame);
            } catch (IllegalArgumentException | IndexOutOfBoundsException refused) {
                phase = Phase.CLOSED; // ERR 1043 "Bad handshake: …" and close (MyFrontend's catch; the frame is released there)
                return;
            }
            if (r.sslRequest()) {
                if (tls) {
                    phase = Phase.CLOSED; // a second SSL request: refused
                }
                tls = true; // the next packet arrives through TLS: here, as it is
                return;
            }
            assertTrue(r.user() != null && r.authResponse() != null && r.plugin() != null, "a decoded response has its fields");
            assertFalse(r.user().contains("\0"));
            caps = r.caps() & (My.SERVER_CAPS | My.SSL);
            auth = new MyClientAuth(USERS, false, RSA, RANDOM, fastCache, "127.0.0.1");
            step(auth.start(r.user(), (r.caps() & My.PLUGIN_AUTH) != 0 ? r.plugin() : null, r.authResponse(), tls));
        }

        /** MyFrontend.next / MyChangeUser.step: what the authentication exchange says to do. */
        private void step(MyClientAuth.Step s) {
            if (s instanceof MyClientAuth.Step.Send send) {
                assertTrue(send.payload().length > 0);
                if (phase == Phase.RESPONSE) {
                    phase = Phase.AUTH;
                }
            } else if (s instanceof MyClientAuth.Step.Fail f) {
                assertTrue(f.errno() == 1045 || f.errno() == 1043, f.toString());
                phase = Phase.CLOSED;
            } else {
                MyClientAuth.Step.Ok ok = (MyClientAuth.Step.Ok) s;
                assertTrue(USERS.containsKey(ok.user()), "logged in as a configured user: " + ok.user());
                if (phase == Phase.CHANGE_USER) {
                    statements.clear(); // MyCommands.resetSession
                } else {
                    decoder.handshakeDone();
                    tracker = new ReplyTracker(caps);
                }
                phase = Phase.COMMANDS;
            }
        }

        /** MySession.drain and MyCommands.handle, up to where a command would go to a node. */
        private void command(ByteBuf frame) {
            if (My.payloadLength(frame) == My.MAX_PAYLOAD) {
                phase = Phase.CLOSED;
                return;
            }
            int c = My.first(frame);
            try {
                MyCommands.checkLength(c, frame);
            } catch (IllegalArgumentException malformed) {
                phase = Phase.CLOSED; // MySession.protocolError
                return;
            }
            int index = frame.readerIndex();
            switch (c) {
                case My.COM_QUIT -> phase = Phase.CLOSED;
                case My.COM_QUERY, My.COM_INIT_DB -> ROUTER.classify(My.text(frame));
                case My.COM_STMT_PREPARE -> {
                    String sql = My.text(frame);
                    // the node would say how many parameters; one per '?' is as good a guess as the fuzzer needs
                    int params = (int) Math.min(0xffff, sql.chars().filter(ch -> ch == '?').count());
                    statements.add(statements.newId(), sql, ROUTER.classify(sql), params, 1);
                }
                case My.COM_STMT_EXECUTE -> execute(frame);
                case My.COM_STMT_SEND_LONG_DATA -> {
                    MyStatements.Stmt st = statements.of(frame);
                    if (st != null && statements.longDataBytes() + frame.readableBytes() <= MAX_MESSAGE_BYTES) {
                        st.longDataBytes += frame.readableBytes();
                        st.longData.add(frame);
                        keep = true;
                    } else if (st != null) {
                        phase = Phase.CLOSED; // over max-message-bytes: ERR 1153 and close
                    }
                }
                case My.COM_STMT_CLOSE -> {
                    MyStatements.Stmt st = statements.of(frame);
                    if (st != null) {
                        statements.remove(st.id);
                    }
                }
                case My.COM_STMT_RESET, My.COM_STMT_FETCH -> {
                    MyStatements.Stmt st = statements.of(frame);
                    MyStatements.idIn(frame);
                    if (st != null && c == My.COM_STMT_RESET) {
                        st.releaseLongData();
                    }
                }
                case My.COM_SET_OPTION -> frame.getUnsignedShortLE(frame.readerIndex() + 5);
                case My.COM_PROCESS_KILL -> frame.getIntLE(frame.readerIndex() + 5);
                case My.COM_CHANGE_USER -> {
                    Handshake.ChangeUser change;
                    try {
                        change = Handshake.ChangeUser.decode(frame, caps);
                    } catch (IllegalArgumentException | IndexOutOfBoundsException malformed) {
                        phase = Phase.CLOSED; // MySession.drain: ERR 1043 and close (MyChangeUser.start released the packet)
                        return;
                    }
                    assertTrue(change.user() != null && change.authResponse() != null);
                    auth = new MyClientAuth(USERS, false, RSA, RANDOM, fastCache, "127.0.0.1");
                    phase = Phase.CHANGE_USER;
                    step(auth.start(change.user(), "(re-authenticate)", change.authResponse(), tls));
                }
                default -> {
                    // COM_PING, COM_RESET_CONNECTION, COM_FIELD_LIST, COM_STATISTICS: nothing read; anything else: ERR 1047
                }
            }
            assertEquals(index, frame.readerIndex(), "reading a command moved the packet's reader index");
        }

        /** MyPrepared.execute and sendExecute: the statement, its types, and the copy that gets them added. */
        private void execute(ByteBuf frame) {
            MyStatements.Stmt st = statements.of(frame);
            if (st == null) {
                return; // ERR 1243, the session goes on
            }
            boolean carries;
            try {
                carries = MyStatements.carriesTypes(st, frame);
            } catch (IllegalArgumentException malformed) {
                phase = Phase.CLOSED;
                return;
            }
            if (carries) {
                assertEquals(2 * st.numParams, st.types.length);
                return;
            }
            if (st.numParams == 0 || st.types == null) {
                return;
            }
            // a connection that has not seen the types gets them added to a copy of the execute
            ByteBuf copy = frame.copy();
            ByteBuf withTypes = MyStatements.addTypes(frame.alloc(), st, copy);
            try {
                assertEquals(0, copy.refCnt(), "addTypes releases the packet it copies");
                int bound = 4 + 10 + (st.numParams + 7) / 8;
                assertEquals(withTypes.readableBytes() - 4, My.payloadLength(withTypes), "length field of the new packet");
                assertEquals(frame.readableBytes() + st.types.length, withTypes.readableBytes());
                assertEquals(My.seq(frame), My.seq(withTypes));
                assertEquals(ByteBufUtil.hexDump(frame, frame.readerIndex() + 4, bound - 4),
                        ByteBufUtil.hexDump(withTypes, withTypes.readerIndex() + 4, bound - 4), "command, id, flags, iterations, bitmap");
                assertEquals(1, withTypes.getByte(withTypes.readerIndex() + bound), "new-params-bound");
                assertArrayEquals(st.types, ByteBufUtil.getBytes(withTypes, withTypes.readerIndex() + bound + 1, st.types.length));
                int rest = frame.readableBytes() - bound - 1;
                assertEquals(ByteBufUtil.hexDump(frame, frame.readerIndex() + bound + 1, rest),
                        ByteBufUtil.hexDump(withTypes, withTypes.readerIndex() + bound + 1 + st.types.length, rest), "the values");
            } finally {
                withTypes.release();
            }
        }

        /** The decoders the proxy applies to a node's packets: the same bytes contract as the client side's. */
        private void serverSideDecoders(ByteBuf frame) {
            int index = frame.readerIndex();
            try {
                Handshake.Greeting.decode(frame);
            } catch (IllegalArgumentException | IndexOutOfBoundsException malformed) {
                // MyBackendLogin / MyBackend: the login fails, the connection closes
            }
            int h = My.first(frame);
            try {
                if (h == 0xff) {
                    My.Err.decode(frame);
                } else if (h == 0x00 || h == 0xfe) {
                    My.okStatus(frame);
                }
            } catch (IndexOutOfBoundsException malformed) {
                // MyBackend: a protocol error from the node, that connection closes
            }
            ByteBuf payload = frame.duplicate().skipBytes(4);
            try {
                My.readLenenc(payload.duplicate());
                My.readNulString(payload.duplicate());
                My.readLenencBytes(payload);
            } catch (IllegalArgumentException | IndexOutOfBoundsException malformed) {
                // the same
            }
            if (tracker == null) {
                tracker = new ReplyTracker(My.PROTOCOL_41 | (My.seq(frame) % 2 == 0 ? My.DEPRECATE_EOF : 0));
            }
            if (!tracker.busy()) {
                ReplyTracker.Kind[] kinds = ReplyTracker.Kind.values();
                tracker.start(kinds[replyKinds++ % kinds.length]);
            }
            if (tracker.awaitingInfile()) {
                tracker.infileSent();
            }
            try {
                boolean last = tracker.accept(frame);
                assertEquals(!last, tracker.busy(), "accept() said last = " + last + " while busy() = " + tracker.busy());
            } catch (IllegalStateException | IllegalArgumentException | IndexOutOfBoundsException malformed) {
                // MyBackend: "protocol error from the node", that connection closes
                tracker = null;
            }
            assertEquals(index, frame.readerIndex(), "a decoder moved the frame's reader index");
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (cause instanceof DecoderException) {
                decoderErrors.add(cause);
                phase = Phase.CLOSED;
            } else if (unexpected == null) {
                unexpected = cause;
            }
        }
    }

    @FuzzTest
    void clientStream(FuzzedDataProvider data) throws Exception {
        int chunk = data.consumeInt(1, 64);
        byte[] stream = data.consumeRemainingAsBytes();
        MyFrameDecoder decoder = new MyFrameDecoder(MAX_MESSAGE_BYTES, true);
        Client client = new Client(decoder);
        EmbeddedChannel ch = new EmbeddedChannel(decoder, client);
        List<ByteBuf> written = new ArrayList<>();
        try {
            for (int off = 0; off < stream.length; off += chunk) {
                ByteBuf in = Unpooled.copiedBuffer(stream, off, Math.min(chunk, stream.length - off));
                written.add(in);
                ch.writeInbound(in);
                rethrow(client.unexpected);
                if (client.phase == Phase.COMMANDS || client.phase == Phase.CHANGE_USER) {
                    // during the handshake the decoder hands over one packet per read (TLS may come next), and the
                    // connection closes after the first refusal; after it, it must keep at most one packet's bytes
                    ByteBuf held = (ByteBuf) CUMULATION.get(decoder);
                    int heldBytes = held == null ? 0 : held.readableBytes();
                    if (heldBytes > MAX_MESSAGE_BYTES + 4 + chunk) {
                        fail("the decoder holds " + heldBytes + " bytes, more than one packet of max-message-bytes");
                    }
                }
            }
        } finally {
            ch.finishAndReleaseAll();
            client.statements.clear(); // MySession.channelInactive: long data released
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
