package dev.sluice.proxy.pg;

import com.ongres.scram.client.ScramClient;
import com.ongres.scram.common.StringPreparation;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;

/**
 * Logs in to a backend as the cluster's configured user: trust, cleartext, md5 or SCRAM-SHA-256 (the
 * SCRAM exchange is the ongres library's, the one pgjdbc uses). One instance per login attempt.
 */
public final class BackendLogin {
    private final String user;
    private final String password;
    private ScramClient scram;

    public BackendLogin(String user, String password) {
        this.user = user;
        this.password = password;
    }

    /** The reply to an authentication request, or null when none is needed (AuthenticationOk, SASLFinal). */
    public ByteBuf answer(ByteBufAllocator a, Messages.Auth req) throws Exception {
        switch (req.code()) {
            case 0:
                return null;
            case 3:
                return Pg.message(a, 'p', cstring(requirePassword("cleartext")));
            case 5:
                return Pg.message(a, 'p', cstring(md5Response(user, requirePassword("md5"), req.data())));
            case 10: {
                List<String> mechanisms = new ArrayList<>();
                String[] parts = new String(req.data(), StandardCharsets.UTF_8).split("\0");
                for (String m : parts) {
                    if (!m.isEmpty()) {
                        mechanisms.add(m);
                    }
                }
                if (!mechanisms.contains("SCRAM-SHA-256")) {
                    throw new IllegalStateException("backend offers SASL mechanisms " + mechanisms + "; Sluice speaks SCRAM-SHA-256");
                }
                scram = ScramClient.builder().advertisedMechanisms(List.of("SCRAM-SHA-256")).username(user)
                        .password(requirePassword("SCRAM-SHA-256").toCharArray())
                        .stringPreparation(StringPreparation.POSTGRESQL_PREPARATION).build();
                byte[] first = scram.clientFirstMessage().toString().getBytes(StandardCharsets.UTF_8);
                ByteBuf b = a.buffer(32 + first.length);
                int at = Pg.begin(b, 'p');
                Pg.writeCString(b, "SCRAM-SHA-256");
                b.writeInt(first.length);
                b.writeBytes(first);
                return Pg.end(b, at);
            }
            case 11:
                scram.serverFirstMessage(new String(req.data(), StandardCharsets.UTF_8));
                return Pg.message(a, 'p', scram.clientFinalMessage().toString().getBytes(StandardCharsets.UTF_8));
            case 12:
                scram.serverFinalMessage(new String(req.data(), StandardCharsets.UTF_8)); // verifies the server's signature
                return null;
            default:
                throw new IllegalStateException("backend asks for authentication method " + req.code()
                        + " (Sluice supports trust, password, md5 and SCRAM-SHA-256)");
        }
    }

    private String requirePassword(String method) {
        if (password == null) {
            throw new IllegalStateException("backend asks for " + method + " authentication but the cluster has no password configured");
        }
        return password;
    }

    private static byte[] cstring(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[b.length + 1];
        System.arraycopy(b, 0, out, 0, b.length);
        return out;
    }

    /** PostgreSQL's md5 response: "md5" + md5(md5(password + user) + salt), hex. */
    static String md5Response(String user, String password, byte[] salt) throws NoSuchAlgorithmException {
        String inner = Md5.hex(Md5.digest((password + user).getBytes(StandardCharsets.UTF_8)));
        return "md5" + Md5.hex(Md5.digest(inner.getBytes(StandardCharsets.US_ASCII), salt));
    }

    /** MD5 via the JDK's MessageDigest (PostgreSQL's md5 scheme only glues hex strings together). */
    static final class Md5 {
        private Md5() {
        }

        static byte[] digest(byte[]... parts) throws NoSuchAlgorithmException {
            MessageDigest md = MessageDigest.getInstance("MD5");
            for (byte[] p : parts) {
                md.update(p);
            }
            return md.digest();
        }

        static String hex(byte[] b) {
            return java.util.HexFormat.of().formatHex(b);
        }
    }
}
