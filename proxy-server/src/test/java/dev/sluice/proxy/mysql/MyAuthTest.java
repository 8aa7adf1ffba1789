package dev.sluice.proxy.mysql;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/**
 * The hash arithmetic against vectors computed elsewhere (MariaDB's PASSWORD(), glibc's crypt(3), an
 * independent Python computation, go-sql-driver's published caching_sha2 vector), and each server-side
 * check against the matching client-side token.
 */
class MyAuthTest {
    static final MyAuth.RsaKeys RSA = MyAuth.RsaKeys.generate(new SecureRandom());
    static final byte[] SCRAMBLE = bytes(1, 20);

    static byte[] bytes(int from, int to) {
        byte[] b = new byte[to - from + 1];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (from + i);
        }
        return b;
    }

    static byte[] hex(String s) {
        return HexFormat.of().parseHex(s);
    }

    @Test
    void nativeHashIsWhatMariaDbPasswordGives() {
        assertEquals("*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19", MyAuth.nativeHash("password"));
        assertEquals("*BE1BDEC0AA74B4DCB079943E70528096CCA985F8", MyAuth.nativeHash(""));
        assertTrue(MyAuth.looksNative(MyAuth.nativeHash("x")));
    }

    @Test
    void nativeTokenMatchesAnIndependentComputation() {
        // SHA1(pw) XOR SHA1(scramble + SHA1(SHA1(pw))), computed with Python's hashlib
        assertArrayEquals(hex("d98d6491eb9b088f018868d0150698b27d919484"), MyAuth.nativeToken("sluice-pw", SCRAMBLE));
        assertArrayEquals(new byte[0], MyAuth.nativeToken("", SCRAMBLE), "no password, no token");
    }

    @Test
    void sha2TokenMatchesGoSqlDriversVector() {
        byte[] scramble = {10, 47, 74, 111, 75, 73, 34, 48, 88, 76, 114, 74, 37, 13, 3, 80, 82, 2, 23, 21};
        assertArrayEquals(hex("f490e76f66d9d86665ce54d98c78d0acfe2fb0b08b423da807144873d30b312c"), MyAuth.sha2Token("secret", scramble));
        assertArrayEquals(hex("abc3934a012cf342e876071c8ee202de51785b430258a7a0138bc79c4d800bc6"), MyAuth.sha2Token("secret2", scramble));
        assertArrayEquals(new byte[0], MyAuth.sha2Token("", scramble));
    }

    @Test
    void verifyNativeAcceptsTheRightTokenOnly() {
        String stored = MyAuth.nativeHash("sluice-pw");
        assertTrue(MyAuth.verifyNative(stored, SCRAMBLE, MyAuth.nativeToken("sluice-pw", SCRAMBLE)));
        assertTrue(MyAuth.verifyNative(stored.toLowerCase(java.util.Locale.ROOT), SCRAMBLE, MyAuth.nativeToken("sluice-pw", SCRAMBLE)));
        assertFalse(MyAuth.verifyNative(stored, SCRAMBLE, MyAuth.nativeToken("sluice-pW", SCRAMBLE)));
        assertFalse(MyAuth.verifyNative(stored, bytes(2, 21), MyAuth.nativeToken("sluice-pw", SCRAMBLE)), "another scramble");
        assertFalse(MyAuth.verifyNative(stored, SCRAMBLE, new byte[0]), "no password for a password account");
        assertFalse(MyAuth.verifyNative(stored, SCRAMBLE, new byte[19]));
        assertFalse(MyAuth.verifyNative("not-a-hash", SCRAMBLE, MyAuth.nativeToken("sluice-pw", SCRAMBLE)));
        String empty = MyAuth.nativeHash("");
        assertTrue(MyAuth.verifyNative(empty, SCRAMBLE, new byte[0]));
        assertTrue(MyAuth.verifyNative(empty, SCRAMBLE, new byte[] {0}), "a lone NUL means no password too");
        assertFalse(MyAuth.verifyNative(empty, SCRAMBLE, MyAuth.nativeToken("x", SCRAMBLE)));
    }

    @Test
    void sha2CryptMatchesGlibc() {
        // glibc crypt(3) outputs, which the Drepper specification also lists
        assertTrue(MyAuth.verifySha2Full("$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5", "Hello world!"));
        assertTrue(MyAuth.verifySha2Full("$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA", "Hello world!"));
        String stored = "$5$rounds=5000$0123456789abcdef$Hy0yzw6bVD./eRlWZcL1iGPMPmc/7GbaKybUE/s9aq7";
        assertTrue(MyAuth.verifySha2Full(stored, "sluice-pw"));
        assertFalse(MyAuth.verifySha2Full(stored, "sluice-pw "));
        assertFalse(MyAuth.verifySha2Full(stored, ""));
        assertFalse(MyAuth.verifySha2Full(stored, null));
        assertFalse(MyAuth.verifySha2Full(stored, "x".repeat(100_000)), "over the library's key limit: false, not an exception");
    }

    @Test
    void sha2HashIsSaltedWithExplicitRounds() {
        String a = MyAuth.sha2Hash("sluice-pw");
        String b = MyAuth.sha2Hash("sluice-pw");
        assertTrue(a.startsWith("$5$rounds=5000$"), a);
        assertEquals("$5$rounds=5000$".length() + 16 + 1 + 43, a.length(), a);
        assertNotEquals(a, b, "a fresh salt each time");
        assertTrue(MyAuth.looksSha2(a));
        assertTrue(MyAuth.verifySha2Full(a, "sluice-pw"));
        assertTrue(MyAuth.verifySha2Full(b, "sluice-pw"));
        assertFalse(MyAuth.verifySha2Full(a, "sluice-pX"));
        assertTrue(MyAuth.verifySha2Full(MyAuth.sha2Hash(""), ""));
        assertTrue(MyAuth.verifySha2Full(MyAuth.sha2Hash("pässwörd ✓"), "pässwörd ✓"), "UTF-8 passwords");
    }

    @Test
    void validatorsTellTheFormsApart() {
        assertTrue(MyAuth.looksNative("*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19"));
        assertFalse(MyAuth.looksNative("2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19"));
        assertFalse(MyAuth.looksNative("*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E1"));
        assertFalse(MyAuth.looksNative("*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E1G"));
        assertFalse(MyAuth.looksNative(null));
        assertTrue(MyAuth.looksSha2("$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"));
        assertFalse(MyAuth.looksSha2("$6$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"), "SHA-512-crypt");
        assertFalse(MyAuth.looksSha2("$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc"), "short hash");
        assertFalse(MyAuth.looksSha2("$5$rounds=999999999$salt$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"), "absurd rounds");
        assertFalse(MyAuth.looksSha2("$5$rounds=1000001$salt$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"), "over the library's ceiling");
        assertFalse(MyAuth.looksSha2("$5$rounds=999$salt$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"), "under crypt's minimum");
        assertTrue(MyAuth.looksSha2("$5$rounds=1000000$salt$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"));
        assertTrue(MyAuth.looksSha2("$5$rounds=1000$salt$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"));
        assertFalse(MyAuth.looksSha2(MyAuth.nativeHash("x")));
        assertFalse(MyAuth.looksNative(MyAuth.sha2Hash("x")));
        assertFalse(MyAuth.verifySha2Full(MyAuth.nativeHash("x"), "x"));
    }

    @Test
    void sha2FastPathChecksTheTokenAgainstTheDoubleHash() {
        byte[] cached = MyAuth.doubleSha256("sluice-pw");
        assertArrayEquals(MyAuth.sha256(MyAuth.sha256("sluice-pw".getBytes(java.nio.charset.StandardCharsets.UTF_8))), cached);
        assertTrue(MyAuth.verifySha2Fast(cached, SCRAMBLE, MyAuth.sha2Token("sluice-pw", SCRAMBLE)));
        assertFalse(MyAuth.verifySha2Fast(cached, SCRAMBLE, MyAuth.sha2Token("other", SCRAMBLE)));
        assertFalse(MyAuth.verifySha2Fast(cached, bytes(2, 21), MyAuth.sha2Token("sluice-pw", SCRAMBLE)));
        assertFalse(MyAuth.verifySha2Fast(null, SCRAMBLE, MyAuth.sha2Token("sluice-pw", SCRAMBLE)), "not cached");
        assertFalse(MyAuth.verifySha2Fast(cached, SCRAMBLE, new byte[31]));
    }

    @Test
    void rsaRoundTripIsBoundToTheScramble() throws Exception {
        String pem = RSA.publicPem();
        assertTrue(pem.startsWith("-----BEGIN PUBLIC KEY-----\n") && pem.endsWith("\n-----END PUBLIC KEY-----\n"), pem);
        assertEquals(2048, ((java.security.interfaces.RSAPublicKey) MyAuth.parsePublicKey(pem)).getModulus().bitLength());
        byte[] enc = MyAuth.encryptPassword("pässwörd, longer than the twenty-byte scramble", SCRAMBLE, pem);
        assertEquals(256, enc.length);
        assertEquals("pässwörd, longer than the twenty-byte scramble", RSA.decryptPassword(enc, SCRAMBLE));
        assertNotEquals("pässwörd, longer than the twenty-byte scramble", RSA.decryptPassword(enc, bytes(2, 21)));
        assertEquals("", RSA.decryptPassword(MyAuth.encryptPassword("", SCRAMBLE, pem), SCRAMBLE));
        // a PEM as servers send it, with a trailing NUL, still parses
        assertEquals("x", RSA.decryptPassword(MyAuth.encryptPassword("x", SCRAMBLE, pem + "\0"), SCRAMBLE));
        byte[] tampered = enc.clone();
        tampered[100] ^= 1;
        assertThrows(GeneralSecurityException.class, () -> RSA.decryptPassword(tampered, SCRAMBLE));
        assertThrows(GeneralSecurityException.class, () -> RSA.decryptPassword("cleartext\0".getBytes(), SCRAMBLE));
        assertThrows(GeneralSecurityException.class, () -> MyAuth.encryptPassword("x", SCRAMBLE, "garbage"));
        MyAuth.RsaKeys other = MyAuth.RsaKeys.generate(new SecureRandom());
        assertThrows(GeneralSecurityException.class, () -> other.decryptPassword(enc, SCRAMBLE), "another key");
    }
}
