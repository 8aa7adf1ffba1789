package dev.sluice.proxy.mysql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.proxy.SluiceCli;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code ./sluice passwd}: the printed users: entry holds a secret that checks the password, never the password. */
class PasswdMysqlTest {
    private static final Pattern ENTRY = Pattern.compile("- \\{ name: app, password: \"([^\"]+)\" }\\s*");

    private static String secret(String... args) {
        InputStream in = System.in;
        PrintStream out = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try {
            System.setIn(new ByteArrayInputStream("s3cret-pw\n".getBytes(StandardCharsets.UTF_8)));
            System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
            assertEquals(0, new CommandLine(new SluiceCli()).execute(args));
        } finally {
            System.setIn(in);
            System.setOut(out);
        }
        String printed = buf.toString(StandardCharsets.UTF_8);
        assertTrue(!printed.contains("s3cret-pw"), printed);
        Matcher m = ENTRY.matcher(printed);
        assertTrue(m.matches(), printed);
        return m.group(1);
    }

    @Test
    void mysqlPrintsASha256CryptStringThatChecksThePassword() {
        String s = secret("passwd", "--mysql", "app");
        assertTrue(MyAuth.looksSha2(s), s);
        assertTrue(MyAuth.verifySha2Full(s, "s3cret-pw"));
        assertTrue(!MyAuth.verifySha2Full(s, "other"));
    }

    @Test
    void mysqlNativePrintsTheDoubleSha1Hash() {
        assertEquals(MyAuth.nativeHash("s3cret-pw"), secret("passwd", "--mysql-native", "app"));
    }

    @Test
    void withoutAFlagItIsAScramVerifier() {
        assertTrue(secret("passwd", "app").startsWith("SCRAM-SHA-256$4096:"));
    }
}
