package dev.sluice.proxy;

import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finding the external clients the client tests drive. A missing tool fails the test with what to install:
 * a skipped test would read as "the proxy works with psycopg2" when nothing ran.
 */
final class ClientTools {
    private ClientTools() {
    }

    /** A script under src/test/resources/clients/, as a file path. */
    static Path script(String name) {
        URL u = ClientTools.class.getResource("/clients/" + name);
        if (u == null) {
            throw new AssertionError("test resource clients/" + name + " is missing");
        }
        try {
            return Path.of(u.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** An executable that must exist; fails loudly naming the package that provides it. */
    static String require(String executable, String installHint) {
        Path p = executable.contains("/") ? Path.of(executable) : which(executable);
        if (p == null || !Files.isExecutable(p)) {
            throw new AssertionError(executable + " is not installed; this test needs it (" + installHint + ", or run bin/install-prereqs)");
        }
        return p.toString();
    }

    private static Path which(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            Path p = Path.of(dir, name);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    /** Parses "label value" lines (as the client scripts print them) into label → values in order. */
    static Map<String, List<String>> facts(ProxyFixture.Run r) {
        Map<String, List<String>> m = new HashMap<>();
        for (String line : r.lines()) {
            int sp = line.indexOf(' ');
            String k = sp < 0 ? line : line.substring(0, sp);
            String v = sp < 0 ? "" : line.substring(sp + 1);
            m.computeIfAbsent(k, x -> new java.util.ArrayList<>()).add(v);
        }
        return m;
    }

    static String one(Map<String, List<String>> facts, String label, ProxyFixture.Run r) {
        List<String> v = facts.get(label);
        if (v == null || v.size() != 1) {
            throw new AssertionError("expected one '" + label + "' line, got " + v + "\nstdout:\n" + r.out() + "\nstderr:\n" + r.err());
        }
        return v.get(0);
    }

    static ProxyFixture.Run run(List<String> cmd, Map<String, String> env, Duration timeout) throws IOException, InterruptedException {
        return ProxyFixture.run(cmd, new HashMap<>(env), null, timeout);
    }
}
