package dev.sluice.proxy;

import dev.sluice.core.config.ConfigException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ./sluice proxy --config FILE}: runs the proxy until Ctrl-C / SIGTERM. */
@Command(name = "proxy", mixinStandardHelpOptions = true,
        description = "Run the PostgreSQL wire-protocol proxy (and its admin API) for a cluster file's `proxy:` section.")
final class ProxyCommand implements Callable<Integer> {
    @Option(names = {"-c", "--config"}, required = true, description = "Cluster YAML file with a proxy: section (docs/proxy.md).")
    Path config;

    @Override
    public Integer call() throws Exception {
        ProxyConfig cfg;
        try {
            cfg = ProxyConfig.load(config);
        } catch (ConfigException e) {
            System.err.println("sluice: bad configuration: " + e.getMessage());
            return 2;
        }
        // also logged at WARN by load(); printed here so someone starting the proxy by hand sees it above the log
        cfg.warnings().forEach(w -> System.err.println("sluice: warning: " + w));
        if (System.getProperty("io.netty.leakDetection.level") == null) {
            // Netty's default samples one buffer in 128 with a stack trace, ~1.5 % of the proxy's CPU under load
            // (docs/benchmarks.md section 6). The tests keep it (they build ProxyServer directly); an operator can
            // turn it back on with -Dio.netty.leakDetection.level=simple in SLUICE_JAVA_OPTS.
            io.netty.util.ResourceLeakDetector.setLevel(io.netty.util.ResourceLeakDetector.Level.DISABLED);
        }
        CountDownLatch stop = new CountDownLatch(1);
        ProxyServer server;
        try {
            server = new ProxyServer(cfg);
        } catch (ConfigException e) {
            System.err.println("sluice: bad configuration: " + e.getMessage());
            return 2;
        } catch (Exception e) {
            System.err.println("sluice: cannot start the proxy: " + e);
            return 1;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stop.countDown();
        }, "sluice-proxy-shutdown"));
        System.out.println("sluice proxy: " + (server.pg() != null ? "PostgreSQL" : "MySQL/MariaDB") + " clients connect to "
                + hostPort(server.address())
                + (server.adminAddress() != null ? "; admin API " + (cfg.adminTls() ? "https" : "http") + "://" + hostPort(server.adminAddress()) + "/status" : ""));
        stop.await();
        return 0;
    }

    static String hostPort(java.net.InetSocketAddress a) {
        return a.getHostString() + ":" + a.getPort();
    }
}
