package dev.sluice.core.route;

import dev.sluice.core.config.ClusterConfig;
import dev.sluice.core.sql.Classification;
import dev.sluice.core.sql.SqlClassifier;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * The routing engine of one cluster, shared by all sessions of one driver data source or proxy. It owns
 * everything it uses (classifier cache, balancer, in-flight counts, topology), so two routers in one JVM
 * share nothing. Thread-safe; the topology is an immutable snapshot swapped whole.
 */
public final class Router {
    private final ClusterConfig config;
    private final SqlClassifier classifier;
    private final InFlight inFlight = new InFlight();
    private final Balancer balancer;
    private final LongAdder primaryFallbacks = new LongAdder();
    private volatile Topology topology;

    public Router(ClusterConfig config) {
        this.config = config;
        this.classifier = new SqlClassifier(config.engine().dialect(), new HashSet<>(config.primaryFunctions()),
                config.classifierCacheChars());
        this.balancer = Balancer.create(config, inFlight);
        this.topology = Topology.unknown(config.nodes().stream().map(n -> n.name()).toList());
    }

    public ClusterConfig config() {
        return config;
    }

    public Topology topology() {
        return topology;
    }

    public void updateTopology(Topology t) {
        this.topology = t;
    }

    public Classification classify(String sql) {
        return classifier.classify(sql);
    }

    public SqlClassifier classifier() {
        return classifier;
    }

    /** A new session: one per application connection (driver) or client connection (proxy). */
    public Session newSession() {
        return new Session(this);
    }

    /** Call around a statement's execution on {@code node}, for least-outstanding balancing. */
    public void started(String node) {
        inFlight.started(node);
    }

    public void finished(String node) {
        inFlight.finished(node);
    }

    /** Reads that wanted a replica but went to the primary because none was healthy. */
    public long primaryFallbacks() {
        return primaryFallbacks.sum();
    }

    String primaryOrThrow(Topology t, String why) {
        String p = t.primary();
        if (p == null) {
            throw new NoRouteException("cluster '" + config.name() + "': no primary for " + why + ": " + t.noPrimaryReason());
        }
        return p;
    }

    /** A replica for a read, or the primary (counted) when no replica is healthy; null if neither exists. */
    String replicaOrPrimary(Topology t) {
        List<String> reps = t.replicas();
        if (!reps.isEmpty() && config.replicaReads()) {
            return balancer.pick(reps);
        }
        if (t.primary() != null && config.replicaReads()) {
            primaryFallbacks.increment();
        }
        return t.primary();
    }
}
