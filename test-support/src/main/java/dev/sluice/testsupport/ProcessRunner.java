package dev.sluice.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/** Runs short-lived commands and manages server processes by pid. */
final class ProcessRunner {
    static final int LOG_TAIL_LINES = 40;
    /** {@code -Dsluice.trace=true} prints every command run with its duration to stderr. */
    static final boolean TRACE = Boolean.getBoolean("sluice.trace");

    private ProcessRunner() {
    }

    record Result(int exitCode, String output) {
    }

    /** Runs {@code cmd} in {@code workDir}, stdout+stderr captured; kills it after {@code timeout}. */
    static Result run(List<String> cmd, Path workDir, Duration timeout) {
        Path out = null;
        try {
            out = Files.createTempFile("sluice-cmd", ".out");
            ProcessBuilder pb = new ProcessBuilder(cmd)
                    .directory(workDir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(out.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            long t0 = System.nanoTime();
            Process p = pb.start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
                throw new ClusterException("Timed out after " + timeout + ": " + String.join(" ", cmd)
                        + "\n" + Files.readString(out, StandardCharsets.UTF_8));
            }
            if (TRACE) {
                System.err.printf("sluice: %5d ms exit %d: %s%n", (System.nanoTime() - t0) / 1_000_000,
                        p.exitValue(), String.join(" ", cmd));
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new ClusterException("Could not run " + String.join(" ", cmd) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ClusterException("Interrupted while running " + String.join(" ", cmd), e);
        } finally {
            if (out != null) {
                try {
                    Files.deleteIfExists(out);
                } catch (IOException ignored) {
                    // best effort
                }
            }
        }
    }

    /** Like {@link #run} but throws when the exit code is not 0. */
    static Result runChecked(List<String> cmd, Path workDir, Duration timeout) {
        Result r = run(cmd, workDir, timeout);
        if (r.exitCode() != 0) {
            throw new ClusterException("Command failed with exit code " + r.exitCode() + ": "
                    + String.join(" ", cmd) + "\n" + r.output());
        }
        return r;
    }

    /** Last {@code n} lines of a (log) file, or an explanatory line when it can't be read. */
    static List<String> tail(Path file, int n) {
        try {
            if (!Files.exists(file)) {
                return List.of("(no log file " + file + ")");
            }
            List<String> all = Files.readAllLines(file, StandardCharsets.ISO_8859_1);
            return new ArrayList<>(all.subList(Math.max(0, all.size() - n), all.size()));
        } catch (IOException e) {
            return List.of("(could not read " + file + ": " + e + ")");
        }
    }

    static String tailText(Path file) {
        return "--- last " + LOG_TAIL_LINES + " lines of " + file + " ---\n"
                + String.join("\n", tail(file, LOG_TAIL_LINES));
    }

    /** SIGKILLs the process and all its descendants and waits until they are gone. */
    static void killTree(ProcessHandle h, Duration wait) {
        if (h == null) {
            return;
        }
        List<ProcessHandle> all = new ArrayList<>();
        all.add(h);
        all.addAll(h.descendants().collect(Collectors.toList()));
        for (ProcessHandle p : all) {
            p.destroyForcibly();
        }
        for (ProcessHandle p : all) {
            awaitExit(p, wait);
        }
    }

    /**
     * Whether the process is alive and not a zombie. A daemon (e.g. a postmaster started by pg_ctl) is
     * re-parented to PID 1 when it exits, and some container inits reap zombies only every second or so.
     */
    static boolean isAlive(ProcessHandle h) {
        if (h == null || !h.isAlive()) {
            return false;
        }
        try {
            String stat = Files.readString(Path.of("/proc/" + h.pid() + "/stat"), StandardCharsets.ISO_8859_1);
            int i = stat.lastIndexOf(')');
            char state = i >= 0 && i + 2 < stat.length() ? stat.charAt(i + 2) : '?';
            return state != 'Z' && state != 'X';
        } catch (IOException | RuntimeException e) {
            return h.isAlive();
        }
    }

    /** Waits until the process is gone (or a zombie); returns false on timeout. */
    static boolean awaitExit(ProcessHandle h, Duration wait) {
        long deadline = System.nanoTime() + wait.toNanos();
        while (isAlive(h)) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            sleep(10);
        }
        return true;
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ClusterException("Interrupted", e);
        }
    }

    static void writeString(Path file, String text) {
        try {
            Files.writeString(file, text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Pid recorded in a pid file (first line), or -1. */
    static long readPid(Path pidFile) {
        try {
            String first = Files.readAllLines(pidFile, StandardCharsets.UTF_8).get(0).trim();
            return Long.parseLong(first);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
