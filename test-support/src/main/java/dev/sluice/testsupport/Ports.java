package dev.sluice.testsupport;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** Free loopback ports. A port found free may be taken before the server binds it: callers retry on a clash. */
final class Ports {
    private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();

    private Ports() {
    }

    static int freePort() {
        for (int i = 0; i < 100; i++) {
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
                int port = s.getLocalPort();
                if (port != 5432 && port != 3306 && HANDED_OUT.add(port)) {
                    return port;
                }
            } catch (IOException e) {
                throw new ClusterException("Cannot find a free port on 127.0.0.1", e);
            }
        }
        throw new ClusterException("Cannot find a free port on 127.0.0.1");
    }

    /** Whether a server log tail says the listen port was taken. */
    static boolean isPortClash(List<String> logTail) {
        for (String line : logTail) {
            if (line.contains("Address already in use") || line.contains("Bind on TCP/IP port")
                    || line.contains("could not create any TCP/IP sockets")) {
                return true;
            }
        }
        return false;
    }
}
