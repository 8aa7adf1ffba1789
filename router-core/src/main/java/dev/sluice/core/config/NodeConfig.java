package dev.sluice.core.config;

/**
 * One database server of a cluster. Its role (primary or replica) is never taken from the config: it is
 * discovered by probing. {@code weight} steers weighted-random reads; {@code priority} breaks ties between
 * equally advanced failover candidates (higher first).
 */
public record NodeConfig(String name, String host, int port, int weight, int priority) {
    public NodeConfig(String name, String host, int port, int weight) {
        this(name, host, port, weight, 0);
    }

    public NodeConfig {
        if (name == null || name.isBlank()) {
            throw new ConfigException("node name: must not be empty");
        }
        if (host == null || host.isBlank()) {
            throw new ConfigException("node '" + name + "' host: must not be empty");
        }
        if (port < 1 || port > 65535) {
            throw new ConfigException("node '" + name + "' port: out of range: " + port);
        }
        if (weight < 0) {
            throw new ConfigException("node '" + name + "' weight: must be >= 0, got " + weight);
        }
    }

    public String address() {
        return host.contains(":") ? "[" + host + "]:" + port : host + ":" + port;
    }
}
