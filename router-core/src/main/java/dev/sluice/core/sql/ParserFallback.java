package dev.sluice.core.sql;

import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import net.sf.jsqlparser.parser.CCJSqlParser;
import net.sf.jsqlparser.parser.StringProvider;
import net.sf.jsqlparser.statement.Statement;
import net.sf.jsqlparser.statement.select.Select;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Last resort for statements whose leading keyword the fast path does not know. Calls the JSqlParser grammar
 * directly ({@code CCJSqlParserUtil.parse} would start a thread per call) with complex parsing off, and only
 * for small, balanced input. It only decides the broad shape; query details are then read from the tokens
 * by {@link QueryRules}.
 *
 * <p>Why a watchdog: the grammar's lookahead is exponential on some failing inputs even with complex parsing
 * off (measured: an 8-deep nested CASE with a syntax error inside takes ~90 s). Size and nesting limits
 * cannot rule that out, so each parse gets a deadline after which the parser's own {@code interrupted} flag is
 * raised, which makes it give up promptly. The watchdog is one daemon thread per instance, started on first
 * use and stopped when idle, so a classifier that never falls back never starts a thread.
 */
final class ParserFallback {

    /** Larger statements are not worth the parser's worst case; they become UNPARSED (primary). */
    static final int MAX_CHARS = 4096;
    /** Parenthesis nesting beyond this is not real-world SQL and is where the grammar gets slow or recursive. */
    static final int MAX_PAREN_DEPTH = 32;
    /** Deadline for one fallback parse; a normal statement takes well under a millisecond. */
    static final long TIMEOUT_MILLIS = 100;

    private static final Logger LOG = LoggerFactory.getLogger(ParserFallback.class);

    /** Broad shape of a parsed statement. */
    enum Shape { QUERY, WRITE, DDL, UNKNOWN }

    private final boolean mysql;
    private volatile ScheduledThreadPoolExecutor watchdog;

    ParserFallback(Dialect dialect) {
        this.mysql = dialect == Dialect.MYSQL;
    }

    Shape parse(StatementTokens st) {
        if (st.textLength() > MAX_CHARS) {
            return Shape.UNKNOWN;
        }
        int depth = st.maxParenDepth();
        if (depth < 0 || depth > MAX_PAREN_DEPTH) { // unbalanced input cannot parse: skip the parser's worst case
            return Shape.UNKNOWN;
        }
        String text = st.text();
        CCJSqlParser parser = new CCJSqlParser(new StringProvider(text))
                .withAllowComplexParsing(false)
                .withBackslashEscapeCharacter(mysql);
        ScheduledFuture<?> deadline = watchdog().schedule(() -> {
            parser.interrupted = true;
        }, TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
        try {
            Statement s = parser.Statement();
            return parser.interrupted ? Shape.UNKNOWN : shapeOf(s);
        } catch (Exception | StackOverflowError e) {
            // ParseException and TokenMgrException are expected for unknown syntax; anything else is a parser bug.
            LOG.trace("JSqlParser fallback failed for statement of {} chars: {}", text.length(), e.toString());
            return Shape.UNKNOWN;
        } finally {
            deadline.cancel(false);
        }
    }

    private ScheduledThreadPoolExecutor watchdog() {
        ScheduledThreadPoolExecutor w = watchdog;
        if (w == null) {
            synchronized (this) {
                w = watchdog;
                if (w == null) {
                    w = new ScheduledThreadPoolExecutor(1, r -> {
                        Thread t = new Thread(r, "sluice-sql-parser-watchdog");
                        t.setDaemon(true);
                        return t;
                    });
                    w.setRemoveOnCancelPolicy(true);
                    w.setKeepAliveTime(10, TimeUnit.SECONDS);
                    w.allowCoreThreadTimeOut(true);
                    watchdog = w;
                }
            }
        }
        return w;
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
