package dev.sluice.core.coord;

import dev.sluice.core.failover.FailoverResult;
import java.util.List;
import java.util.Map;

/** No coordination: one instance, which leads itself. The router keeps its own epoch (not shared). */
final class LocalCoordinator implements Coordinator {
    private final String name;
    private volatile long epoch = 1;
    private volatile String primary;

    LocalCoordinator(String name) {
        this.name = name;
    }

    @Override
    public boolean clustered() {
        return false;
    }

    @Override
    public String instanceName() {
        return name;
    }

    @Override
    public void start(Listener listener, RequestHandler handler) {
    }

    @Override
    public SharedTopology current() {
        return null;
    }

    @Override
    public SharedTopology seed(String p, long e) {
        return null;
    }

    @Override
    public SharedTopology tryPublishPromotion(long expectedEpoch, String newPrimary) {
        return null; // not used: a local router makes its own epochs
    }

    @Override
    public void publishDrained(String node, boolean drained) {
    }

    @Override
    public Map<String, String> sharedOptions() {
        return Map.of();
    }

    @Override
    public void publishOptions(Map<String, String> options) {
        throw new IllegalStateException("shared configuration needs cluster mode (coordination-zookeeper-connect)");
    }

    @Override
    public boolean isLeader() {
        return true;
    }

    @Override
    public FailoverResult askLeader(Request r) {
        throw new IllegalStateException("no leader to ask: not in cluster mode");
    }

    @Override
    public boolean writesAllowed() {
        return true;
    }

    @Override
    public String writesRefusedReason() {
        return null;
    }

    @Override
    public void reportApplied(long e, String p) {
        epoch = e;
        primary = p;
    }

    @Override
    public CoordinationStatus status() {
        return new CoordinationStatus("local", name, name,
                List.of(new CoordinationStatus.Instance(name, epoch, primary, true, true)), "none", true, null, epoch);
    }

    @Override
    public void close() {
    }
}
