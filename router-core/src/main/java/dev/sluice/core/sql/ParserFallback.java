package dev.sluice.core.sql;

import net.sf.jsqlparser.statement.Statement;
import net.sf.jsqlparser.statement.select.Select;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Last resort for statements whose leading keyword the fast path does not know. Parses with JSqlParser (complex
 * parsing off, under {@link BoundedParser}'s deadline) and only small, balanced input. It only decides the broad
 * shape; query details are then read from the tokens by {@link QueryRules}.
 */
final class ParserFallback {

    /** Larger statements are not worth the parser's worst case; they become UNPARSED (primary). */
    static final int MAX_CHARS = 4096;
    /** Parenthesis nesting beyond this is not real-world SQL and is where the grammar gets slow or recursive. */
    static final int MAX_PAREN_DEPTH = BoundedParser.MAX_PAREN_DEPTH;
    /** Deadline for one fallback parse; a normal statement takes well under a millisecond. */
    static final long TIMEOUT_MILLIS = 100;

    private static final Logger LOG = LoggerFactory.getLogger(ParserFallback.class);

    /** Broad shape of a parsed statement. */
    enum Shape { QUERY, WRITE, DDL, UNKNOWN }

    private final BoundedParser parser;

    ParserFallback(Dialect dialect) {
        this.parser = new BoundedParser(dialect, TIMEOUT_MILLIS);
    }

    Shape parse(StatementTokens st) {
        if (st.textLength() > MAX_CHARS) {
            return Shape.UNKNOWN;
        }
        int depth = st.maxParenDepth();
        if (depth < 0 || depth > MAX_PAREN_DEPTH) { // unbalanced input cannot parse: skip the parser's worst case
            return Shape.UNKNOWN;
        }
        BoundedParser.Result r = parser.parse(st.text(), false);
        if (r.statement() == null) {
            LOG.trace("JSqlParser fallback failed for statement of {} chars: {}", st.textLength(), r.error());
            return Shape.UNKNOWN;
        }
        return shapeOf(r.statement());
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
