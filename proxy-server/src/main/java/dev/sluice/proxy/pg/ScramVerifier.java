package dev.sluice.proxy.pg;

import com.ongres.scram.common.ScramFunctions;
import com.ongres.scram.common.ScramMechanism;
import com.ongres.scram.common.StringPreparation;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * A stored SCRAM-SHA-256 secret in PostgreSQL's own format (the one in pg_authid, so a user's verifier can
 * be copied from the database): {@code SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>}.
 * The proxy keeps these, never passwords.
 */
record ScramVerifier(int iterations, byte[] salt, byte[] storedKey, byte[] serverKey) {
    static final String PREFIX = "SCRAM-SHA-256$";

    static boolean looksLike(String s) {
        return s != null && s.startsWith(PREFIX);
    }

    /** Parses a verifier; the error says which part is wrong, never echoing the secret. */
    static ScramVerifier parse(String s) {
        if (!looksLike(s)) {
            throw new IllegalArgumentException("not a SCRAM-SHA-256 verifier (expected SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>)");
        }
        String[] halves = s.substring(PREFIX.length()).split("\\$");
        if (halves.length != 2) {
            throw new IllegalArgumentException("SCRAM verifier: expected two '$'-separated parts after the prefix");
        }
        String[] is = halves[0].split(":");
        String[] keys = halves[1].split(":");
        if (is.length != 2 || keys.length != 2) {
            throw new IllegalArgumentException("SCRAM verifier: expected <iterations>:<salt>$<StoredKey>:<ServerKey>");
        }
        try {
            int iterations = Integer.parseInt(is[0]);
            if (iterations < 1) {
                throw new IllegalArgumentException("SCRAM verifier: iterations must be positive");
            }
            Base64.Decoder d = Base64.getDecoder();
            return new ScramVerifier(iterations, d.decode(is[1]), d.decode(keys[0]), d.decode(keys[1]));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("SCRAM verifier: iterations is not a number");
        } catch (IllegalArgumentException e) {
            if (e.getMessage() != null && e.getMessage().startsWith("SCRAM")) {
                throw e;
            }
            throw new IllegalArgumentException("SCRAM verifier: salt or keys are not valid base64");
        }
    }

    /** A new verifier for {@code password} (what {@code ./sluice passwd} prints). */
    static ScramVerifier create(String password, int iterations, SecureRandom random) {
        byte[] salt = ScramFunctions.salt(16, random);
        byte[] salted = ScramFunctions.saltedPassword(ScramMechanism.SCRAM_SHA_256, StringPreparation.POSTGRESQL_PREPARATION,
                password.toCharArray(), salt, iterations);
        return new ScramVerifier(iterations, salt,
                ScramFunctions.storedKey(ScramMechanism.SCRAM_SHA_256, ScramFunctions.clientKey(ScramMechanism.SCRAM_SHA_256, salted)),
                ScramFunctions.serverKey(ScramMechanism.SCRAM_SHA_256, salted));
    }

    String encode() {
        Base64.Encoder e = Base64.getEncoder();
        return PREFIX + iterations + ":" + e.encodeToString(salt) + "$" + e.encodeToString(storedKey) + ":" + e.encodeToString(serverKey);
    }
}
