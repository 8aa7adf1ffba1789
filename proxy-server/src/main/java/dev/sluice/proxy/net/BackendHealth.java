package dev.sluice.proxy.net;

import dev.sluice.core.route.Router;
import java.io.IOException;
import java.util.function.Predicate;

/**
 * What a failed backend connection tells the cluster's health. Only a node that is gone (refused, reset, closed)
 * leaves routing at once; a node that is merely busy stays for everyone, and the probes decide about it. Either way
 * the health monitor is asked for an early probe round.
 */
public final class BackendHealth {
    private final Router router;
    private final Runnable probeSoon;
    private final Predicate<String> saysBusy;

    /**
     * @param probeSoon asks the health monitor for an early probe round
     * @param saysBusy  true for a failure message in which the node says it is busy (too many connections)
     */
    public BackendHealth(Router router, Runnable probeSoon, Predicate<String> saysBusy) {
        this.router = router;
        this.probeSoon = probeSoon;
        this.saysBusy = saysBusy;
    }

    /**
     * A connect or login to {@code node} failed. A login that is only slow (a storm of new connections on a loaded
     * node, a timeout), a full pool, or a node saying it has too many connections does not take it out of routing.
     */
    public void connectFailed(String node, Throwable err) {
        if (err instanceof IOException && !saysBusy.test(String.valueOf(err.getMessage()))) {
            router.connectionFailed(node, err);
        }
        probeSoon.run();
    }

    /**
     * A backend connection died under a session; {@code nodeGone} is the protocol's reading of how it died (silence
     * or a server shutting down, not an error about this connection only). Returns {@code nodeGone}.
     */
    public boolean lost(String node, Throwable cause, boolean nodeGone) {
        if (nodeGone) {
            router.connectionFailed(node, cause);
        }
        probeSoon.run();
        return nodeGone;
    }
}
