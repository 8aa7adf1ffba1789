package dev.sluice.proxy;

import dev.sluice.admin.NodeNames;
import dev.sluice.core.failover.FailoverResult;
import dev.sluice.core.health.ClusterStatus;
import dev.sluice.jdbc.SluiceAdmin;
import dev.sluice.jdbc.SluiceDriver;
import java.io.PrintStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Admin commands, either directly against the databases of a cluster file (driver-only deployments: the
 * in-app drivers then converge through role discovery) or through a running proxy's admin API
 * ({@code --admin URL}). Both give the same output and exit codes: 0 done, 1 refused or failed, 2 bad usage,
 * configuration, or an admin endpoint that cannot be used as given.
 */
final class ClusterCommands {
    static final String TOKEN_ENV = "SLUICE_ADMIN_TOKEN";

    private ClusterCommands() {
    }

    /** Options every cluster command takes. */
    abstract static class Base implements Callable<Integer> {
        @Option(names = {"-c", "--config"}, paramLabel = "FILE",
                description = "Cluster YAML file (docs/configuration.md): work directly against the databases.")
        Path config;

        @Option(names = "--cluster", description = "Cluster name when the file has several (with -c).")
        String cluster;

        @Option(names = "--admin", paramLabel = "URL",
                description = "A running proxy's admin API instead of -c, e.g. http://127.0.0.1:6480 (docs/admin-api.md).")
        String adminUrl;

        @Option(names = "--token", description = "Admin token for --admin (default: $" + TOKEN_ENV + "; prefer the variable: "
                + "arguments show in the process list).")
        String token;

        @Option(names = "--cacert", paramLabel = "FILE",
                description = "PEM certificate(s) to trust for an https --admin URL (e.g. the proxy's self-signed tls-cert).")
        Path cacert;

        @Option(names = "--insecure", description = "For an https --admin URL: do not check the certificate at all (testing only).")
        boolean insecure;

        PrintStream out = System.out;
        PrintStream err = System.err;

        @Override
        public Integer call() {
            if ((config == null) == (adminUrl == null)) {
                err.println("sluice: give exactly one of -c/--config FILE (work directly against the databases) or --admin URL "
                        + "(a running proxy's admin API)" + (config != null ? ", not both" : ""));
                return 2;
            }
            if (adminUrl != null) {
                if (cluster != null) {
                    err.println("sluice: --cluster applies to -c only: a proxy's admin API serves one cluster");
                    return 2;
                }
                return viaAdmin();
            }
            if (token != null || cacert != null || insecure) {
                err.println("sluice: " + (token != null ? "--token" : cacert != null ? "--cacert" : "--insecure") + " applies to --admin only");
                return 2;
            }
            return viaConfig();
        }

        private int viaAdmin() {
            AdminClient client;
            try {
                if (cacert != null && insecure) {
                    err.println("sluice: give --cacert or --insecure, not both");
                    return 2;
                }
                javax.net.ssl.SSLContext tls;
                try {
                    tls = insecure ? Pem.trustingAnything() : cacert != null ? Pem.trusting(cacert) : null;
                } catch (java.io.IOException | java.security.GeneralSecurityException e) {
                    err.println("sluice: --cacert " + cacert + ": " + e.getMessage());
                    return 2;
                }
                client = new AdminClient(adminUrl, token != null ? token : System.getenv(TOKEN_ENV), tls);
            } catch (IllegalArgumentException e) {
                err.println("sluice: " + e.getMessage());
                return 2;
            }
            try {
                return run(client);
            } catch (AdminCallException e) {
                err.println("sluice: " + e.getMessage() + (e.status() == 401 ? " (give --token or set " + TOKEN_ENV + ")" : ""));
                return e.exitCode();
            } catch (RuntimeException e) {
                err.println("sluice: " + e.getMessage());
                return 1;
            }
        }

        private int viaConfig() {
            if (!Files.isReadable(config)) {
                err.println("sluice: --config " + config + ": not readable");
                return 2;
            }
            // this process only acts when told: never run automatic failover from the CLI
            String url = "jdbc:sluice:file:" + config.toAbsolutePath() + "?failover=off"
                    + (cluster == null ? "" : "&cluster=" + URLEncoder.encode(cluster, StandardCharsets.UTF_8));
            try (Connection c = DriverManager.getConnection(url)) {
                return run(c.unwrap(SluiceAdmin.class));
            } catch (SQLException e) {
                err.println("sluice: " + e.getMessage());
                return e.getMessage() != null && e.getMessage().contains("bad configuration") ? 2 : 1;
            } catch (RuntimeException e) {
                err.println("sluice: " + e.getMessage());
                return 1;
            } finally {
                try {
                    SluiceDriver.close(url, null);
                } catch (SQLException ignored) {
                    // exiting anyway
                }
            }
        }

        /** Runs the command; a RuntimeException is a failure (exit 1) reported by its message. */
        abstract int run(SluiceAdmin admin);

        /**
         * Exit 2 with the cluster's real node names when {@code node} is not one of them, else null: checked
         * here so a typo reads the same in both modes and never reaches the cluster.
         */
        Integer unknownNode(SluiceAdmin admin, String node) {
            String problem = node == null ? null : NodeNames.problem(admin.clusterStatus(), node);
            if (problem == null) {
                return null;
            }
            err.println("sluice: " + problem);
            return 2;
        }

        int report(FailoverResult r) {
            r.steps().forEach(s -> out.println("  " + s.replace("\n", "\n      "))); // a hook's output: indented lines
            out.println(r.message());
            return r.promoted() ? 0 : 1;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true, description = "Nodes, roles, states, lag, recent events.")
    static final class Status extends Base {
        @Override
        int run(SluiceAdmin admin) {
            ClusterStatus s = admin.clusterStatus();
            out.printf("cluster %s (%s)  primary: %s%n", s.cluster(), s.engine(),
                    s.primary() != null ? s.primary() : "NONE - " + s.noPrimaryReason());
            out.printf("%-24s %-8s %-8s %8s  %s%n", "NODE", "ROLE", "STATE", "LAG", "REASON");
            for (ClusterStatus.NodeView n : s.nodes()) {
                out.printf("%-24s %-8s %-8s %8s  %s%n", n.name(), n.role(), n.state(),
                        n.lagMillis() == null ? "-" : n.lagMillis() + "ms", n.reason());
            }
            if (s.heartbeat() != null) {
                out.println("heartbeat: " + s.heartbeat());
            }
            dev.sluice.core.coord.CoordinationStatus c = s.coordination();
            if (c != null && !"local".equals(c.mode())) { // cluster mode: who leads, and which epoch each instance routes by
                out.printf("cluster mode (%s): leader %s, shared epoch %d, session %s%s%n", c.mode(),
                        c.leader() == null ? "NONE" : c.leader(), c.epoch(), c.sessionState(),
                        c.writesAllowed() ? "" : ", WRITES REFUSED: " + c.writesRefusedReason());
                for (dev.sluice.core.coord.CoordinationStatus.Instance i : c.instances()) {
                    out.printf("  instance %-24s %-8s epoch %-4d primary %s%s%n", i.name(), i.leader() ? "leader" : "follower",
                            i.epoch(), i.primary(), i.writesAllowed() ? "" : " (writes refused)");
                }
            }
            return s.primary() != null ? 0 : 1;
        }
    }

    /** drain and undrain: the same operation, either way. */
    abstract static class DrainBase extends Base {
        @Parameters(arity = "1", description = "Node name from the config.")
        String node;

        abstract boolean drained();

        @Override
        int run(SluiceAdmin admin) {
            Integer bad = unknownNode(admin, node);
            if (bad != null) {
                return bad;
            }
            admin.drain(node, drained());
            out.println((drained() ? "drained " : "undrained ") + node);
            return 0;
        }
    }

    @Command(name = "drain", mixinStandardHelpOptions = true,
            description = "Take NODE out of routing everywhere: recorded on the primary, every router follows within a second.")
    static final class Drain extends DrainBase {
        @Override
        boolean drained() {
            return true;
        }
    }

    @Command(name = "undrain", mixinStandardHelpOptions = true, description = "Put a drained NODE back into routing.")
    static final class Undrain extends DrainBase {
        @Override
        boolean drained() {
            return false;
        }
    }

    @Command(name = "promote", mixinStandardHelpOptions = true,
            description = "Promote NODE (or the most advanced replica) when the primary is dead; --force overrides the safety checks.")
    static final class Promote extends Base {
        @Parameters(arity = "0..1", description = "Node to promote (name from the config).")
        String node;

        @Option(names = "--force", description = "Promote even if the primary looks alive or a replica still streams from it.")
        boolean force;

        @Override
        int run(SluiceAdmin admin) {
            Integer bad = unknownNode(admin, node);
            return bad != null ? bad : report(admin.promote(node, force));
        }
    }

    @Command(name = "switchover", mixinStandardHelpOptions = true,
            description = "Planned switchover to --to NODE (or the most advanced replica): no lost writes, writes held briefly.")
    static final class Switchover extends Base {
        @Option(names = "--to", description = "Target node.")
        String to;

        @Option(names = "--dry-run", description = "Print the plan (each replica's position, the chosen target and why) and stop.")
        boolean dryRun;

        @Override
        int run(SluiceAdmin admin) {
            Integer bad = unknownNode(admin, to);
            if (bad != null) {
                return bad;
            }
            FailoverResult r = admin.switchover(to, dryRun);
            if (dryRun) {
                r.steps().forEach(s -> out.println("  " + s.replace("\n", "\n      "))); // a hook's output: indented lines
                out.println(r.message());
                return r.newPrimary() != null ? 0 : 1;
            }
            return report(r);
        }
    }
}
