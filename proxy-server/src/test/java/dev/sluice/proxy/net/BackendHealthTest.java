package dev.sluice.proxy.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.core.config.ClusterConfig;
import dev.sluice.core.config.Engine;
import dev.sluice.core.config.NodeConfig;
import dev.sluice.core.route.Router;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Which failures take a node out of routing (seen as its generation moving: it went DOWN), and that each asks for a probe. */
class BackendHealthTest {
    final Router router = new Router(ClusterConfig.of("test", "c", Engine.POSTGRESQL, "db",
            List.of(new NodeConfig("n1", "h1", 1, 1), new NodeConfig("n2", "h2", 2, 1)), Map.of(), Map.of()));
    final AtomicInteger probes = new AtomicInteger();
    final BackendHealth health = new BackendHealth(router, probes::incrementAndGet, m -> m.contains("too busy"));

    @Test
    void aRefusedConnectionTakesTheNodeOut() {
        health.connectFailed("n1", new IOException("cannot connect to node n1: Connection refused"));
        assertEquals(1, router.generation("n1"));
        assertEquals(0, router.generation("n2"));
        assertEquals(1, probes.get());
    }

    @Test
    void aBusyNodeOrASlowLoginStaysInButIsProbed() {
        health.connectFailed("n1", new IOException("node n1 refused the login: too busy"));
        health.connectFailed("n1", new TimeoutException("node n1: login took more than 250 ms"));
        assertEquals(0, router.generation("n1"));
        assertEquals(2, probes.get());
    }

    @Test
    void anIoExceptionWithoutMessageCountsAsGone() {
        health.connectFailed("n1", new IOException());
        assertEquals(1, router.generation("n1"));
    }

    @Test
    void aLostConnectionTakesTheNodeOutOnlyWhenTheProtocolSaysItIsGone() {
        assertFalse(health.lost("n1", new IOException("terminated by administrator"), false));
        assertEquals(0, router.generation("n1"));
        assertTrue(health.lost("n1", new IOException("connection reset"), true));
        assertEquals(1, router.generation("n1"));
        assertEquals(2, probes.get());
    }
}
