package dev.sluice.jdbc;

import dev.sluice.core.config.ClusterConfig;
import dev.sluice.core.config.ConfigException;
import dev.sluice.core.config.SluiceOption;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.DriverManager;
import java.sql.DriverPropertyInfo;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;

/**
 * The {@code jdbc:sluice:} driver. An application switches to Sluice by changing only its JDBC URL:
 * {@code jdbc:postgresql://h1/db} becomes {@code jdbc:sluice:postgresql://h1,h2,h3/db}.
 *
 * <p>Each distinct URL + properties gets one {@link ClusterRuntime} (router, per-node pools, probes),
 * created on first connect and kept until {@link #closeAll()}. The runtimes live in this driver instance,
 * not in static fields.
 */
public final class SluiceDriver implements Driver {
    static {
        try {
            DriverManager.registerDriver(new SluiceDriver());
        } catch (SQLException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Map<String, ClusterRuntime> runtimes = new ConcurrentHashMap<>();
    /** Sharded logical databases ({@code jdbc:sluice:file:…?database=NAME}), one per URL + properties. */
    private final Map<String, ShardedRuntime> sharded = new ConcurrentHashMap<>();

    @Override
    public Connection connect(String url, Properties info) throws SQLException {
        if (!acceptsURL(url)) {
            return null; // JDBC contract: not ours, let DriverManager try the next driver
        }
        boolean isSharded;
        try {
            isSharded = SluiceUrl.isSharded(url, info);
        } catch (ConfigException e) {
            throw new SQLException("Sluice: bad configuration: " + e.getMessage(), "08001", e);
        }
        if (isSharded) {
            return new ShardedConnection(shardedRuntime(url, info));
        }
        ClusterRuntime rt = runtime(url, info);
        return new SluiceConnection(rt);
    }

    ShardedRuntime shardedRuntime(String url, Properties info) throws SQLException {
        String key = key(url, info);
        ShardedRuntime rt = sharded.get(key);
        if (rt != null) {
            return rt;
        }
        YamlConfig.ShardedConfig cfg;
        try {
            cfg = SluiceUrl.parseSharded(url, info);
        } catch (ConfigException e) {
            throw new SQLException("Sluice: bad configuration: " + e.getMessage(), "08001", e);
        }
        try {
            return sharded.computeIfAbsent(key, k -> new ShardedRuntime(cfg));
        } catch (IllegalStateException | IllegalArgumentException | ConfigException | java.io.UncheckedIOException e) {
            throw new SQLException("Sluice: " + e.getMessage(), "08001", e);
        }
    }

    ClusterRuntime runtime(String url, Properties info) throws SQLException {
        String key = key(url, info);
        ClusterRuntime rt = runtimes.get(key);
        if (rt != null) {
            return rt;
        }
        ClusterConfig cfg;
        try {
            cfg = SluiceUrl.parse(url, info);
        } catch (ConfigException e) {
            throw new SQLException("Sluice: bad configuration: " + e.getMessage(), "08001", e);
        }
        try {
            return runtimes.computeIfAbsent(key, k -> {
                ClusterRuntime created = new ClusterRuntime(cfg);
                try {
                    created.startStatusServer();
                } catch (RuntimeException e) {
                    created.close();
                    throw e;
                }
                return created;
            });
        } catch (IllegalStateException | IllegalArgumentException | ConfigException | java.io.UncheckedIOException e) {
            throw new SQLException("Sluice: " + e.getMessage(), "08001", e);
        }
    }

    private static String key(String url, Properties info) {
        Map<String, String> sorted = new TreeMap<>();
        if (info != null) {
            for (String k : info.stringPropertyNames()) {
                sorted.put(k, info.getProperty(k));
            }
        }
        return url + "\u0000" + sorted;
    }

    /** Closes the runtime (pools, monitor) of one URL + properties, if open. */
    public static void close(String url, Properties info) throws SQLException {
        for (Driver d : java.util.Collections.list(DriverManager.getDrivers())) {
            if (d instanceof SluiceDriver s) {
                ClusterRuntime rt = s.runtimes.remove(key(url, info));
                if (rt != null) {
                    rt.close();
                }
                ShardedRuntime srt = s.sharded.remove(key(url, info));
                if (srt != null) {
                    srt.close();
                }
            }
        }
    }

    /** Closes every pool and probe this driver opened (for tests and orderly shutdown). */
    public static void closeAll() throws SQLException {
        for (Driver d : java.util.Collections.list(DriverManager.getDrivers())) {
            if (d instanceof SluiceDriver s) {
                s.runtimes.values().forEach(ClusterRuntime::close);
                s.runtimes.clear();
                s.sharded.values().forEach(ShardedRuntime::close);
                s.sharded.clear();
            }
        }
    }

    @Override
    public boolean acceptsURL(String url) {
        return SluiceUrl.accepts(url);
    }

    @Override
    public DriverPropertyInfo[] getPropertyInfo(String url, Properties info) {
        SluiceOption[] opts = SluiceOption.values();
        DriverPropertyInfo[] out = new DriverPropertyInfo[opts.length];
        for (int i = 0; i < opts.length; i++) {
            DriverPropertyInfo p = new DriverPropertyInfo(opts[i].key(),
                    info == null ? opts[i].defaultValue() : info.getProperty(opts[i].key(), opts[i].defaultValue()));
            p.description = opts[i].doc();
            p.required = false;
            out[i] = p;
        }
        return out;
    }

    @Override
    public int getMajorVersion() {
        return 0;
    }

    @Override
    public int getMinorVersion() {
        return 1;
    }

    @Override
    public boolean jdbcCompliant() {
        return false; // compliance is the underlying driver's; Sluice only routes
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        throw new SQLFeatureNotSupportedException("Sluice logs through SLF4J");
    }
}
