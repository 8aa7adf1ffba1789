package dev.sluice.proxy;

import dev.sluice.jdbc.SluiceAdmin;
import java.net.InetSocketAddress;

/** Placeholder replaced by the admin API branch (see the admin helper's work). */
final class AdminServer implements AutoCloseable {
    private final com.sun.net.httpserver.HttpServer http;

    AdminServer(InetSocketAddress bind, String token, SluiceAdmin admin) throws java.io.IOException {
        http = com.sun.net.httpserver.HttpServer.create(bind, 16);
    }

    void start() {
        http.start();
    }

    int port() {
        return http.getAddress().getPort();
    }

    @Override
    public void close() {
        http.stop(0);
    }
}
