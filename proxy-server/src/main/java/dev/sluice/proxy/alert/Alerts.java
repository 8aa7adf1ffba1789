package dev.sluice.proxy.alert;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.core.health.EventLog;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Alerting for one proxy (docs/alerts.md): listens to its router's event log, turns the events that matter
 * into alerts, de-duplicates them and delivers them to webhooks and/or a command. The listener only offers
 * the event to a bounded queue, so routing and probing never wait for a receiver; one worker thread of this
 * instance does the rest, each delivery bounded by the timeout and tried once.
 */
public final class Alerts implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Alerts.class);
    /** A burst bigger than this (a whole cluster flapping) loses the excess, counted as dropped. */
    private static final int QUEUE = 1000;
    /** How often held-back repeats are checked for an ended window. */
    private static final long TICK_MS = 250;

    private final String cluster;
    private final AlertSettings settings;
    private final EventLog events;
    private final ObjectMapper json;
    private final BlockingQueue<EventLog.Event> queue = new ArrayBlockingQueue<>(QUEUE);
    private final AlertDedup<EventLog.Event> dedup;
    private final AlertDelivery delivery;
    private final Consumer<EventLog.Event> listener = this::enqueue;
    private final Thread worker;
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong suppressed = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private volatile boolean closed;

    /**
     * Starts listening to {@code events}.
     *
     * @param json the admin API's mapping, so alert texts are masked for secrets the same way
     */
    public Alerts(String cluster, AlertSettings settings, EventLog events, ObjectMapper json) {
        this.cluster = cluster;
        this.settings = settings;
        this.events = events;
        this.json = json;
        this.dedup = new AlertDedup<>(settings.dedupMs());
        this.delivery = new AlertDelivery(Duration.ofMillis(settings.timeoutMs()));
        this.worker = new Thread(this::work, "sluice-alerts-" + cluster);
        worker.setDaemon(true);
        worker.start();
        events.addListener(listener);
        log.info("alerts for cluster '{}': {}", cluster, settings);
    }

    /** Alerts that reached at least one receiver. */
    public long sent() {
        return sent.get();
    }

    /** Alerts held back as repeats within the de-duplication window. */
    public long suppressed() {
        return suppressed.get();
    }

    /** Events lost because the queue was full. */
    public long dropped() {
        return dropped.get();
    }

    /** Deliveries (one alert to one receiver) that failed. */
    public long failed() {
        return failed.get();
    }

    private void enqueue(EventLog.Event e) {
        if (closed || AlertKinds.of(e.type()) == null) {
            return;
        }
        if (!queue.offer(e) && dropped.getAndIncrement() % 100 == 0) {
            log.warn("alerts for cluster '{}': queue full, events dropped ({} so far)", cluster, dropped.get());
        }
    }

    private void work() {
        while (!closed) {
            try {
                EventLog.Event e = queue.poll(TICK_MS, TimeUnit.MILLISECONDS);
                long now = TimeUnit.NANOSECONDS.toMillis(System.nanoTime());
                if (e != null) {
                    String kind = AlertKinds.of(e.type());
                    List<AlertDedup.Out<EventLog.Event>> out = dedup.offer(kind + "\u0000" + e.node(), e, now);
                    if (out.isEmpty()) {
                        suppressed.incrementAndGet();
                    }
                    out.forEach(this::deliver);
                }
                dedup.due(now).forEach(this::deliver);
            } catch (InterruptedException ie) {
                return; // closing
            } catch (RuntimeException re) { // never let one bad alert end alerting
                log.warn("alerts for cluster '{}': {}", cluster, re.toString(), re);
            }
        }
    }

    private void deliver(AlertDedup.Out<EventLog.Event> o) {
        Alert a = Alert.of(cluster, AlertKinds.of(o.item().type()), o.item(), o.suppressed());
        byte[] body;
        try {
            body = json.writeValueAsBytes(a);
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot serialize alert " + a.kind(), e);
        }
        boolean reached = false;
        for (URI w : settings.webhooks()) {
            reached |= attempt(a, "webhook " + AlertSettings.safeName(w), () -> delivery.post(w, body));
        }
        if (settings.command() != null) {
            reached |= attempt(a, "alert-command", () -> delivery.run(settings.command(), body, a));
        }
        if (reached) {
            sent.incrementAndGet();
        }
    }

    private interface Attempt {
        void run() throws Exception;
    }

    private boolean attempt(Alert a, String receiver, Attempt attempt) {
        try {
            attempt.run();
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (Exception e) {
            failed.incrementAndGet();
            log.warn("alerts for cluster '{}': {} alert for {} not delivered to {}: {}", cluster, a.kind(),
                    a.node() == null ? "the cluster" : a.node(), receiver, e.getMessage() != null ? e.getMessage() : e.toString());
            return false;
        }
    }

    /** Stops listening; alerts still queued are not sent (the proxy is going away). */
    @Override
    public void close() {
        closed = true;
        events.removeListener(listener);
        worker.interrupt();
        try {
            worker.join(settings.timeoutMs() + 1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
