package dev.sluice.admin;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.List;

/**
 * The query parameters of one admin request, strictly: an unknown or repeated parameter is a 400, because
 * a typo such as {@code ?nod=pg2} must not silently turn into "promote the best candidate".
 */
public final class QueryParams {
    private final Map<String, String> values;

    private QueryParams(Map<String, String> values) {
        this.values = values;
    }

    /** Parses {@code rawQuery} (may be null) and rejects parameters outside {@code allowed}. */
    public static QueryParams parse(String rawQuery, List<String> allowed) {
        Map<String, String> values = new LinkedHashMap<>();
        if (rawQuery != null && !rawQuery.isEmpty()) {
            for (String pair : rawQuery.split("&")) {
                if (pair.isEmpty()) {
                    continue;
                }
                int eq = pair.indexOf('=');
                String name = decode(eq < 0 ? pair : pair.substring(0, eq));
                String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
                if (!allowed.contains(name)) {
                    throw new AdminHttpException(400, "unknown parameter '" + name + "'"
                            + (allowed.isEmpty() ? ": this endpoint takes none" : " (expected: " + String.join(", ", allowed) + ")"));
                }
                if (values.putIfAbsent(name, value) != null) {
                    throw new AdminHttpException(400, "parameter '" + name + "' given more than once");
                }
            }
        }
        return new QueryParams(values);
    }

    private static String decode(String s) {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new AdminHttpException(400, "bad percent-encoding in query '" + s + "': " + e.getMessage());
        }
    }

    /** The value, or null when absent; an empty value counts as absent. */
    public String optional(String name) {
        String v = values.get(name);
        return v == null || v.isEmpty() ? null : v;
    }

    public String required(String name) {
        String v = optional(name);
        if (v == null) {
            throw new AdminHttpException(400, "missing parameter '" + name + "'");
        }
        return v;
    }

    /** Exactly {@code true} or {@code false}; absent means {@code fallback}. */
    public boolean bool(String name, boolean fallback) {
        String v = optional(name);
        if (v == null) {
            return fallback;
        }
        if (v.equals("true") || v.equals("false")) {
            return Boolean.parseBoolean(v);
        }
        throw new AdminHttpException(400, "parameter '" + name + "': expected true or false, got '" + v + "'");
    }
}
