package dev.sluice.core.config;

import dev.sluice.core.sql.Dialect;

/** The database engine of a cluster. */
public enum Engine {
    POSTGRESQL("postgresql", Dialect.POSTGRESQL, 5432),
    MYSQL("mysql", Dialect.MYSQL, 3306),
    MARIADB("mariadb", Dialect.MYSQL, 3306);

    private final String configName;
    private final Dialect dialect;
    private final int defaultPort;

    Engine(String configName, Dialect dialect, int defaultPort) {
        this.configName = configName;
        this.dialect = dialect;
        this.defaultPort = defaultPort;
    }

    public String configName() {
        return configName;
    }

    public Dialect dialect() {
        return dialect;
    }

    public int defaultPort() {
        return defaultPort;
    }

    public static Engine parse(String key, String value) {
        for (Engine e : values()) {
            if (e.configName.equalsIgnoreCase(value.trim())) {
                return e;
            }
        }
        throw new ConfigException(key + ": unknown engine '" + value + "' (expected postgresql, mysql or mariadb)");
    }
}
