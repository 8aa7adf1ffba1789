package dev.sluice.jdbc;

import dev.sluice.testsupport.Clusters;
import dev.sluice.testsupport.DbCluster;
import org.junit.jupiter.api.BeforeAll;

/** Three shards as databases shard1..3 of one MariaDB primary with a GTID replica; reference: database ref. */
class MariaDbShardingIT extends ShardingQueryTests {
    @BeforeAll
    static void start() throws Exception {
        DbCluster c = Clusters.startMariaDb("shard-maria", 1);
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
