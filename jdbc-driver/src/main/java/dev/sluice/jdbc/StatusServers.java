package dev.sluice.jdbc;

import dev.sluice.core.config.ClusterConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import dev.sluice.admin.AdminServer;

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
        int colon = hostPort.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("status-listen: expected host:port, got '" + hostPort + "'");
        }
        try {
            int port = Integer.parseInt(hostPort.substring(colon + 1));
            if (port < 0 || port > 65535) {
                throw new NumberFormatException();
            }
            return new InetSocketAddress(hostPort.substring(0, colon), port);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("status-listen: bad port in '" + hostPort + "' (expected 0..65535)");
        }
    }
}
