package dev.sluice.core.health;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/** A bounded log of what happened to a cluster's nodes (down/up, dropped/readmitted for lag, role changes). */
public final class EventLog {
    /** One event. {@code type}: node-down, node-up, lagging, readmitted, drained, role-change, circuit-open … */
    public record Event(long timeMillis, String node, String type, String message) {
    }

    private final int capacity;
    private final ArrayDeque<Event> events;

    public EventLog(int capacity) {
        this.capacity = capacity;
        this.events = new ArrayDeque<>(capacity);
    }

    public synchronized void add(String node, String type, String message) {
        if (events.size() == capacity) {
            events.removeFirst();
        }
        events.addLast(new Event(System.currentTimeMillis(), node, type, message));
    }

    /** Oldest first. */
    public synchronized List<Event> snapshot() {
        return new ArrayList<>(events);
    }
}
