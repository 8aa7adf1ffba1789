package dev.sluice.core.sql;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * A small hand-written SQL lexer: just enough of PostgreSQL's and MySQL's lexical rules to find keywords,
 * punctuation and statement boundaries without ever mistaking the inside of a string, quoted identifier or
 * comment for SQL. It is single-pass, allocates per token (never per character), uses no regex and cannot
 * backtrack, so its cost is linear in the input whatever the input is.
 *
 * <p>Statements are split on every {@code ;} outside strings and comments, whatever the parenthesis depth:
 * an unbalanced text then yields more statements rather than fewer, which can only make the combined
 * classification more conservative. Empty statements are dropped here.
 *
 * <p>Instances are immutable and thread-safe.
 */
final class SqlLexer {

    /** Single-character punctuation strings, built once so punctuation tokens allocate no text. Never modified. */
    private static final String[] ASCII_PUNCT = new String[128];

    static {
        for (int c = 0; c < 128; c++) {
            ASCII_PUNCT[c] = String.valueOf((char) c).intern();
        }
    }

    /**
     * Output of {@link #lex}: all tokens, and statements as token index ranges
     * {@code [bounds[2i], bounds[2i+1])}; {@code error} is non-null for an unterminated string, quoted
     * identifier or comment (then the other fields are partial and must not be used for classification).
     */
    record Result(List<Token> tokens, int[] bounds, int statementCount, RouteHint hint, String error, long maxLagMillis,
                  long cacheHint) {
        StatementTokens statement(String sql, int i) {
            return new StatementTokens(sql, tokens, bounds[2 * i], bounds[2 * i + 1]);
        }
    }

    private final boolean mysql;

    SqlLexer(Dialect dialect) {
        this.mysql = dialect == Dialect.MYSQL;
    }

    Result lex(String sql) {
        final int n = sql.length();
        List<Token> tokens = new ArrayList<>(Math.min(256, n / 4 + 4));
        int[] bounds = new int[8];
        int count = 0;
        int stmtStart = 0;
        RouteHint hint = RouteHint.NONE;
        long maxLag = -1;
        long cacheHint = TableAccess.NO_HINT;
        boolean inExecComment = false; // inside MySQL /*! ... */, whose content is executed as SQL
        int i = 0;
        while (i < n) {
            char c = sql.charAt(i);
            if (c <= ' ' || Character.isWhitespace(c)) {
                i++;
                continue;
            }
            // Comments and statement separators first: they produce no token.
            if (c == '-' && i + 1 < n && sql.charAt(i + 1) == '-'
                    // MySQL needs whitespace (or end) after "--": "1--1" is 1 minus minus 1 there.
                    && (!mysql || i + 2 >= n || sql.charAt(i + 2) <= ' ')) {
                i = lineEnd(sql, i + 2);
                continue;
            }
            if (c == '#' && mysql) {
                i = lineEnd(sql, i + 1);
                continue;
            }
            if (c == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
                int exec = mysql ? execCommentBody(sql, i) : -1;
                if (exec >= 0) {
                    // MySQL/MariaDB run the body of /*! ... */ (mysqldump emits SET statements that way).
                    inExecComment = true;
                    i = exec;
                    continue;
                }
                int end = blockCommentEnd(sql, i);
                if (end < 0) {
                    return error(tokens, bounds, count, hint, "unterminated comment");
                }
                if (tokens.isEmpty()) { // only comments before the first token carry a route hint
                    hint = mergeHint(hint, hintIn(sql, i + 2, end - 2));
                    long lag = maxLagIn(sql, i + 2, end - 2);
                    if (lag >= 0 && (maxLag < 0 || lag < maxLag)) {
                        maxLag = lag; // several budgets: the strictest holds
                    }
                    cacheHint = mergeCacheHint(cacheHint, cacheHintIn(sql, i + 2, end - 2));
                }
                i = end;
                continue;
            }
            if (c == '*' && inExecComment && i + 1 < n && sql.charAt(i + 1) == '/') {
                inExecComment = false;
                i += 2;
                continue;
            }
            if (c == ';') {
                if (tokens.size() > stmtStart) {
                    if (2 * count + 2 > bounds.length) {
                        bounds = Arrays.copyOf(bounds, bounds.length * 2);
                    }
                    bounds[2 * count] = stmtStart;
                    bounds[2 * count + 1] = tokens.size();
                    count++;
                }
                stmtStart = tokens.size();
                i++;
                continue;
            }
            int end = lexToken(sql, i, c, tokens);
            if (end < 0) {
                return error(tokens, bounds, count, hint, "unterminated quote");
            }
            i = end;
        }
        if (inExecComment) {
            return error(tokens, bounds, count, hint, "unterminated comment");
        }
        if (tokens.size() > stmtStart) {
            if (2 * count + 2 > bounds.length) {
                bounds = Arrays.copyOf(bounds, bounds.length + 2);
            }
            bounds[2 * count] = stmtStart;
            bounds[2 * count + 1] = tokens.size();
            count++;
        }
        return new Result(tokens, bounds, count, hint, null, maxLag, cacheHint);
    }

    /** Lexes one token starting at {@code i}, appends it, returns the offset after it or -1 if unterminated. */
    private int lexToken(String sql, int i, char c, List<Token> out) {
        final int n = sql.length();
        if (c == '\'') {
            return add(out, Token.Type.STRING, null, i, quotedEnd(sql, i + 1, '\'', mysql));
        }
        if ((c == 'E' || c == 'e') && !mysql && i + 1 < n && sql.charAt(i + 1) == '\'') {
            // PostgreSQL E'...' escape string: backslash escapes even with standard_conforming_strings.
            return add(out, Token.Type.STRING, null, i, quotedEnd(sql, i + 2, '\'', true));
        }
        if (c == '"') {
            // MySQL (without ANSI_QUOTES) treats "..." as a string with backslash escapes.
            Token.Type t = mysql ? Token.Type.STRING : Token.Type.QUOTED_IDENT;
            return add(out, t, null, i, quotedEnd(sql, i + 1, '"', mysql));
        }
        if (c == '`' && mysql) {
            return add(out, Token.Type.QUOTED_IDENT, null, i, quotedEnd(sql, i + 1, '`', false));
        }
        if (c == '$' && !mysql && i + 1 < n) {
            char d = sql.charAt(i + 1);
            if (d >= '0' && d <= '9') { // $1 is a parameter, never a dollar quote
                int j = i + 1;
                while (j < n && sql.charAt(j) >= '0' && sql.charAt(j) <= '9') {
                    j++;
                }
                return add(out, Token.Type.PARAM, null, i, j);
            }
            int tagEnd = dollarTagEnd(sql, i);
            if (tagEnd > 0) {
                int close = sql.indexOf(sql.substring(i, tagEnd), tagEnd);
                return add(out, Token.Type.STRING, null, i, close < 0 ? -1 : close + (tagEnd - i));
            }
        }
        if (c == '@' && mysql) {
            int j = i + 1;
            if (j < n && sql.charAt(j) == '@') {
                j++;
            }
            while (j < n && isWordPart(sql.charAt(j))) {
                j++;
            }
            // @'quoted name' / @`name`: the quote is lexed as its own token after the bare "@".
            return add(out, Token.Type.VARIABLE, upper(sql, i, j), i, j);
        }
        if (isWordStart(c)) {
            int j = i + 1;
            while (j < n && isWordPart(sql.charAt(j))) {
                j++;
            }
            return add(out, Token.Type.WORD, upper(sql, i, j), i, j);
        }
        if ((c >= '0' && c <= '9') || (c == '.' && i + 1 < n && isDigit(sql.charAt(i + 1)))) {
            int j = i + 1;
            while (j < n) {
                char d = sql.charAt(j);
                char prev = sql.charAt(j - 1);
                if (isDigit(d) || (d >= 'a' && d <= 'z') || (d >= 'A' && d <= 'Z') || d == '.' || d == '_'
                        || ((d == '+' || d == '-') && (prev == 'e' || prev == 'E'))) {
                    j++;
                } else {
                    break;
                }
            }
            return add(out, Token.Type.NUMBER, sql.substring(i, j), i, j);
        }
        if (c == '?') {
            return add(out, Token.Type.PARAM, "?", i, i + 1);
        }
        if (c == ':' && i + 1 < n && sql.charAt(i + 1) == ':') {
            return add(out, Token.Type.PUNCT, "::", i, i + 2);
        }
        return add(out, Token.Type.PUNCT, c < 128 ? ASCII_PUNCT[c] : String.valueOf(c), i, i + 1);
    }

    private static int add(List<Token> out, Token.Type type, String text, int start, int end) {
        if (end >= 0) {
            out.add(new Token(type, text, start, end));
        }
        return end;
    }

    private boolean isWordStart(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'
                || (mysql && c == '$') || (c >= 128 && Character.isLetter(c));
    }

    /** Both dialects allow {@code $} inside unquoted identifiers ({@code a$b}); that is why {@code $} only starts a dollar quote at token start. */
    private static boolean isWordPart(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || isDigit(c) || c == '_' || c == '$'
                || (c >= 128 && Character.isLetterOrDigit(c));
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    /** Returns the offset after the closing quote, or -1. A doubled quote is an escaped quote in every dialect. */
    private static int quotedEnd(String sql, int from, char quote, boolean backslash) {
        final int n = sql.length();
        int i = from;
        while (i < n) {
            char c = sql.charAt(i);
            if (c == quote) {
                if (i + 1 < n && sql.charAt(i + 1) == quote) {
                    i += 2;
                    continue;
                }
                return i + 1;
            }
            i += (backslash && c == '\\') ? 2 : 1;
        }
        return -1;
    }

    /** If {@code $tag$} (tag possibly empty, not starting with a digit) starts at {@code i}, returns the offset after it, else -1. */
    private static int dollarTagEnd(String sql, int i) {
        final int n = sql.length();
        int j = i + 1;
        while (j < n) {
            char c = sql.charAt(j);
            if (c == '$') {
                return j + 1;
            }
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (c >= 128 && Character.isLetter(c))
                    || (j > i + 1 && isDigit(c));
            if (!ok) {
                return -1;
            }
            j++;
        }
        return -1;
    }

    private static int lineEnd(String sql, int from) {
        int i = from;
        final int n = sql.length();
        while (i < n && sql.charAt(i) != '\n' && sql.charAt(i) != '\r') {
            i++;
        }
        return i;
    }

    /** Offset after the closing {@code * /} of the block comment at {@code start}, or -1. Nests in PostgreSQL only. */
    private int blockCommentEnd(String sql, int start) {
        final int n = sql.length();
        int depth = 1;
        int i = start + 2;
        while (i < n - 1) {
            char c = sql.charAt(i);
            if (c == '*' && sql.charAt(i + 1) == '/') {
                if (--depth == 0) {
                    return i + 2;
                }
                i += 2;
            } else if (!mysql && c == '/' && sql.charAt(i + 1) == '*') {
                depth++;
                i += 2;
            } else {
                i++;
            }
        }
        return -1;
    }

    /** For MySQL {@code /*!NNNNN} or MariaDB {@code /*M!NNNNNN} returns the offset of the executable body, else -1. */
    private static int execCommentBody(String sql, int start) {
        final int n = sql.length();
        int i = start + 2;
        if (i < n && (sql.charAt(i) == 'M' || sql.charAt(i) == 'm') && i + 1 < n && sql.charAt(i + 1) == '!') {
            i++;
        }
        if (i >= n || sql.charAt(i) != '!') {
            return -1;
        }
        i++;
        while (i < n && isDigit(sql.charAt(i))) { // optional minimum server version
            i++;
        }
        return i;
    }

    /** Parses {@code sluice:primary} / {@code sluice:replica} (case-insensitive, any whitespace) from a comment body. */
    static RouteHint hintIn(String sql, int from, int to) {
        int i = skipSpace(sql, from, to);
        if (to - i < 6 || !sql.regionMatches(true, i, "sluice", 0, 6)) {
            return RouteHint.NONE;
        }
        i = skipSpace(sql, i + 6, to);
        if (i >= to || sql.charAt(i) != ':') {
            return RouteHint.NONE;
        }
        i = skipSpace(sql, i + 1, to);
        RouteHint h;
        if (to - i >= 7 && sql.regionMatches(true, i, "primary", 0, 7)) {
            h = RouteHint.PRIMARY;
        } else if (to - i >= 7 && sql.regionMatches(true, i, "replica", 0, 7)) {
            h = RouteHint.REPLICA;
        } else {
            return RouteHint.NONE;
        }
        return skipSpace(sql, i + 7, to) == to ? h : RouteHint.NONE;
    }

    /**
     * Parses a staleness budget {@code sluice:max-lag=200ms} (also {@code 2s}, or plain milliseconds) from a
     * comment body; -1 when the comment is not one.
     */
    static long maxLagIn(String sql, int from, int to) {
        int i = skipSpace(sql, from, to);
        if (to - i < 6 || !sql.regionMatches(true, i, "sluice", 0, 6)) {
            return -1;
        }
        i = skipSpace(sql, i + 6, to);
        if (i >= to || sql.charAt(i) != ':') {
            return -1;
        }
        i = skipSpace(sql, i + 1, to);
        if (to - i < 7 || !sql.regionMatches(true, i, "max-lag", 0, 7)) {
            return -1;
        }
        i = skipSpace(sql, i + 7, to);
        if (i >= to || sql.charAt(i) != '=') {
            return -1;
        }
        i = skipSpace(sql, i + 1, to);
        long n = 0;
        int digits = 0;
        while (i < to && isDigit(sql.charAt(i)) && digits < 12) {
            n = n * 10 + (sql.charAt(i++) - '0');
            digits++;
        }
        if (digits == 0) {
            return -1;
        }
        String unit = sql.substring(i, to).trim().toLowerCase(Locale.ROOT);
        return switch (unit) {
            case "", "ms" -> n;
            case "s" -> n * 1000;
            default -> -1;
        };
    }

    /**
     * Parses a read-cache hint from a comment body: {@code sluice:cache} (the cluster's TTL),
     * {@code sluice:cache ttl=5s} / {@code ttl=500ms} / {@code ttl=500}, or {@code sluice:no-cache}. Returns
     * {@link TableAccess#NO_HINT} when the comment is not one (a malformed TTL is not a hint: better uncached
     * than cached for a time nobody asked for).
     */
    static long cacheHintIn(String sql, int from, int to) {
        int i = skipSpace(sql, from, to);
        if (to - i < 6 || !sql.regionMatches(true, i, "sluice", 0, 6)) {
            return TableAccess.NO_HINT;
        }
        i = skipSpace(sql, i + 6, to);
        if (i >= to || sql.charAt(i) != ':') {
            return TableAccess.NO_HINT;
        }
        i = skipSpace(sql, i + 1, to);
        if (to - i >= 8 && sql.regionMatches(true, i, "no-cache", 0, 8)) {
            return skipSpace(sql, i + 8, to) == to ? TableAccess.NO_CACHE : TableAccess.NO_HINT;
        }
        if (to - i < 5 || !sql.regionMatches(true, i, "cache", 0, 5)) {
            return TableAccess.NO_HINT;
        }
        i = skipSpace(sql, i + 5, to);
        if (i == to) {
            return TableAccess.CACHE_DEFAULT_TTL;
        }
        if (to - i < 3 || !sql.regionMatches(true, i, "ttl", 0, 3)) {
            return TableAccess.NO_HINT;
        }
        i = skipSpace(sql, i + 3, to);
        if (i >= to || sql.charAt(i) != '=') {
            return TableAccess.NO_HINT;
        }
        i = skipSpace(sql, i + 1, to);
        long n = 0;
        int digits = 0;
        while (i < to && isDigit(sql.charAt(i)) && digits < 12) {
            n = n * 10 + (sql.charAt(i++) - '0');
            digits++;
        }
        if (digits == 0 || n == 0) {
            return TableAccess.NO_HINT;
        }
        String unit = sql.substring(i, to).trim().toLowerCase(Locale.ROOT);
        return switch (unit) {
            case "", "ms" -> n;
            case "s" -> n * 1000;
            default -> TableAccess.NO_HINT;
        };
    }

    /** no-cache wins over any cache hint; of two TTLs the shorter holds. */
    private static long mergeCacheHint(long a, long b) {
        if (a == TableAccess.NO_CACHE || b == TableAccess.NO_CACHE) {
            return TableAccess.NO_CACHE;
        }
        if (a == TableAccess.NO_HINT) {
            return b;
        }
        if (b == TableAccess.NO_HINT) {
            return a;
        }
        if (a == TableAccess.CACHE_DEFAULT_TTL) {
            return b;
        }
        return b == TableAccess.CACHE_DEFAULT_TTL ? a : Math.min(a, b);
    }

    /** Conflicting hints resolve to PRIMARY: sending a read to the primary is never wrong, the reverse can be. */
    private static RouteHint mergeHint(RouteHint a, RouteHint b) {
        if (a == RouteHint.PRIMARY || b == RouteHint.PRIMARY) {
            return RouteHint.PRIMARY;
        }
        return a == RouteHint.NONE ? b : a;
    }

    private static int skipSpace(String sql, int from, int to) {
        int i = from;
        while (i < to && Character.isWhitespace(sql.charAt(i))) {
            i++;
        }
        return i;
    }

    /** Upper-cases {@code sql[from, to)}, allocating only the substring when it is already upper case. */
    private static String upper(String sql, int from, int to) {
        for (int k = from; k < to; k++) {
            char c = sql.charAt(k);
            if ((c >= 'a' && c <= 'z') || c >= 128) {
                return sql.substring(from, to).toUpperCase(Locale.ROOT);
            }
        }
        return sql.substring(from, to);
    }

    private static Result error(List<Token> tokens, int[] bounds, int count, RouteHint hint, String why) {
        return new Result(tokens, bounds, count, hint, why, -1, TableAccess.NO_HINT);
    }
}
