package dev.sluice.core.sql;

/**
 * One lexical token of a SQL string, as produced by {@link SqlLexer}.
 *
 * <p>Only the token kinds the classifier reasons about carry text: words and variables are upper-cased once
 * at lexing time (so rules compare with {@code equals} against upper-case constants, no per-rule case
 * folding), punctuation carries its symbol, numbers their raw text. String literals and quoted identifiers
 * carry no text on purpose: their content must never influence classification (a string containing
 * {@code nextval(} or {@code ; DELETE} is data, not SQL).
 *
 * @param type  the token kind
 * @param text  upper-cased word/variable, punctuation symbol, raw number, {@code ?}; {@code null} for strings,
 *              quoted identifiers and PostgreSQL {@code $n} parameters
 * @param start offset of the first character in the SQL text
 * @param end   offset after the last character
 */
record Token(Type type, String text, int start, int end) {

    /** Token kinds. */
    enum Type {
        /** Unquoted identifier or keyword, upper-cased. */
        WORD,
        /** {@code "ident"} (PostgreSQL) or {@code `ident`} (MySQL). */
        QUOTED_IDENT,
        /** Any string literal: {@code '..'}, {@code E'..'}, {@code $$..$$}, MySQL {@code "..."}. */
        STRING,
        /** Numeric literal (loosely lexed: the classifier never evaluates numbers). */
        NUMBER,
        /** Operator or punctuation; {@code ::} is one token, everything else a single character. */
        PUNCT,
        /** Bind parameter: {@code ?} or PostgreSQL {@code $1}. */
        PARAM,
        /** MySQL {@code @user_var} or {@code @@system_var}, upper-cased, without a trailing {@code .part}. */
        VARIABLE
    }

    boolean isWord(String upper) {
        return type == Type.WORD && text.equals(upper);
    }

    boolean isPunct(char c) {
        return type == Type.PUNCT && text.length() == 1 && text.charAt(0) == c;
    }
}
