package dev.sluice.proxy.net;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The MySQL proxy asks trust() where it used to get a boolean: only the configured method "trust" skips passwords. */
class ListenerSettingsTest {
    private static ListenerSettings auth(String method) {
        return new ListenerSettings(new InetSocketAddress("127.0.0.1", 0), method, Map.of(), null, false, 10, 1 << 20, 1,
                5_000, false, 0, 60_000);
    }

    @Test
    void onlyTrustIsTrust() {
        assertTrue(auth("trust").trust());
        for (String method : new String[] {"password", "scram-sha-256", "md5", "Trust", null}) {
            assertFalse(auth(method).trust(), String.valueOf(method));
        }
    }
}
