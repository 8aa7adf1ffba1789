package dev.sluice.core.sql;

import java.util.List;

/**
 * A read-only view of the tokens of one statement ({@code tokens[from, to)}), with the small helpers the
 * rules need. Indexes passed to the helpers are relative to the statement start; out-of-range indexes are
 * answered with "no" instead of an exception so rules can look ahead without bounds checks.
 */
final class StatementTokens {
    private final String sql;
    private final List<Token> tokens;
    private final int from;
    private final int to;

    StatementTokens(String sql, List<Token> tokens, int from, int to) {
        this.sql = sql;
        this.tokens = tokens;
        this.from = from;
        this.to = to;
    }

    int size() {
        return to - from;
    }

    Token token(int k) {
        return tokens.get(from + k);
    }

    /** The upper-cased word at {@code k}, or null when {@code k} is out of range or not a plain word. */
    String word(int k) {
        if (k < 0 || k >= size()) {
            return null;
        }
        Token t = tokens.get(from + k);
        return t.type() == Token.Type.WORD ? t.text() : null;
    }

    boolean is(int k, String upperWord) {
        return k >= 0 && k < size() && tokens.get(from + k).isWord(upperWord);
    }

    boolean isPunct(int k, char c) {
        return k >= 0 && k < size() && tokens.get(from + k).isPunct(c);
    }

    boolean isType(int k, Token.Type type) {
        return k >= 0 && k < size() && tokens.get(from + k).type() == type;
    }

    /** Index of the {@code )} matching the {@code (} at {@code k}, or -1 when unbalanced. */
    int closeParen(int k) {
        int depth = 0;
        for (int i = k; i < size(); i++) {
            Token t = tokens.get(from + i);
            if (t.isPunct('(')) {
                depth++;
            } else if (t.isPunct(')') && --depth == 0) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Deepest parenthesis nesting, or -1 when the parentheses are unbalanced; used to keep pathological
     * input away from the recursive-descent parser.
     */
    int maxParenDepth() {
        int depth = 0;
        int max = 0;
        for (int i = from; i < to; i++) {
            Token t = tokens.get(i);
            if (t.isPunct('(')) {
                max = Math.max(max, ++depth);
            } else if (t.isPunct(')') && --depth < 0) {
                return -1;
            }
        }
        return depth == 0 ? max : -1;
    }

    /** A sub-view {@code [fromRel, toRel)} of this statement. */
    StatementTokens sub(int fromRel, int toRel) {
        return new StatementTokens(sql, tokens, from + fromRel, from + toRel);
    }

    /** Source text of the statement, from its first to its last token (comments inside included). */
    String text() {
        return size() == 0 ? "" : sql.substring(tokens.get(from).start(), tokens.get(to - 1).end());
    }

    /** Length of {@link #text()} without building it. */
    int textLength() {
        return size() == 0 ? 0 : tokens.get(to - 1).end() - tokens.get(from).start();
    }
}
