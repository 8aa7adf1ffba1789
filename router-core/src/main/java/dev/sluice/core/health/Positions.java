package dev.sluice.core.health;

import dev.sluice.core.sql.Dialect;
import java.util.HashMap;
import java.util.Map;

/**
 * Compares replication positions for read-your-writes in position mode: has a replica replayed at least up
 * to a given commit?
 * <ul>
 *   <li>PostgreSQL LSN {@code 16/B374D848}: a replica covers a commit when its replay LSN ≥ the commit LSN.</li>
 *   <li>MariaDB GTID {@code domain-server-seq[,…]}: covered when, for each domain in the required position,
 *       the replica's sequence number in that domain is ≥ the required one.</li>
 *   <li>MySQL GTID set {@code uuid:1-100[:…][,…]}: covered when, for each source uuid, the replica has
 *       executed up to the highest required transaction number (sources commit in order).</li>
 * </ul>
 * An unparsable or missing position never covers anything: the read then goes to the fallback.
 */
public final class Positions {
    private Positions() {
    }

    public static boolean covers(Dialect dialect, String replica, String required) {
        if (replica == null || required == null || replica.isBlank()) {
            return false;
        }
        try {
            if (dialect == Dialect.POSTGRESQL) {
                return lsn(replica) >= lsn(required);
            }
            return required.contains(":") ? mysqlCovers(replica, required) : mariaCovers(replica, required);
        } catch (RuntimeException e) {
            return false;
        }
    }

    static long lsn(String s) {
        int slash = s.indexOf('/');
        return (Long.parseLong(s.substring(0, slash).trim(), 16) << 32) | Long.parseLong(s.substring(slash + 1).trim(), 16);
    }

    private static boolean mariaCovers(String replica, String required) {
        Map<Long, Long> have = new HashMap<>();
        for (String g : replica.split(",")) {
            if (!g.isBlank()) {
                String[] p = g.trim().split("-");
                have.merge(Long.parseLong(p[0]), Long.parseLong(p[2]), Math::max);
            }
        }
        for (String g : required.split(",")) {
            if (g.isBlank()) {
                continue;
            }
            String[] p = g.trim().split("-");
            Long seq = have.get(Long.parseLong(p[0]));
            if (seq == null || seq < Long.parseLong(p[2])) {
                return false;
            }
        }
        return true;
    }

    private static boolean mysqlCovers(String replica, String required) {
        Map<String, Long> have = maxPerSource(replica);
        for (Map.Entry<String, Long> e : maxPerSource(required).entrySet()) {
            Long h = have.get(e.getKey());
            if (h == null || h < e.getValue()) {
                return false;
            }
        }
        return true;
    }

    private static Map<String, Long> maxPerSource(String set) {
        Map<String, Long> out = new HashMap<>();
        for (String part : set.replace("\n", "").split(",")) {
            if (part.isBlank()) {
                continue;
            }
            String[] p = part.trim().split(":");
            long max = 0;
            for (int i = 1; i < p.length; i++) {
                String[] range = p[i].split("-");
                max = Math.max(max, Long.parseLong(range[range.length - 1]));
            }
            out.merge(p[0].toLowerCase(java.util.Locale.ROOT), max, Math::max);
        }
        return out;
    }
}
