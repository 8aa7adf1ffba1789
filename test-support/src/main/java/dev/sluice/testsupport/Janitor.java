package dev.sluice.testsupport;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * Cluster directories and process clean-up.
 *
 * <ul>
 *   <li>Each cluster lives in {@code <base>/<name>-<random>}; {@code <base>} is {@code -Dsluice.clusterBaseDir},
 *       else {@code ./target/sluice-clusters} (when {@code ./target} exists and, for PostgreSQL run as root, the
 *       {@code postgres} user can traverse it), else {@code /tmp/sluice-clusters}.</li>
 *   <li>The cluster dir holds {@code owner.pid} (the JVM's pid); each node dir holds {@code node.pid}.</li>
 *   <li>A JVM shutdown hook SIGKILLs every node still running and deletes the dirs.</li>
 *   <li>A tiny {@code sh} watchdog per cluster does the same if the JVM dies without running hooks
 *       (e.g. SIGKILL of a surefire fork).</li>
 *   <li>Before creating a cluster, dirs in the base dir whose owner JVM is gone are reaped: their node pids are
 *       SIGKILLed (only if the process' command line mentions that dir) and the dir is deleted. By hand:
 *       {@code for f in target/sluice-clusters/}{@code *}{@code /}{@code *}{@code /node.pid; do kill -9 $(cat $f); done;
 *       rm -rf target/sluice-clusters /tmp/sluice-clusters}.</li>
 * </ul>
 */
final class Janitor {
    static final String KEEP_PROPERTY = "sluice.keepClusters";
    private static final Set<AbstractCluster> OPEN = ConcurrentHashMap.newKeySet();
    private static final Set<Path> REAPED_BASES = ConcurrentHashMap.newKeySet();
    private static final Set<Path> DELETE_AT_EXIT = ConcurrentHashMap.newKeySet();
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String WATCHDOG = String.join("\n",
            "dir=\"$1\"; jvm=\"$2\"; keep=\"$3\"",
            "while kill -0 \"$jvm\" 2>/dev/null; do sleep 1; done",
            "[ -d \"$dir\" ] || exit 0",
            "for f in \"$dir\"/*/node.pid; do",
            "  [ -f \"$f\" ] || continue; p=$(head -n1 \"$f\")",
            "  if [ -r \"/proc/$p/cmdline\" ] && tr '\\0' ' ' < \"/proc/$p/cmdline\" | grep -qF \"$dir\"; then",
            "    kill -9 \"$p\" 2>/dev/null",
            "  fi",
            "done",
            "sleep 1",
            "[ \"$keep\" = true ] || rm -rf \"$dir\"",
            "");

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(Janitor::onShutdown, "sluice-cluster-janitor"));
    }

    private Janitor() {
    }

    static boolean keep() {
        return Boolean.getBoolean(KEEP_PROPERTY);
    }

    static void register(AbstractCluster c) {
        OPEN.add(c);
    }

    static void unregister(AbstractCluster c) {
        OPEN.remove(c);
    }

    /** Deletes {@code dir} when the JVM exits (unless clusters are kept). */
    static void deleteAtExit(Path dir) {
        DELETE_AT_EXIT.add(dir);
        startWatchdog(dir);
    }

    private static void onShutdown() {
        if (!keep()) {
            DELETE_AT_EXIT.forEach(Janitor::deleteRecursively);
        }
        for (AbstractCluster c : OPEN) {
            try {
                c.emergencyKill();
            } catch (RuntimeException e) {
                System.err.println("sluice: could not clean up cluster " + c.directory() + ": " + e);
            }
        }
    }

    /** Creates a fresh cluster dir (reaping stale ones in the same base first). */
    static Path newClusterDir(String name, boolean postgres) {
        Path base = baseDir(postgres);
        if (REAPED_BASES.add(base)) {
            reapStale(base);
        }
        String safe = name.replaceAll("[^A-Za-z0-9_-]", "_");
        if (safe.length() > 24) {
            safe = safe.substring(0, 24);
        }
        try {
            Path dir = Files.createDirectory(base.resolve(safe + "-" + Long.toString(RANDOM.nextLong() >>> 28, 36)));
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            ProcessRunner.writeString(dir.resolve("owner.pid"), ProcessHandle.current().pid() + "\n");
            return dir;
        } catch (IOException e) {
            throw new ClusterException("Cannot create cluster dir under " + base + ": " + e, e);
        }
    }

    private static Path baseDir(boolean postgres) {
        String configured = System.getProperty("sluice.clusterBaseDir");
        if (configured != null && !configured.isBlank()) {
            Path p = Path.of(configured).toAbsolutePath();
            mkdirs(p);
            if (postgres && !OsUser.postgresCanTraverse(p)) {
                throw new IllegalStateException("-Dsluice.clusterBaseDir=" + p
                        + " is not traversable by the postgres OS user");
            }
            return p;
        }
        Path target = Path.of("target").toAbsolutePath();
        if (Files.isDirectory(target)) {
            Path p = target.resolve("sluice-clusters");
            try {
                mkdirs(p);
            } catch (ClusterException e) {
                p = tmpBase();
            }
            if (Files.isWritable(p) && (!postgres || OsUser.postgresCanTraverse(p))) {
                return p;
            }
        }
        return tmpBase();
    }

    private static Path tmpBase() {
        Path tmp = Path.of("/tmp/sluice-clusters");
        try {
            mkdirs(tmp);
        } catch (ClusterException e) {
            // created by another user
        }
        if (!Files.isWritable(tmp)) {
            tmp = Path.of("/tmp/sluice-clusters-" + System.getProperty("user.name"));
            mkdirs(tmp);
        }
        return tmp;
    }

    private static void mkdirs(Path p) {
        try {
            boolean existed = Files.isDirectory(p);
            Files.createDirectories(p);
            if (!existed) {
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
            }
        } catch (IOException e) {
            throw new ClusterException("Cannot create " + p + ": " + e, e);
        }
    }

    /** Kills processes and removes dirs left behind by JVMs that are gone. */
    static void reapStale(Path base) {
        try (Stream<Path> dirs = Files.list(base)) {
            for (Path dir : (Iterable<Path>) dirs::iterator) {
                long owner = ProcessRunner.readPid(dir.resolve("owner.pid"));
                if (owner <= 0 || ProcessHandle.of(owner).map(ProcessHandle::isAlive).orElse(false)) {
                    continue;
                }
                killNodesUnder(dir);
                if (!keep()) {
                    deleteRecursively(dir);
                }
            }
        } catch (IOException | RuntimeException e) {
            System.err.println("sluice: could not reap stale clusters in " + base + ": " + e);
        }
    }

    private static void killNodesUnder(Path dir) throws IOException {
        try (Stream<Path> nodes = Files.list(dir)) {
            for (Path node : (Iterable<Path>) nodes::iterator) {
                long pid = ProcessRunner.readPid(node.resolve("node.pid"));
                if (pid <= 0) {
                    continue;
                }
                ProcessHandle.of(pid).ifPresent(h -> {
                    String cmd = h.info().commandLine().orElse("");
                    if (cmd.isEmpty()) {
                        cmd = readCmdline(pid);
                    }
                    if (cmd.contains(dir.toString())) {
                        ProcessRunner.killTree(h, Duration.ofSeconds(10));
                    }
                });
            }
        }
    }

    private static String readCmdline(long pid) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline")), StandardCharsets.UTF_8)
                    .replace('\0', ' ');
        } catch (IOException e) {
            return "";
        }
    }

    /** Starts the watchdog that cleans up {@code dir} if this JVM dies without running shutdown hooks. */
    static Process startWatchdog(Path dir) {
        try {
            return new ProcessBuilder(List.of("sh", "-c", WATCHDOG, "sluice-watchdog", dir.toString(),
                    Long.toString(ProcessHandle.current().pid()), Boolean.toString(keep())))
                    .directory(dir.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
        } catch (IOException e) {
            System.err.println("sluice: could not start watchdog for " + dir + ": " + e);
            return null;
        }
    }

    static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            System.err.println("sluice: could not delete " + dir + ": " + e);
        }
    }
}
