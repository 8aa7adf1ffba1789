package dev.sluice.proxy.mysql;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.regex.Pattern;
import javax.crypto.Cipher;
import org.apache.commons.codec.digest.Sha2Crypt;

/**
 * The password arithmetic of MySQL's two common auth plugins, for both sides of the proxy: verifying
 * clients (stored secret + scramble + the client's token) and logging in to backends (password + scramble).
 *
 * <p>Stored secrets: {@code mysql_native_password} users keep MySQL's own {@code PASSWORD()} form, so an
 * existing hash can be copied from {@code mysql.user} into the config. {@code caching_sha2_password}
 * users keep a salted SHA-256-crypt string (commons-codec): MySQL's own stored form is not portable, and an
 * unsalted SHA-256 of the password would be a weaker thing to leave in a config file. Its fast path
 * needs SHA256(SHA256(password)), which therefore only exists in memory, after one full authentication.
 *
 * <p>Passwords are UTF-8 throughout, as MySQL clients send them on a utf8mb4 connection. Comparisons of
 * secrets are constant-time ({@link MessageDigest#isEqual}).
 */
public final class MyAuth {
    static final String NATIVE = "mysql_native_password";
    static final String SHA2 = "caching_sha2_password";
    /** MySQL's scrambles are 20 bytes for both plugins. */
    static final int SCRAMBLE_LENGTH = 20;

    private static final Pattern NATIVE_FORM = Pattern.compile("\\*[0-9A-Fa-f]{40}");
    // rounds 1000..1000000: crypt's minimum, and commons-codec's ceiling (which keeps a hand-edited config
    // from making every login cost minutes of CPU)
    private static final Pattern SHA2_FORM = Pattern.compile(
            "\\$5\\$(rounds=([1-9][0-9]{3,5}|1000000)\\$)?[./0-9A-Za-z]{1,16}\\$[./0-9A-Za-z]{43}");
    private static final String SALT_CHARS = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    private static final SecureRandom SALTS = new SecureRandom();
    private static final HexFormat HEX = HexFormat.of().withUpperCase();

    private MyAuth() {
    }

    /** {@code mysql_native_password}'s stored form: what {@code SELECT PASSWORD(password)} gives (also for ""). */
    public static String nativeHash(String password) {
        return "*" + HEX.formatHex(sha1(sha1(utf8(password))));
    }

    /**
     * A {@code caching_sha2_password} user's stored form: {@code $5$rounds=5000$<16-char salt>$<hash>}.
     *
     * @throws IllegalArgumentException for a password over 4096 UTF-8 bytes (commons-codec's limit)
     */
    public static String sha2Hash(String password) {
        StringBuilder salt = new StringBuilder("$5$rounds=5000$");
        for (int i = 0; i < 16; i++) {
            salt.append(SALT_CHARS.charAt(SALTS.nextInt(SALT_CHARS.length())));
        }
        // rounds spelled out so that the string says what it costs, even though 5000 is crypt's default
        return Sha2Crypt.sha256Crypt(utf8(password), salt.toString());
    }

    static boolean looksNative(String secret) {
        return secret != null && NATIVE_FORM.matcher(secret).matches();
    }

    static boolean looksSha2(String secret) {
        return secret != null && SHA2_FORM.matcher(secret).matches();
    }

    /** Server side of mysql_native_password: token = SHA1(pw) XOR SHA1(scramble + SHA1(SHA1(pw))). */
    static boolean verifyNative(String stored, byte[] scramble, byte[] token) {
        if (!looksNative(stored)) {
            return false;
        }
        byte[] doubleSha1 = HEX.parseHex(stored, 1, stored.length());
        if (isEmptyResponse(token)) {
            // a client with an empty password sends nothing; the secret must then be the empty password's
            return MessageDigest.isEqual(doubleSha1, sha1(sha1(new byte[0])));
        }
        if (token.length != 20) {
            return false;
        }
        // recover the candidate SHA1(pw) and check that hashing it again gives the stored value
        byte[] sha1Pw = xor(token, sha1(concat(scramble, doubleSha1)));
        return MessageDigest.isEqual(sha1(sha1Pw), doubleSha1);
    }

    /** caching_sha2 fast path: token = SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) + scramble). */
    static boolean verifySha2Fast(byte[] doubleSha256, byte[] scramble, byte[] token) {
        if (doubleSha256 == null || token == null || token.length != 32) {
            return false;
        }
        byte[] sha256Pw = xor(token, sha256(concat(doubleSha256, scramble)));
        return MessageDigest.isEqual(sha256(sha256Pw), doubleSha256);
    }

    /** caching_sha2 full authentication: the cleartext password against the stored SHA-256-crypt string. */
    static boolean verifySha2Full(String stored, String cleartext) {
        if (!looksSha2(stored) || cleartext == null) {
            return false;
        }
        String again;
        try {
            // given a whole crypt string as the salt, Sha2Crypt takes rounds and salt from it
            again = Sha2Crypt.sha256Crypt(utf8(cleartext), stored);
        } catch (IllegalArgumentException e) {
            // a password over commons-codec's 4096-byte limit: no stored secret can have been made from it
            return false;
        }
        return MessageDigest.isEqual(again.getBytes(StandardCharsets.US_ASCII), stored.getBytes(StandardCharsets.US_ASCII));
    }

    /** What the fast-auth cache keeps per user: SHA256(SHA256(password)). */
    static byte[] doubleSha256(String password) {
        return sha256(sha256(utf8(password)));
    }

    /** Client side of mysql_native_password; an empty password answers with nothing, as libmysql does. */
    static byte[] nativeToken(String password, byte[] scramble) {
        if (password == null || password.isEmpty()) {
            return new byte[0];
        }
        byte[] sha1Pw = sha1(utf8(password));
        return xor(sha1Pw, sha1(concat(scramble, sha1(sha1Pw))));
    }

    /** Client side of the caching_sha2 fast path. */
    static byte[] sha2Token(String password, byte[] scramble) {
        if (password == null || password.isEmpty()) {
            return new byte[0];
        }
        byte[] sha256Pw = sha256(utf8(password));
        return xor(sha256Pw, sha256(concat(sha256(sha256Pw), scramble)));
    }

    /**
     * Client side of caching_sha2 full authentication without TLS: (password + NUL) XOR the scramble
     * (repeated), RSA-OAEP-encrypted with the server's key. The XOR binds the ciphertext to this
     * connection's scramble, so a captured one cannot be replayed on another connection.
     */
    static byte[] encryptPassword(String password, byte[] scramble, String publicPem) throws GeneralSecurityException {
        byte[] plain = xorRepeated(concat(utf8(password == null ? "" : password), new byte[] {0}), scramble);
        Cipher c = Cipher.getInstance(RsaKeys.TRANSFORMATION);
        c.init(Cipher.ENCRYPT_MODE, parsePublicKey(publicPem));
        return c.doFinal(plain);
    }

    static PublicKey parsePublicKey(String pem) throws GeneralSecurityException {
        String body = pem.replace("-----BEGIN PUBLIC KEY-----", "").replace("-----END PUBLIC KEY-----", "")
                .replaceAll("[\\s\\x00]", "");
        if (body.isEmpty() || !pem.contains("-----BEGIN PUBLIC KEY-----")) {
            throw new GeneralSecurityException("not a PEM public key (-----BEGIN PUBLIC KEY-----)");
        }
        try {
            return KeyFactory.getInstance("RSA").generatePublic(new X509EncodedKeySpec(Base64.getDecoder().decode(body)));
        } catch (IllegalArgumentException e) {
            throw new GeneralSecurityException("PEM public key is not base64", e);
        }
    }

    /** A client that sends nothing, or only the NUL some clients send for "no password", has none. */
    static boolean isEmptyResponse(byte[] response) {
        return response == null || response.length == 0 || (response.length == 1 && response[0] == 0);
    }

    /**
     * The proxy's RSA key pair for caching_sha2 full authentication over plain TCP. Made at start-up and
     * never written anywhere: clients fetch the public key on each such login (or were given it), so a new
     * key per proxy process costs nothing.
     */
    static final class RsaKeys {
        /** OpenSSL's RSA_PKCS1_OAEP_PADDING, which MySQL uses for caching_sha2_password: SHA-1 and MGF1-SHA-1. */
        static final String TRANSFORMATION = "RSA/ECB/OAEPWithSHA-1AndMGF1Padding";

        private final KeyPair pair;
        private final String pem;

        RsaKeys(KeyPair pair) {
            this.pair = pair;
            String b64 = Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(pair.getPublic().getEncoded());
            this.pem = "-----BEGIN PUBLIC KEY-----\n" + b64 + "\n-----END PUBLIC KEY-----\n";
        }

        static RsaKeys generate(SecureRandom random) {
            try {
                KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
                g.initialize(2048, random);
                return new RsaKeys(g.generateKeyPair());
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        /** X.509 SubjectPublicKeyInfo PEM, the form MySQL clients expect after the 0x02 request. */
        String publicPem() {
            return pem;
        }

        /** The cleartext password from an RSA-encrypted caching_sha2 answer to {@code scramble}. */
        String decryptPassword(byte[] encrypted, byte[] scramble) throws GeneralSecurityException {
            Cipher c = Cipher.getInstance(TRANSFORMATION);
            c.init(Cipher.DECRYPT_MODE, pair.getPrivate());
            byte[] plain = xorRepeated(c.doFinal(encrypted), scramble);
            int end = plain.length > 0 && plain[plain.length - 1] == 0 ? plain.length - 1 : plain.length;
            return new String(plain, 0, end, StandardCharsets.UTF_8);
        }
    }

    static byte[] sha1(byte[] in) {
        return digest("SHA-1", in);
    }

    static byte[] sha256(byte[] in) {
        return digest("SHA-256", in);
    }

    private static byte[] digest(String algorithm, byte[] in) {
        try {
            return MessageDigest.getInstance(algorithm).digest(in);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(algorithm + " is part of every JDK", e);
        }
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static byte[] xor(byte[] a, byte[] b) {
        byte[] out = new byte[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = (byte) (a[i] ^ b[i]);
        }
        return out;
    }

    private static byte[] xorRepeated(byte[] data, byte[] key) {
        byte[] out = new byte[data.length];
        for (int i = 0; i < data.length; i++) {
            out[i] = (byte) (data[i] ^ key[i % key.length]);
        }
        return out;
    }
}
