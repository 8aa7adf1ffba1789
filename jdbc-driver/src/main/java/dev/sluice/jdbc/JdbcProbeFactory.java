package dev.sluice.jdbc;

import dev.sluice.core.config.ClusterConfig;
import dev.sluice.core.config.NodeConfig;
import dev.sluice.core.health.HeartbeatWriter;
import dev.sluice.core.health.NodeProbe;
import dev.sluice.core.health.ProbeFactory;

/** Health-monitoring I/O over the real JDBC drivers. */
final class JdbcProbeFactory implements ProbeFactory {
    private final ClusterConfig config;

    JdbcProbeFactory(ClusterConfig config) {
        this.config = config;
    }

    @Override
    public NodeProbe probe(NodeConfig node) {
        return new JdbcNodeProbe(config, node);
    }

    @Override
    public HeartbeatWriter heartbeatWriter(NodeConfig primary) {
        return new JdbcHeartbeatWriter(config, primary);
    }
}
