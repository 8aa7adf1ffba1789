package dev.sluice.core.sql;

import net.sf.jsqlparser.parser.CCJSqlParser;
import net.sf.jsqlparser.parser.StringProvider;
import net.sf.jsqlparser.statement.Statement;
import net.sf.jsqlparser.statement.select.Select;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Last resort for statements whose leading keyword the fast path does not know (typically a query starting
 * with {@code (}). Calls the JSqlParser grammar directly: {@code CCJSqlParserUtil.parse} would start a thread
 * per call. Complex parsing stays off and input is bounded in size and nesting, because the grammar's
 * backtracking can take seconds or worse on nested expressions and cannot be interrupted without that thread.
 * It only decides the broad shape; query details are then read from the tokens by {@link QueryRules}.
 */
final class ParserFallback {

    /** Larger statements are not worth the parser's worst case; they become UNPARSED (primary). */
    static final int MAX_CHARS = 4096;
    /** Parenthesis nesting beyond this is not real-world SQL and is where the grammar gets slow or recursive. */
    static final int MAX_PAREN_DEPTH = 32;

    private static final Logger LOG = LoggerFactory.getLogger(ParserFallback.class);

    /** Broad shape of a parsed statement. */
    enum Shape { QUERY, WRITE, DDL, UNKNOWN }

    private final boolean mysql;

    ParserFallback(Dialect dialect) {
        this.mysql = dialect == Dialect.MYSQL;
    }

    Shape parse(StatementTokens st) {
        if (st.textLength() > MAX_CHARS || st.maxParenDepth() > MAX_PAREN_DEPTH) {
            return Shape.UNKNOWN;
        }
        String text = st.text();
        try {
            Statement s = new CCJSqlParser(new StringProvider(text))
                    .withAllowComplexParsing(false)
                    .withBackslashEscapeCharacter(mysql)
                    .Statement();
            return shapeOf(s);
        } catch (Exception | StackOverflowError e) {
            // ParseException and TokenMgrException are expected for unknown syntax; anything else is a parser bug.
            LOG.trace("JSqlParser fallback failed for statement of {} chars: {}", text.length(), e.toString());
            return Shape.UNKNOWN;
        }
    }

    private static Shape shapeOf(Statement s) {
        if (s == null) {
            return Shape.UNKNOWN;
        }
        if (s instanceof Select) {
            return Shape.QUERY;
        }
        // Package names are stable across JSqlParser releases; class-by-class checks are not.
        String pkg = s.getClass().getPackageName();
        if (pkg.endsWith(".insert") || pkg.endsWith(".update") || pkg.endsWith(".delete")
                || pkg.endsWith(".merge") || pkg.endsWith(".upsert") || pkg.endsWith(".replace")) {
            return Shape.WRITE;
        }
        if (pkg.contains(".create") || pkg.endsWith(".alter") || pkg.endsWith(".drop") || pkg.endsWith(".truncate")) {
            return Shape.DDL;
        }
        return Shape.UNKNOWN;
    }
}
