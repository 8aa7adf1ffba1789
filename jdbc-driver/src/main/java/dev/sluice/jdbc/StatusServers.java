package dev.sluice.jdbc;

import dev.sluice.admin.AdminServer;
import dev.sluice.core.config.ClusterConfig;
import dev.sluice.core.config.ConfigTree;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;

/** Starts the driver's status page (the proxy's admin server, page and API) when {@code status-listen} is set. */
final class StatusServers {
    private StatusServers() {
    }

    /** The running server, or null when {@code status-listen} is not set. */
    static AdminServer start(ClusterConfig config, SluiceAdmin admin) {
        String listen = config.statusListen();
        if (listen == null || listen.isBlank() || listen.equalsIgnoreCase("off")) {
            return null;
        }
        InetSocketAddress bind = address(listen);
        try {
            AdminServer server = new AdminServer(bind, config.statusToken(), admin);
            server.start();
            return server;
        } catch (IOException e) {
            throw new UncheckedIOException("cluster '" + config.name() + "': status-listen " + listen + ": " + e.getMessage(), e);
        }
    }

    static InetSocketAddress address(String hostPort) {
        return ConfigTree.address(hostPort, "status-listen");
    }
}
