package dev.sluice.proxy.pg;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What makes a client's session differ from a fresh backend connection: the settings it asked for at
 * startup (application_name, client_encoding, DateStyle, options -c …) and the session-state statements it
 * ran since (SET, RESET …). Replayed, as one silent query, on every backend connection the session opens
 * after the first, so all its backends agree.
 */
final class SessionState {
    /** Startup keys that are not settings. */
    private static final java.util.Set<String> NOT_SETTINGS = java.util.Set.of("user", "database", "replication", "options");
    private static final int MAX_STATEMENTS = 500;

    private final Map<String, String> startup = new LinkedHashMap<>();
    private final List<String> statements = new ArrayList<>();
    private String laneKey;
    private Map<String, String> laneKeyFor;

    SessionState(Map<String, String> startupParams) {
        startupParams.forEach((k, v) -> {
            if (!NOT_SETTINGS.contains(k) && !k.startsWith("_pq_.")) {
                startup.put(k, v);
            }
        });
        String options = startupParams.get("options");
        if (options != null) {
            parseOptions(options);
        }
    }

    /** {@code -c name=value} and {@code --name=value} from the startup "options" parameter. */
    private void parseOptions(String options) {
        String[] words = options.trim().split("\\s+");
        for (int i = 0; i < words.length; i++) {
            String w = words[i];
            String kv = null;
            if (w.equals("-c") && i + 1 < words.length) {
                kv = words[++i];
            } else if (w.startsWith("-c")) {
                kv = w.substring(2);
            } else if (w.startsWith("--")) {
                kv = w.substring(2);
            }
            int eq = kv == null ? -1 : kv.indexOf('=');
            if (eq > 0) {
                startup.put(kv.substring(0, eq).replace('-', '_'), kv.substring(eq + 1));
            }
        }
    }

    /** The settings the client asked for at startup (reported back to it as ParameterStatus where known). */
    Map<String, String> startupSettings() {
        return startup;
    }

    /** The ParameterStatus values to show the client: the server's, with the settings it asked for. */
    Map<String, String> reported(Map<String, String> serverParams) {
        Map<String, String> shown = new LinkedHashMap<>(serverParams);
        startup.forEach((k, v) -> {
            if (shown.containsKey(k) || k.equals("application_name")) {
                shown.put(k, v);
            }
        });
        return shown;
    }

    /** A session-state statement ran successfully: replay it on backends opened later. */
    boolean record(String sql) {
        String s = strip(sql);
        if (statements.contains(s)) {
            return true;
        }
        if (statements.size() >= MAX_STATEMENTS) {
            return false;
        }
        statements.add(s);
        laneKey = null;
        return true;
    }

    /**
     * {@link #replaySql} for a fresh connection reporting {@code fresh}, kept until the state changes: sessions with
     * the same one can share read lanes (asked per read, so not rebuilt each time).
     */
    String laneKey(Map<String, String> fresh) {
        if (laneKey == null || laneKeyFor != fresh) {
            laneKey = replaySql(fresh);
            laneKeyFor = fresh;
        }
        return laneKey;
    }

    /** The statements to run on a new backend connection whose reported parameters are {@code params}; "" if none. */
    String replaySql(Map<String, String> params) {
        StringBuilder b = new StringBuilder();
        startup.forEach((k, v) -> {
            if (!v.equals(params.get(k))) {
                b.append("SET \"").append(k.replace("\"", "\"\"")).append("\" TO '").append(v.replace("'", "''")).append("';");
            }
        });
        for (String s : statements) {
            b.append(s).append(';');
        }
        return b.toString();
    }

    private static String strip(String sql) {
        String s = sql.strip();
        while (s.endsWith(";")) {
            s = s.substring(0, s.length() - 1).strip();
        }
        return s;
    }
}
