package dev.sluice.proxy;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code ./sluice}: the command-line entry point. Subcommands are wired here, by constructor, in one place. */
@Command(name = "sluice", mixinStandardHelpOptions = true, version = "sluice 0.1.0",
        description = "Replication-aware routing for PostgreSQL and MySQL/MariaDB.",
        subcommands = {DemoCommand.class, ProxyCommand.class, PasswdCommand.class, ClusterCommands.Status.class, ClusterCommands.Promote.class,
                ClusterCommands.Switchover.class, ClusterCommands.Drain.class, ClusterCommands.Undrain.class, ShardOfCommand.class})
public final class SluiceCli implements Runnable {
    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new SluiceCli()).execute(args));
    }
}
