package dev.sluice.proxy.pg.shard;

/** SQL text surgery for statements the sharded session sends the shards itself. */
final class PgSql {
    private PgSql() {
    }

    /**
     * Numbers the {@code ?} placeholders of a rewritten statement (the shard router marks the computed row limit with
     * one) as {@code $first}, {@code $first+1} …, skipping quoted strings, quoted identifiers, dollar quotes and comments.
     */
    static String numberPlaceholders(String sql, int first) {
        StringBuilder out = new StringBuilder(sql.length() + 8);
        int n = first;
        int i = 0;
        while (i < sql.length()) {
            char c = sql.charAt(i);
            int end = skipQuoted(sql, i);
            if (end > i) {
                out.append(sql, i, end);
                i = end;
            } else if (c == '?') {
                out.append('$').append(n++);
                i++;
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    /** True when {@code $n} (not followed by a digit) occurs outside quotes and comments. */
    static boolean references(String sql, int n) {
        String p = "$" + n;
        int i = 0;
        while (i < sql.length()) {
            int end = skipQuoted(sql, i);
            if (end > i) {
                i = end;
            } else if (sql.startsWith(p, i) && (i + p.length() >= sql.length() || !Character.isDigit(sql.charAt(i + p.length())))) {
                return true;
            } else {
                i++;
            }
        }
        return false;
    }

    /** The end of a quoted string, quoted identifier, dollar quote or comment starting at {@code i}, or {@code i}. */
    private static int skipQuoted(String s, int i) {
        char c = s.charAt(i);
        if (c == '\'' || c == '"') {
            int j = i + 1;
            while (j < s.length()) {
                if (s.charAt(j) == c) {
                    if (j + 1 < s.length() && s.charAt(j + 1) == c) {
                        j += 2;
                        continue;
                    }
                    return j + 1;
                }
                j++;
            }
            return s.length();
        }
        if (c == '-' && s.startsWith("--", i)) {
            int j = s.indexOf('\n', i);
            return j < 0 ? s.length() : j + 1;
        }
        if (c == '/' && s.startsWith("/*", i)) {
            int j = s.indexOf("*/", i + 2);
            return j < 0 ? s.length() : j + 2;
        }
        if (c == '$') {
            int j = i + 1;
            while (j < s.length() && (Character.isLetterOrDigit(s.charAt(j)) || s.charAt(j) == '_')) {
                j++;
            }
            if (j < s.length() && s.charAt(j) == '$' && (j == i + 1 || !Character.isDigit(s.charAt(i + 1)))) {
                String tag = s.substring(i, j + 1);
                int k = s.indexOf(tag, j + 1);
                return k < 0 ? s.length() : k + tag.length();
            }
        }
        return i;
    }
}
