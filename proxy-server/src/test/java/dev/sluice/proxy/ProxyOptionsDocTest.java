package dev.sluice.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * docs/proxy.md's option table is generated from {@link ProxyOption}. Regenerate with
 * {@code mvn -pl proxy-server test -Dtest=ProxyOptionsDocTest -Dsluice.updateDocs=true}.
 */
class ProxyOptionsDocTest {
    static final String BEGIN = "<!-- proxy-options:begin -->\n";
    static final String END = "<!-- proxy-options:end -->";

    @Test
    void docsListEveryOption() throws Exception {
        Path doc = Path.of("..", "docs", "proxy.md");
        String text = Files.readString(doc);
        int b = text.indexOf(BEGIN);
        int e = text.indexOf(END);
        assertTrue(b >= 0 && e > b, "markers missing in " + doc);
        String expected = text.substring(0, b + BEGIN.length()) + ProxyOption.markdownTable() + text.substring(e);
        if (Boolean.getBoolean("sluice.updateDocs")) {
            Files.writeString(doc, expected);
            return;
        }
        assertEquals(expected, text, "docs/proxy.md is out of date: rerun with -Dsluice.updateDocs=true");
    }
}
