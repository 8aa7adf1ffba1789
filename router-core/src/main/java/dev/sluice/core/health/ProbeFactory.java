package dev.sluice.core.health;

import dev.sluice.core.config.NodeConfig;

/** Creates the I/O side of health monitoring for one cluster (wired by the driver or the proxy). */
public interface ProbeFactory {
    NodeProbe probe(NodeConfig node);

    HeartbeatWriter heartbeatWriter(NodeConfig primary);
}
