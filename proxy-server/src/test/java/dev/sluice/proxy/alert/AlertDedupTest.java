package dev.sluice.proxy.alert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class AlertDedupTest {
    @Test
    void firstIsSentRepeatsWithinTheWindowAreHeld() {
        AlertDedup<String> d = new AlertDedup<>(1000);
        assertEquals(List.of(new AlertDedup.Out<>("down-1", 0)), d.offer("node-down/r1", "down-1", 0));
        assertTrue(d.offer("node-down/r1", "down-2", 10).isEmpty());
        assertTrue(d.offer("node-down/r1", "down-3", 999).isEmpty());
        assertTrue(d.due(999).isEmpty(), "window not over");
    }

    @Test
    void otherNodesAndKindsAreNotHeld() {
        AlertDedup<String> d = new AlertDedup<>(1000);
        d.offer("node-down/r1", "a", 0);
        assertEquals(1, d.offer("node-down/r2", "b", 1).size());
        assertEquals(1, d.offer("recovered/r1", "c", 2).size());
    }

    @Test
    void theWindowsEndSendsTheLatestRepeatWithTheCountBeforeIt() {
        AlertDedup<String> d = new AlertDedup<>(1000);
        d.offer("k", "first", 0);
        d.offer("k", "second", 100);
        d.offer("k", "third", 200);
        assertEquals(List.of(new AlertDedup.Out<>("third", 1)), d.due(1000), "third sent; second suppressed before it");
        assertTrue(d.due(1500).isEmpty());
        // a new window started when "third" went out
        assertTrue(d.offer("k", "fourth", 1500).isEmpty());
        assertEquals(List.of(new AlertDedup.Out<>("fourth", 0)), d.due(2000));
    }

    @Test
    void anAlertAfterTheWindowCarriesTheSuppressedCount() {
        AlertDedup<String> d = new AlertDedup<>(1000);
        d.offer("k", "1", 0);
        d.offer("k", "2", 1);
        d.offer("k", "3", 2);
        // due() not called in between (a busy worker): the next one reports both held back
        assertEquals(List.of(new AlertDedup.Out<>("4", 2)), d.offer("k", "4", 5000));
        assertTrue(d.due(5001).isEmpty());
    }

    @Test
    void quietKeysAreForgotten() {
        AlertDedup<String> d = new AlertDedup<>(1000);
        d.offer("k", "1", 0);
        assertTrue(d.due(2000).isEmpty());
        assertEquals(List.of(new AlertDedup.Out<>("2", 0)), d.offer("k", "2", 2001));
    }

    @Test
    void zeroWindowSendsEverything() {
        AlertDedup<String> d = new AlertDedup<>(0);
        assertEquals(1, d.offer("k", "1", 0).size());
        assertEquals(1, d.offer("k", "2", 0).size());
        assertTrue(d.due(0).isEmpty());
    }
}
