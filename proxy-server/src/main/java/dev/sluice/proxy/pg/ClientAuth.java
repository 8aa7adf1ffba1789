package dev.sluice.proxy.pg;

import com.ongres.scram.common.ScramFunctions;
import com.ongres.scram.common.ScramMechanism;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * Authenticates one client to the proxy: SCRAM-SHA-256 (server side, with the ongres library's
 * primitives), md5, or trust. Like PostgreSQL, a user whose stored secret is a SCRAM verifier is asked
 * for SCRAM even where md5 is configured, and an unknown user goes through the whole exchange and fails
 * at the end, so a client cannot probe for user names.
 */
final class ClientAuth {
    /** What the proxy knows of one user: a SCRAM verifier or an md5 hash ("md5" + 32 hex). */
    record User(String name, ScramVerifier scram, String md5) {
    }

    static final class Failed extends Exception {
        final String sqlState;

        Failed(String sqlState, String message) {
            super(message);
            this.sqlState = sqlState;
        }
    }

    private enum Step { SCRAM_FIRST, SCRAM_FINAL, MD5, DONE }

    private final String method;
    private final String userName;
    private final User user;
    private final SecureRandom random;
    private Step step;
    private byte[] md5Salt;
    private ScramVerifier verifier;
    private String clientFirstBare;
    private String serverFirst;
    private String gs2Header;
    private String nonce;

    ClientAuth(String method, String userName, User user, SecureRandom random) {
        this.method = method;
        this.userName = userName;
        this.user = user;
        this.random = random;
    }

    /** The first authentication request to send, or AuthenticationOk for trust. */
    ByteBuf start(io.netty.buffer.ByteBufAllocator a) {
        if (method.equals("trust")) {
            step = Step.DONE;
            return Pg.authentication(a, 0, null);
        }
        boolean scram = method.equals("scram-sha-256") || user == null || user.scram() != null;
        if (scram) {
            step = Step.SCRAM_FIRST;
            // unknown user or md5-only user under scram: a throwaway verifier, so the exchange looks the same
            verifier = user != null && user.scram() != null ? user.scram()
                    : ScramVerifier.create(Base64.getEncoder().encodeToString(ScramFunctions.salt(24, random)), 4096, random);
            return Pg.authentication(a, 10, "SCRAM-SHA-256\0\0".getBytes(StandardCharsets.US_ASCII));
        }
        step = Step.MD5;
        md5Salt = ScramFunctions.salt(4, random);
        return Pg.authentication(a, 5, md5Salt);
    }

    boolean done() {
        return step == Step.DONE;
    }

    /** Takes the client's 'p' message body; returns the next message to send (AuthenticationOk when done). */
    ByteBuf onPassword(io.netty.buffer.ByteBufAllocator a, byte[] body) throws Failed {
        switch (step) {
            case SCRAM_FIRST:
                return scramFirst(a, body);
            case SCRAM_FINAL:
                return scramFinal(a, body);
            case MD5:
                return md5(a, body);
            default:
                throw new Failed(Pg.PROTOCOL_VIOLATION, "unexpected password message");
        }
    }

    private ByteBuf scramFirst(io.netty.buffer.ByteBufAllocator a, byte[] body) throws Failed {
        // SASLInitialResponse: mechanism\0, int32 length, client-first-message
        int z = indexOf(body, (byte) 0);
        if (z < 0 || body.length < z + 5) {
            throw new Failed(Pg.PROTOCOL_VIOLATION, "malformed SASLInitialResponse");
        }
        String mechanism = new String(body, 0, z, StandardCharsets.UTF_8);
        if (!mechanism.equals("SCRAM-SHA-256")) {
            throw new Failed(Pg.PROTOCOL_VIOLATION, "SASL mechanism '" + mechanism + "' not offered (SCRAM-SHA-256 only)");
        }
        String first = new String(body, z + 5, body.length - z - 5, StandardCharsets.UTF_8);
        // gs2-header "n,," or "y,," (optionally with a=authzid), then client-first-bare "n=user,r=nonce[,…]".
        // libpq sends an empty user name (PostgreSQL uses the startup user), which the library's parser
        // rejects, so the two fields are read here; all the cryptography stays the library's.
        if (first.startsWith("p")) {
            throw new Failed(Pg.PROTOCOL_VIOLATION, "SCRAM channel binding was not offered");
        }
        int firstComma = first.indexOf(',');
        int secondComma = firstComma < 0 ? -1 : first.indexOf(',', firstComma + 1);
        if (!(first.startsWith("n,") || first.startsWith("y,")) || secondComma < 0) {
            throw new Failed(Pg.PROTOCOL_VIOLATION, "malformed SCRAM client-first-message (gs2 header)");
        }
        gs2Header = first.substring(0, secondComma + 1);
        clientFirstBare = first.substring(secondComma + 1);
        String clientNonce = null;
        for (String attr : clientFirstBare.split(",")) {
            if (attr.startsWith("r=")) {
                clientNonce = attr.substring(2);
            } else if (attr.startsWith("m=")) {
                throw new Failed(Pg.PROTOCOL_VIOLATION, "SCRAM mandatory extension not supported");
            }
        }
        if (!clientFirstBare.startsWith("n=") || clientNonce == null || clientNonce.isEmpty()) {
            throw new Failed(Pg.PROTOCOL_VIOLATION, "malformed SCRAM client-first-message (no n= or r=)");
        }
        nonce = clientNonce + ScramFunctions.nonce(24, random);
        serverFirst = "r=" + nonce + ",s=" + Base64.getEncoder().encodeToString(verifier.salt()) + ",i=" + verifier.iterations();
        step = Step.SCRAM_FINAL;
        return Pg.authentication(a, 11, serverFirst.getBytes(StandardCharsets.UTF_8));
    }

    private ByteBuf scramFinal(io.netty.buffer.ByteBufAllocator a, byte[] body) throws Failed {
        String fin = new String(body, StandardCharsets.UTF_8);
        int p = fin.lastIndexOf(",p=");
        if (p < 0) {
            throw new Failed(Pg.PROTOCOL_VIOLATION, "malformed SCRAM client-final-message");
        }
        String withoutProof = fin.substring(0, p);
        String expectedCbind = "c=" + Base64.getEncoder().encodeToString(gs2Header.getBytes(StandardCharsets.UTF_8));
        if (!withoutProof.equals(expectedCbind + ",r=" + nonce)) {
            throw new Failed(Pg.PROTOCOL_VIOLATION, "SCRAM client-final-message: wrong channel binding or nonce");
        }
        byte[] proof;
        try {
            proof = Base64.getDecoder().decode(fin.substring(p + 3));
        } catch (IllegalArgumentException e) {
            throw new Failed(Pg.PROTOCOL_VIOLATION, "SCRAM proof is not base64");
        }
        String authMessage = clientFirstBare + "," + serverFirst + "," + withoutProof;
        if (user == null || user.scram() == null
                || !ScramFunctions.verifyClientProof(ScramMechanism.SCRAM_SHA_256, proof, verifier.storedKey(), authMessage)) {
            throw new Failed(Pg.INVALID_PASSWORD, "password authentication failed for user \"" + userName + "\"");
        }
        byte[] signature = ScramFunctions.serverSignature(ScramMechanism.SCRAM_SHA_256, verifier.serverKey(), authMessage);
        step = Step.DONE;
        ByteBuf out = Pg.authentication(a, 12, ("v=" + Base64.getEncoder().encodeToString(signature)).getBytes(StandardCharsets.UTF_8));
        ByteBuf authOk = Pg.authentication(a, 0, null);
        try {
            out.writeBytes(authOk); // SASLFinal and AuthenticationOk in one write
        } finally {
            authOk.release(); // writeBytes copies; this one was leaked once per SCRAM login before
        }
        return out;
    }

    private ByteBuf md5(io.netty.buffer.ByteBufAllocator a, byte[] body) throws Failed {
        String got = new String(body, 0, Math.max(0, body.length - 1), StandardCharsets.US_ASCII);
        boolean ok = false;
        if (user != null && user.md5() != null) {
            try {
                String expected = "md5" + BackendLogin.Md5.hex(BackendLogin.Md5.digest(
                        user.md5().substring(3).getBytes(StandardCharsets.US_ASCII), md5Salt));
                ok = MessageDigest.isEqual(expected.getBytes(StandardCharsets.US_ASCII), got.getBytes(StandardCharsets.US_ASCII));
            } catch (java.security.NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }
        if (!ok) {
            throw new Failed(Pg.INVALID_PASSWORD, "password authentication failed for user \"" + userName + "\"");
        }
        step = Step.DONE;
        return Pg.authentication(a, 0, null);
    }

    private static int indexOf(byte[] b, byte v) {
        for (int i = 0; i < b.length; i++) {
            if (b[i] == v) {
                return i;
            }
        }
        return -1;
    }
}
