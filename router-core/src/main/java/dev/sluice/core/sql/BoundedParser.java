package dev.sluice.core.sql;

import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import net.sf.jsqlparser.parser.CCJSqlParser;
import net.sf.jsqlparser.parser.StringProvider;
import net.sf.jsqlparser.statement.Statement;

/**
 * JSqlParser with a deadline, for every caller that needs a full parse (the classifier's fallback, the shard
 * router). Calls the grammar directly ({@code CCJSqlParserUtil.parse} would start a thread per call).
 *
 * <p>Why a watchdog: the grammar's lookahead is exponential on some failing inputs even with complex parsing
 * off (measured: an 8-deep nested CASE with a syntax error inside takes ~90 s). Size and nesting limits cannot
 * rule that out, so each parse gets a deadline after which the parser's own {@code interrupted} flag is raised,
 * which makes it give up promptly. The watchdog is one daemon thread per instance, started on first use and
 * stopped when idle, so an instance that never parses never starts a thread.
 */
public final class BoundedParser {
    /** Parenthesis nesting beyond this is not real-world SQL and is where the grammar gets slow or recursive. */
    public static final int MAX_PAREN_DEPTH = 32;
    /** How a parse that hit its deadline is reported (the start of {@link Result#error()}). */
    public static final String DEADLINE = "parse took longer than";

    private static final java.lang.management.ThreadMXBean CPU = java.lang.management.ManagementFactory.getThreadMXBean();

    private final boolean mysql;
    private final long timeoutMillis;
    private volatile ScheduledThreadPoolExecutor watchdog;

    public BoundedParser(Dialect dialect, long timeoutMillis) {
        this.mysql = dialect == Dialect.MYSQL;
        this.timeoutMillis = timeoutMillis;
    }

    /** The outcome of one parse: the statement, or why there is none. */
    public record Result(Statement statement, String error) {
    }

    /**
     * Parses one statement. {@code complex} turns on JSqlParser's complex parsing (slower; some expressions need
     * it). Never throws for bad input: a syntax error, a deadline hit or a parser bug comes back as an error text.
     */
    public Result parse(String text, boolean complex) {
        CCJSqlParser parser = new CCJSqlParser(new StringProvider(text))
                .withAllowComplexParsing(complex)
                .withBackslashEscapeCharacter(mysql);
        Deadline deadline = new Deadline(parser, watchdog());
        try {
            Statement s = parser.Statement();
            if (parser.interrupted) {
                return new Result(null, DEADLINE + " " + timeoutMillis + " ms");
            }
            return s == null ? new Result(null, "empty statement") : new Result(s, null);
        } catch (Exception | StackOverflowError e) {
            // ParseException and TokenMgrException are expected for unknown syntax; anything else is a parser bug
            String m = String.valueOf(e.getMessage());
            int nl = m.indexOf('\n');
            return new Result(null, parser.interrupted ? DEADLINE + " " + timeoutMillis + " ms"
                    : e.getClass().getSimpleName() + ": " + (nl > 0 ? m.substring(0, nl) : m));
        } finally {
            deadline.cancel();
        }
    }

    /**
     * The deadline of one parse, in the parsing thread's CPU time where the JVM measures it: on a machine whose CPU is
     * taken by others, a parse that waited for a core is not a parse that worked too hard (a wall-clock deadline
     * failed ordinary statements under a load average of 30 on 2 cores). A wall-clock cap of 10 × the deadline still
     * bounds it when the thread makes no progress at all.
     */
    private final class Deadline implements Runnable {
        private final CCJSqlParser parser;
        private final ScheduledThreadPoolExecutor timer;
        private final long thread = Thread.currentThread().getId();
        private final long wallStart = System.nanoTime();
        private final long cpuStart;
        private volatile boolean done;
        private volatile ScheduledFuture<?> next;

        Deadline(CCJSqlParser parser, ScheduledThreadPoolExecutor timer) {
            this.parser = parser;
            this.timer = timer;
            this.cpuStart = CPU.isThreadCpuTimeSupported() && CPU.isThreadCpuTimeEnabled() ? CPU.getCurrentThreadCpuTime() : -1;
            this.next = timer.schedule(this, timeoutMillis, TimeUnit.MILLISECONDS);
        }

        @Override
        public void run() {
            if (done) {
                return;
            }
            long budget = TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
            long cpu = cpuStart < 0 ? -1 : CPU.getThreadCpuTime(thread);
            long used = cpu < 0 ? budget : cpu - cpuStart;
            if (used >= budget || System.nanoTime() - wallStart >= 10 * budget) {
                parser.interrupted = true;
                return;
            }
            next = timer.schedule(this, Math.max(1, TimeUnit.NANOSECONDS.toMillis(budget - used)), TimeUnit.MILLISECONDS);
        }

        void cancel() {
            done = true;
            next.cancel(false);
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
}
