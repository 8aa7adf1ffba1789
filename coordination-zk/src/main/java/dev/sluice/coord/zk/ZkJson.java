package dev.sluice.coord.zk;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.core.coord.CoordinationStatus;
import dev.sluice.core.coord.Coordinator;
import dev.sluice.core.coord.SharedTopology;
import dev.sluice.core.failover.FailoverResult;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * The znodes' contents, all JSON so an operator can read them with {@code zkCli.sh get}. Unknown fields are
 * ignored: an older instance keeps reading what a newer one wrote.
 */
final class ZkJson {
    private static final ObjectMapper M = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private ZkJson() {
    }

    /** {@code <root>/clusters/<c>/config}: the shared option overrides and who published them. */
    record SharedConfig(Map<String, String> options, String by) {
        SharedConfig {
            options = options == null ? Map.of() : Map.copyOf(options);
        }
    }

    /**
     * {@code <root>/clusters/<c>/requests/req-N}: a promote/switchover for the leader. The leader marks it
     * {@code takenBy} (compare-and-set, so one leader runs it) and then writes the {@code result}.
     */
    record RequestNode(Coordinator.Request request, String from, String takenBy, FailoverResult result) {
    }

    static byte[] write(Object o) {
        try {
            return M.writeValueAsBytes(o);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static SharedTopology topology(byte[] b) {
        return read(b, SharedTopology.class);
    }

    static SharedConfig config(byte[] b) {
        return read(b, SharedConfig.class);
    }

    static RequestNode request(byte[] b) {
        return read(b, RequestNode.class);
    }

    static CoordinationStatus.Instance instance(byte[] b) {
        return read(b, CoordinationStatus.Instance.class);
    }

    private static <T> T read(byte[] b, Class<T> type) {
        if (b == null || b.length == 0) {
            return null;
        }
        try {
            return M.readValue(b, type);
        } catch (IOException e) {
            throw new UncheckedIOException("unreadable " + type.getSimpleName() + " znode: " + e.getMessage(), e);
        }
    }
}
