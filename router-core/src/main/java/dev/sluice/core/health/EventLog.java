package dev.sluice.core.health;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/** A bounded log of what happened to a cluster's nodes (down/up, dropped/readmitted for lag, role changes). */
public final class EventLog {
    /** One event. {@code type}: node-down, node-up, lagging, readmitted, drained, role-change, circuit-open … */
    public record Event(long timeMillis, String node, String type, String message) {
    }

    private final int capacity;
    private final ArrayDeque<Event> events;
    /** Rarely changed, read on every event: copy-on-write keeps add() lock-free for listeners. */
    private final List<Consumer<Event>> listeners = new CopyOnWriteArrayList<>();

    public EventLog(int capacity) {
        this.capacity = capacity;
        this.events = new ArrayDeque<>(capacity);
    }

    public void add(String node, String type, String message) {
        Event e = new Event(System.currentTimeMillis(), node, type, message);
        synchronized (this) {
            if (events.size() == capacity) {
                events.removeFirst();
            }
            events.addLast(e);
        }
        // outside the lock, on the caller's thread (a probe, a failover step, live traffic): listeners must
        // only hand the event off (e.g. to a bounded queue), and one that throws must not break the caller
        for (Consumer<Event> l : listeners) {
            try {
                l.accept(e);
            } catch (RuntimeException ignored) {
                // the event is in the log; a broken listener is its own owner's problem
            }
        }
    }

    /**
     * Calls {@code listener} with every event added from now on (alerting). It runs on the thread that adds
     * the event, which may be routing or probing: it must not block.
     */
    public void addListener(Consumer<Event> listener) {
        listeners.add(listener);
    }

    public void removeListener(Consumer<Event> listener) {
        listeners.remove(listener);
    }

    /** Oldest first. */
    public synchronized List<Event> snapshot() {
        return new ArrayList<>(events);
    }
}
