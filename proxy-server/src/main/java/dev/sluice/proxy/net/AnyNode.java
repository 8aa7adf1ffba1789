package dev.sluice.proxy.net;

import dev.sluice.core.route.Router;
import dev.sluice.core.route.Topology;
import io.netty.channel.EventLoop;
import java.io.IOException;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * A backend connection to whichever node gives one first, for what any node can answer (a client's welcome before
 * the server's parameters or version are known): the primary first, then the read candidates, then every other
 * node. Each failure is reported to the cluster's health before the next node is tried.
 */
public final class AnyNode {
    /** Where connections come from: the protocol's pool of {@code node}. */
    @FunctionalInterface
    public interface Source<C> {
        void acquire(String node, EventLoop loop, BiConsumer<C, Throwable> callback);
    }

    private final Router router;
    private final List<String> nodes;
    private final BackendHealth health;

    /** @param nodes every node of the cluster, in configuration order */
    public AnyNode(Router router, List<String> nodes, BackendHealth health) {
        this.router = router;
        this.nodes = List.copyOf(nodes);
        this.health = health;
    }

    /** The order nodes are tried in: primary, read candidates, every other node of {@code nodes}. */
    public static List<String> order(Topology t, List<String> nodes) {
        LinkedHashSet<String> order = new LinkedHashSet<>();
        if (t.primary() != null) {
            order.add(t.primary());
        }
        t.readCandidates().forEach(n -> order.add(n.name()));
        order.addAll(nodes);
        return List.copyOf(order);
    }

    /**
     * Hands {@code callback} a connection from the first node of {@link #order} that gives one, or an
     * {@link IOException} naming the last failure when none does.
     */
    public <C> void acquire(Source<C> source, EventLoop loop, BiConsumer<C, Throwable> callback) {
        acquireFirst(source, loop, order(router.topology(), nodes), 0, null, callback);
    }

    private <C> void acquireFirst(Source<C> source, EventLoop loop, List<String> order, int i, Throwable last,
                                  BiConsumer<C, Throwable> callback) {
        if (i >= order.size()) {
            callback.accept(null, new IOException("no node accepted a connection" + (last == null ? "" : ": " + last.getMessage()), last));
            return;
        }
        String node = order.get(i);
        source.acquire(node, loop, (c, err) -> {
            if (err == null) {
                callback.accept(c, null);
            } else {
                health.connectFailed(node, err);
                acquireFirst(source, loop, order, i + 1, err, callback);
            }
        });
    }
}
