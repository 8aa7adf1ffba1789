package dev.sluice.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * OS-user handling. PostgreSQL refuses to run as root, so when the JVM is root its commands run as the
 * {@code postgres} OS user via {@code runuser}; otherwise they run as the current user.
 */
final class OsUser {
    static final String POSTGRES = "postgres";
    private static final boolean ROOT = detectRoot();

    private OsUser() {
    }

    static boolean isRoot() {
        return ROOT;
    }

    private static boolean detectRoot() {
        try {
            Object uid = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
            return ((Integer) uid) == 0;
        } catch (IOException | RuntimeException e) {
            return "root".equals(System.getProperty("user.name"));
        }
    }

    /** Prefixes {@code cmd} with {@code runuser -u postgres --} when running as root. */
    static List<String> asPostgres(List<String> cmd) {
        if (!ROOT) {
            return cmd;
        }
        List<String> full = new ArrayList<>();
        full.add(runuser());
        full.add("-u");
        full.add(POSTGRES);
        full.add("--");
        full.addAll(cmd);
        return full;
    }

    private static String runuser() {
        for (String p : List.of("/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser")) {
            if (Files.isExecutable(Path.of(p))) {
                return p;
            }
        }
        return "runuser";
    }

    /** Whether the postgres OS user can reach {@code dir} (always true when not root). */
    static boolean postgresCanTraverse(Path dir) {
        if (!ROOT) {
            return true;
        }
        try {
            return ProcessRunner.run(asPostgres(List.of("test", "-x", dir.toString())), Path.of("/"),
                    Duration.ofSeconds(10)).exitCode() == 0;
        } catch (ClusterException e) {
            return false;
        }
    }

    /** Hands {@code path} (recursively) to the postgres OS user when running as root. */
    static void chownToPostgres(Path path) {
        if (!ROOT) {
            return;
        }
        try {
            UserPrincipalLookupService lookup = path.getFileSystem().getUserPrincipalLookupService();
            UserPrincipal user = lookup.lookupPrincipalByName(POSTGRES);
            GroupPrincipal group = lookup.lookupPrincipalByGroupName(POSTGRES);
            try (Stream<Path> s = Files.walk(path)) {
                for (Path p : (Iterable<Path>) s::iterator) {
                    PosixFileAttributeView v = Files.getFileAttributeView(p, PosixFileAttributeView.class,
                            LinkOption.NOFOLLOW_LINKS);
                    v.setOwner(user);
                    v.setGroup(group);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Could not chown " + path + " to " + POSTGRES, e);
        }
    }
}
