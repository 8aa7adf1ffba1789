package dev.sluice.testsupport;

/**
 * Starts real replicated database clusters as local processes on 127.0.0.1 (free ports, never 5432/3306).
 *
 * <p>System properties: {@code sluice.keepClusters=true} keeps the directories after close;
 * {@code sluice.clusterBaseDir} overrides where clusters live; {@code sluice.pgBin},
 * {@code sluice.mariadbd}, {@code sluice.mariadbInstallDb} override binary locations.
 */
public final class Clusters {
    private Clusters() {
    }

    /**
     * PostgreSQL 15 primary {@code pg-primary} plus {@code replicas} streaming hot standbys
     * {@code pg-replica1..n}.
     *
     * @throws IllegalStateException naming the missing binary/directory when PostgreSQL 15 is not installed
     */
    public static DbCluster startPostgres(String name, int replicas) {
        checkReplicas(replicas);
        return PostgresCluster.create(name, replicas);
    }

    /**
     * MariaDB primary {@code mariadb-primary} (server_id 1) plus {@code replicas} GTID replicas
     * {@code mariadb-replica1..n} (server_id 2..n+1, read_only=ON).
     *
     * @throws IllegalStateException naming the missing binary when mariadbd / mariadb-install-db are missing
     */
    public static DbCluster startMariaDb(String name, int replicas) {
        checkReplicas(replicas);
        return MariaDbCluster.create(name, replicas);
    }

    private static void checkReplicas(int replicas) {
        if (replicas < 0 || replicas > 8) {
            throw new IllegalArgumentException("replicas must be 0..8, was " + replicas);
        }
    }
}
