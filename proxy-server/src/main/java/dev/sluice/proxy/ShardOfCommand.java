package dev.sluice.proxy;

import dev.sluice.core.config.ConfigException;
import dev.sluice.core.config.ConfigTree;
import dev.sluice.core.shard.ShardMap;
import dev.sluice.core.shard.ShardMapParser;
import dev.sluice.core.shard.ShardingException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ./sluice shard-of TABLE KEY -c FILE}: the shard a key of a sharded table lives on, computed from the file
 * alone (no database is contacted). Exit 0 with the answer, 2 for a bad file, table or key.
 */
@Command(name = "shard-of", mixinStandardHelpOptions = true,
        description = "Print the shard that holds KEY of TABLE in a sharded database (docs/sharding.md).")
final class ShardOfCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "TABLE")
    String table;

    @Parameters(index = "1", paramLabel = "KEY", arity = "0..1", description = "The shard key value (not needed for home and broadcast tables).")
    String key;

    @Option(names = {"-c", "--config"}, paramLabel = "FILE", required = true, description = "YAML file with clusters: and databases:.")
    Path config;

    @Option(names = "--database", description = "The sharded database, when the file has several.")
    String database;

    PrintStream out = System.out;
    PrintStream err = System.err;

    @Override
    public Integer call() {
        try {
            Object root = new com.fasterxml.jackson.databind.ObjectMapper(new com.fasterxml.jackson.dataformat.yaml.YAMLFactory())
                    .readValue(config.toFile(), Object.class);
            Map<String, ShardMap> dbs = ShardMapParser.allFromRoot(root, ConfigTree.clusters(root, config.toString()).keySet(), config.toString());
            if (dbs.isEmpty()) {
                err.println("sluice: " + config + " has no databases: section");
                return 2;
            }
            if (database == null && dbs.size() > 1) {
                err.println("sluice: " + config + " has databases " + dbs.keySet() + "; choose one with --database");
                return 2;
            }
            ShardMap map = database == null ? dbs.values().iterator().next() : dbs.get(database);
            if (map == null) {
                err.println("sluice: --database " + database + ": not in " + config + " (has " + dbs.keySet() + ")");
                return 2;
            }
            out.println(map.describe(table, key == null ? "" : key));
            return 0;
        } catch (IOException e) {
            err.println("sluice: --config " + config + ": " + e.getMessage());
            return 2;
        } catch (ConfigException | ShardingException e) {
            err.println("sluice: " + e.getMessage());
            return 2;
        }
    }
}
