package dev.sluice.core.config;

/** How reads are spread over a cluster's healthy replicas. */
public enum Balancing {
    ROUND_ROBIN("round-robin"),
    WEIGHTED_RANDOM("weighted-random"),
    LEAST_OUTSTANDING("least-outstanding"),
    /** Each session keeps the replica it first read from while that one qualifies (Pgpool-II's way); chosen round-robin. */
    SESSION("session");

    private final String configName;

    Balancing(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }

    public static Balancing parse(String key, String value) {
        for (Balancing b : values()) {
            if (b.configName.equalsIgnoreCase(value.trim())) {
                return b;
            }
        }
        throw new ConfigException(key + ": unknown balancing '" + value + "' (expected round-robin, weighted-random, least-outstanding or session)");
    }
}
