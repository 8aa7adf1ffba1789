package dev.sluice.proxy.net;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts a proxy's clients against max-client-connections. A client is counted from its admission until its
 * connection ends; a refused one is never counted. Safe from any thread.
 */
public final class ClientAdmission {
    private final int max;
    private final AtomicInteger clients = new AtomicInteger();

    public ClientAdmission(int maxClients) {
        this.max = maxClients;
    }

    /** Counts one more client, or returns false (and counts nothing) when {@code maxClients} are in already. */
    public boolean admit() {
        // increment first: two clients racing for the last slot cannot both get it
        if (clients.incrementAndGet() > max) {
            clients.decrementAndGet();
            return false;
        }
        return true;
    }

    /** An admitted client is gone: its slot is free. Call once per successful {@link #admit}. */
    public void release() {
        clients.decrementAndGet();
    }

    public int count() {
        return clients.get();
    }
}
