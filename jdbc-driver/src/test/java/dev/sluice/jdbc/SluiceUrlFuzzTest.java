package dev.sluice.jdbc;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.sluice.core.config.ClusterConfig;
import dev.sluice.core.config.ConfigException;
import java.util.Properties;

/**
 * Coverage-guided fuzzing of {@code jdbc:sluice:} URL parsing (docs/fuzzing.md). {@link SluiceDriver#connect}
 * turns a {@link ConfigException} into an SQLException; any other exception would escape the driver's
 * contract, so it is a finding.
 *
 * <p>Input layout: a byte for the number of connection properties (0-3), that many key/value strings, then
 * the rest of the URL after {@code jdbc:sluice:}. {@code file:} URLs are skipped: they read a path named by
 * the input (the YAML they load is fuzzed by {@link ConfigYamlFuzzTest}).
 */
class SluiceUrlFuzzTest {
    @FuzzTest
    void parse(FuzzedDataProvider data) {
        Properties info = null;
        int props = data.consumeInt(0, 3);
        if (props > 0) {
            info = new Properties();
            for (int i = 0; i < props; i++) {
                info.setProperty(data.consumeString(40), data.consumeString(40));
            }
        }
        String rest = data.consumeRemainingAsString();
        if (rest.regionMatches(true, 0, "file:", 0, 5) || rest.indexOf('?') >= 0
                && rest.substring(0, rest.indexOf('?')).regionMatches(true, 0, "file:", 0, 5)) {
            return;
        }
        String url = SluiceUrl.PREFIX + rest;
        assertTrue(SluiceUrl.accepts(url));
        try {
            ClusterConfig c = SluiceUrl.parse(url, info);
            assertNotNull(c.engine());
            assertFalse(c.nodes().isEmpty());
        } catch (ConfigException expected) {
            assertNotNull(expected.getMessage());
        }
    }
}
