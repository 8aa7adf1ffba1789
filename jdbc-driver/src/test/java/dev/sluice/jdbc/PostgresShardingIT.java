package dev.sluice.jdbc;

import dev.sluice.testsupport.Clusters;
import dev.sluice.testsupport.DbCluster;
import org.junit.jupiter.api.BeforeAll;

/** Three shards as databases shard1..3 of one PostgreSQL primary with a streaming replica; reference: database ref. */
class PostgresShardingIT extends ShardingQueryTests {
    @BeforeAll
    static void start() throws Exception {
        DbCluster c = Clusters.startPostgres("shard-pg", 1);
        CLUSTERS.add(c);
        for (int i = 1; i <= 3; i++) {
            createDatabase(c, "shard" + i);
            SHARDS.add(new Shard(c, "shard" + i));
        }
        createDatabase(c, "ref");
        refUrl = directUrl(c, c.primary(), "ref");
        setUp();
    }
}
