package dev.sluice.proxy.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.sluice.core.config.ClusterConfig;
import dev.sluice.core.config.Engine;
import dev.sluice.core.config.NodeConfig;
import dev.sluice.core.route.NodeRole;
import dev.sluice.core.route.NodeStatus;
import dev.sluice.core.route.Router;
import dev.sluice.core.route.Topology;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class AnyNodeTest {
    static final List<String> NODES = List.of("a", "b", "c", "d");

    final Router router = new Router(ClusterConfig.of("test", "c", Engine.POSTGRESQL, "db",
            List.of(new NodeConfig("a", "h1", 1, 1), new NodeConfig("b", "h2", 2, 1), new NodeConfig("c", "h3", 3, 1),
                    new NodeConfig("d", "h4", 4, 1)), Map.of(), Map.of()));
    final List<String> probed = new ArrayList<>();
    final AnyNode any = new AnyNode(router, NODES, new BackendHealth(router, () -> probed.add("probe"), m -> false));

    static Topology topology(NodeRole a, NodeRole b, NodeRole c, NodeRole d) {
        return Topology.of(List.of(new NodeStatus("a", a, "t", 0), new NodeStatus("b", b, "t", 0),
                new NodeStatus("c", c, "t", 0), new NodeStatus("d", d, "t", 0)));
    }

    @Test
    void primaryFirstThenReadCandidatesThenTheRest() {
        assertEquals(List.of("c", "b", "d", "a"),
                AnyNode.order(topology(NodeRole.DOWN, NodeRole.REPLICA, NodeRole.PRIMARY, NodeRole.REPLICA), NODES));
    }

    @Test
    void withoutPrimaryOrCandidatesConfigurationOrder() {
        assertEquals(NODES, AnyNode.order(Topology.unknown(NODES), NODES));
    }

    @Test
    void triesNodesInTurnReportingEachFailure() {
        router.updateTopology(topology(NodeRole.REPLICA, NodeRole.PRIMARY, NodeRole.DOWN, NodeRole.DOWN));
        List<String> tried = new ArrayList<>();
        Object conn = new Object();
        AtomicReference<Object> got = new AtomicReference<>();
        AtomicReference<Throwable> error = new AtomicReference<>();
        any.acquire((node, loop, cb) -> {
            tried.add(node);
            if (node.equals("c")) {
                cb.accept(conn, null);
            } else {
                cb.accept(null, new IOException("refused by " + node));
            }
        }, null, (c, err) -> {
            got.set(c);
            error.set(err);
        });
        assertEquals(List.of("b", "a", "c"), tried);
        assertSame(conn, got.get());
        assertNull(error.get());
        assertEquals(2, probed.size(), "one probe request per failed node");
        assertEquals(1, router.generation("b"), "a refused connection takes the node out");
        assertEquals(1, router.generation("a"));
        assertEquals(0, router.generation("c"));
    }

    @Test
    void whenNoNodeGivesOneTheLastFailureIsNamed() {
        IOException last = new IOException("refused by d");
        AtomicReference<Throwable> error = new AtomicReference<>();
        any.acquire((node, loop, cb) -> cb.accept(null, node.equals("d") ? last : new IOException("refused by " + node)), null,
                (c, err) -> error.set(err));
        assertInstanceOf(IOException.class, error.get());
        assertEquals("no node accepted a connection: refused by d", error.get().getMessage());
        assertSame(last, error.get().getCause());
        assertEquals(4, probed.size());
    }
}
