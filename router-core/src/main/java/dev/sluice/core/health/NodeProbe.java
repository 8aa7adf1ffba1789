package dev.sluice.core.health;

/**
 * Probes one node. Implemented where the I/O lives (the driver uses JDBC); keeps its connection between
 * probes and must honour the configured timeouts so a dead node can't stall the monitor.
 */
public interface NodeProbe extends AutoCloseable {
    ProbeResult probe();

    @Override
    void close();
}
