package dev.sluice.core.failover;

import dev.sluice.core.sql.Dialect;

/** Orders replication positions for choosing the most advanced failover candidate. */
final class PositionRank {
    private PositionRank() {
    }

    /**
     * A number that grows with the position: PostgreSQL LSN; MariaDB/MySQL the sum of the highest sequence
     * numbers over GTID domains / sources (one domain is the common case, where it is exact). Unknown: -1.
     */
    static long rank(Dialect d, String pos) {
        if (pos == null || pos.isBlank()) {
            return -1;
        }
        try {
            if (d == Dialect.POSTGRESQL) {
                int slash = pos.indexOf('/');
                return (Long.parseLong(pos.substring(0, slash).trim(), 16) << 32) | Long.parseLong(pos.substring(slash + 1).trim(), 16);
            }
            long sum = 0;
            for (String g : pos.replace("\n", "").split(",")) {
                if (g.isBlank()) {
                    continue;
                }
                String t = g.trim();
                if (t.contains(":")) { // MySQL uuid:1-100
                    String[] ranges = t.split(":");
                    String last = ranges[ranges.length - 1];
                    sum += Long.parseLong(last.substring(last.lastIndexOf('-') + 1));
                } else { // MariaDB domain-server-seq
                    sum += Long.parseLong(t.substring(t.lastIndexOf('-') + 1));
                }
            }
            return sum;
        } catch (RuntimeException e) {
            return -1;
        }
    }
}
