package dev.sluice.admin;

import dev.sluice.jdbc.SluiceAdmin;
import dev.sluice.jdbc.StatusServerProvider;
import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * The driver's way to the status page (option {@code status-listen}): the same {@link AdminServer}, page and
 * endpoints the proxy serves, over the application's own cluster runtime. Registered in
 * META-INF/services, found by the driver with ServiceLoader.
 */
public final class AdminStatusServerProvider implements StatusServerProvider {
    @Override
    public StatusServer start(InetSocketAddress bind, String token, SluiceAdmin admin) throws IOException {
        AdminServer server = new AdminServer(bind, token, admin);
        server.start();
        InetSocketAddress bound = new InetSocketAddress(bind.getHostString(), server.port());
        return new StatusServer() {
            @Override
            public InetSocketAddress address() {
                return bound;
            }

            @Override
            public void close() {
                server.close();
            }
        };
    }
}
