package dev.sluice.testsupport;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.stream.Stream;

/** Small file helpers. */
final class FileOps {
    private FileOps() {
    }

    static long size(Path file) {
        try {
            return Files.exists(file) ? Files.size(file) : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    /** Lines appended to {@code file} since byte offset {@code from}. */
    static List<String> linesSince(Path file, long from) {
        try {
            byte[] all = Files.readAllBytes(file);
            int start = (int) Math.min(from, all.length);
            return new String(all, start, all.length - start, StandardCharsets.ISO_8859_1)
                    .lines().toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    /** Recursive copy keeping permissions. */
    static void copyTree(Path from, Path to) {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path src : (Iterable<Path>) s::iterator) {
                Files.copy(src, to.resolve(from.relativize(src).toString()), StandardCopyOption.COPY_ATTRIBUTES);
            }
        } catch (IOException e) {
            throw new ClusterException("Cannot copy " + from + " to " + to, e);
        }
    }

    static void mkdir(Path p) {
        try {
            Files.createDirectories(p);
        } catch (IOException e) {
            throw new ClusterException("Cannot create " + p, e);
        }
    }
}
