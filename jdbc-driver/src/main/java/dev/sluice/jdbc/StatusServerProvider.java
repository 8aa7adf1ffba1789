package dev.sluice.jdbc;

import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * Serves the status page and admin API over a {@link SluiceAdmin}: implemented by the {@code admin-http}
 * module and found with {@link java.util.ServiceLoader}, so the driver can serve the same page as the proxy
 * without depending on the module that depends on it. Used when the {@code status-listen} option is set.
 */
public interface StatusServerProvider {
    /**
     * Starts serving; the returned handle stops it.
     *
     * @param bind  where to listen; port 0 picks a free one
     * @param token bearer token of the mutating endpoints; null disables them
     */
    StatusServer start(InetSocketAddress bind, String token, SluiceAdmin admin) throws IOException;

    /** A running status server. */
    interface StatusServer extends AutoCloseable {
        /** The address actually bound. */
        InetSocketAddress address();

        @Override
        void close();
    }
}
