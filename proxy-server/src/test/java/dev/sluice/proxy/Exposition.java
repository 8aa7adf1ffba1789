package dev.sluice.proxy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A parsed Prometheus text exposition (what GET /metrics answers), for asserting on samples. */
final class Exposition {
    record Sample(String name, Map<String, String> labels, double value) {
    }

    private static final Pattern LINE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)})?\\s+(\\S+)(?:\\s+\\S+)?$");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    final String text;
    final List<Sample> samples = new ArrayList<>();
    /** metric family → TYPE (counter, gauge, histogram …) */
    final Map<String, String> types = new LinkedHashMap<>();

    Exposition(String text) {
        this.text = text;
        for (String line : text.split("\n")) {
            if (line.startsWith("# TYPE ")) {
                String[] p = line.split(" ");
                types.put(p[2], p[3]);
                continue;
            }
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            Matcher m = LINE.matcher(line);
            if (!m.matches()) {
                throw new AssertionError("not an exposition line: " + line);
            }
            Map<String, String> labels = new LinkedHashMap<>();
            if (m.group(2) != null) {
                Matcher l = LABEL.matcher(m.group(2));
                while (l.find()) {
                    labels.put(l.group(1), l.group(2).replace("\\\"", "\"").replace("\\\\", "\\"));
                }
            }
            samples.add(new Sample(m.group(1), labels, parse(m.group(3))));
        }
    }

    private static double parse(String v) {
        return switch (v) {
            case "NaN" -> Double.NaN;
            case "+Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            default -> Double.parseDouble(v);
        };
    }

    /** The one sample of {@code name} whose labels include {@code labelPairs} (k1, v1, k2, v2 …). */
    double value(String name, String... labelPairs) {
        List<Sample> found = find(name, labelPairs);
        if (found.size() != 1) {
            throw new AssertionError(found.size() + " samples " + name + " " + List.of(labelPairs) + " in:\n" + text);
        }
        return found.get(0).value();
    }

    List<Sample> find(String name, String... labelPairs) {
        List<Sample> out = new ArrayList<>();
        for (Sample s : samples) {
            if (!s.name().equals(name)) {
                continue;
            }
            boolean ok = true;
            for (int i = 0; i + 1 < labelPairs.length; i += 2) {
                ok &= labelPairs[i + 1].equals(s.labels().get(labelPairs[i]));
            }
            if (ok) {
                out.add(s);
            }
        }
        return out;
    }

    /** The state label whose gauge is 1 for {@code node}. */
    String state(String node) {
        for (Sample s : find("sluice_node_state", "node", node)) {
            if (s.value() == 1) {
                return s.labels().get("state");
            }
        }
        throw new AssertionError("no state is 1 for " + node + " in:\n" + text);
    }
}
