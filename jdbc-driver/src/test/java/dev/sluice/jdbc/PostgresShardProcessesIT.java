package dev.sluice.jdbc;

import dev.sluice.testsupport.Clusters;
import dev.sluice.testsupport.DbCluster;
import org.junit.jupiter.api.BeforeAll;

/** Three shards on three separate PostgreSQL clusters (a primary and a replica each: six server processes). */
class PostgresShardProcessesIT extends ShardingQueryTests {
    @BeforeAll
    static void start() throws Exception {
        for (int i = 1; i <= 3; i++) {
            DbCluster c = Clusters.startPostgres("shard-proc" + i, 1);
            CLUSTERS.add(c);
            SHARDS.add(new Shard(c, c.database()));
        }
        createDatabase(CLUSTERS.get(0), "ref");
        refUrl = directUrl(CLUSTERS.get(0), CLUSTERS.get(0).primary(), "ref");
        setUp();
    }
}
