package dev.sluice.proxy.net;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** Threads for work that must not run on an event loop (it may block), which never keep the JVM alive. */
public final class DaemonThreads {
    private DaemonThreads() {
    }

    /** A cached pool of daemon threads named {@code name}: as many as blocked tasks need, none while idle. */
    public static ExecutorService cachedPool(String name) {
        return Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
    }
}
