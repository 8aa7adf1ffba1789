package dev.sluice.core.health;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class EventLogTest {
    @Test
    void listenersSeeEveryLaterEventAndABrokenOneBreaksNothing() {
        EventLog log = new EventLog(2);
        log.add("a", "node-down", "before");
        List<EventLog.Event> seen = new ArrayList<>();
        log.addListener(e -> {
            throw new IllegalStateException("broken listener");
        });
        Consumer<EventLog.Event> l = seen::add;
        log.addListener(l);
        log.add("a", "node-up", "one");
        log.add("b", "lagging", "two");
        assertEquals(List.of("one", "two"), seen.stream().map(EventLog.Event::message).toList());
        assertEquals(List.of("one", "two"), log.snapshot().stream().map(EventLog.Event::message).toList(), "bounded, oldest dropped");
        log.removeListener(l);
        log.add("c", "node-down", "three");
        assertEquals(2, seen.size());
    }
}
