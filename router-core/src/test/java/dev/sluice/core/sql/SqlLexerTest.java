package dev.sluice.core.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SqlLexerTest {

    private static final SqlLexer PG = new SqlLexer(Dialect.POSTGRESQL);
    private static final SqlLexer MY = new SqlLexer(Dialect.MYSQL);

    /** Renders tokens as TYPE:text (text omitted for strings/quoted identifiers), statements separated by " | ". */
    private static String render(SqlLexer lexer, String sql) {
        SqlLexer.Result r = lexer.lex(sql);
        assertNull(r.error(), "unexpected lexer error for " + sql);
        List<String> stmts = new ArrayList<>();
        for (int s = 0; s < r.statementCount(); s++) {
            StatementTokens st = r.statement(sql, s);
            StringBuilder b = new StringBuilder();
            for (int k = 0; k < st.size(); k++) {
                Token t = st.token(k);
                if (k > 0) {
                    b.append(' ');
                }
                b.append(t.type()).append(t.text() == null ? "" : ":" + t.text());
            }
            stmts.add(b.toString());
        }
        return String.join(" | ", stmts);
    }

    @Test
    void wordsAreUpperCasedAndPunctuationSplit() {
        assertEquals("WORD:SELECT WORD:A PUNCT:, WORD:B WORD:FROM WORD:T",
                render(PG, "select a, b from t"));
    }

    @Test
    void castsParametersAndNumbers() {
        assertEquals("WORD:SELECT PARAM PUNCT::: WORD:INT PUNCT:, NUMBER:1.5e-3 PUNCT:, PARAM:?",
                render(PG, "SELECT $1::int, 1.5e-3, ?"));
    }

    @Test
    void dollarQuotesHideSemicolonsAndKeywords() {
        assertEquals("WORD:SELECT STRING PUNCT:, STRING", render(PG, "SELECT $$a; UPDATE t$$, $tag$ $$ ; $tag$"));
        assertEquals("WORD:A$B", render(PG, "a$b"));
    }

    @Test
    void postgresStringsAndIdentifiers() {
        assertEquals("WORD:SELECT STRING QUOTED_IDENT", render(PG, "SELECT 'it''s ; x' \"Quoted\"\"Id\""));
        assertEquals("WORD:SELECT STRING", render(PG, "SELECT E'a\\'b;c'"));
        // standard_conforming_strings: a backslash does not escape in a plain string
        assertEquals("WORD:SELECT STRING | WORD:X", render(PG, "SELECT 'a\\'; x"));
    }

    @Test
    void mysqlStringsIdentifiersAndVariables() {
        assertEquals("WORD:SELECT STRING STRING QUOTED_IDENT", render(MY, "SELECT 'a\\';b' \"c\\\";d\" `e``;f`"));
        assertEquals("WORD:SET VARIABLE:@@GLOBAL PUNCT:. WORD:X PUNCT:= VARIABLE:@Y", render(MY, "SET @@global.x = @y"));
    }

    @Test
    void comments() {
        assertEquals("WORD:SELECT NUMBER:1", render(PG, "/* a /* nested ; */ b */ SELECT -- c ; d\n 1"));
        assertEquals("WORD:SELECT NUMBER:1 | PUNCT:* PUNCT:/", render(MY, "/* a /* b */ SELECT 1; */"));
        assertEquals("WORD:SELECT NUMBER:1", render(MY, "# c ; d\nSELECT 1"));
        assertEquals("WORD:SELECT NUMBER:1 PUNCT:# NUMBER:2", render(PG, "SELECT 1 # 2"));
        // MySQL needs a space after --
        assertEquals("WORD:SELECT NUMBER:1 PUNCT:- PUNCT:- NUMBER:1", render(MY, "SELECT 1--1"));
    }

    @Test
    void mysqlExecutableCommentsAreCode() {
        assertEquals("WORD:SET WORD:NAMES WORD:UTF8", render(MY, "/*!40101 SET NAMES utf8 */"));
        assertEquals("WORD:SELECT WORD:A", render(MY, "SELECT /*M!100100 a */"));
    }

    @Test
    void splitsStatementsAndDropsEmptyOnes() {
        assertEquals("WORD:SELECT NUMBER:1 | WORD:SELECT NUMBER:2", render(PG, ";; SELECT 1 ;;; SELECT 2 ; /* c */ ;"));
        assertEquals("", render(PG, ";;;"));
        assertEquals(0, PG.lex(";".repeat(100_000)).statementCount());
    }

    @Test
    void unterminatedInputIsAnError() {
        for (String sql : List.of("SELECT 'x", "SELECT \"x", "SELECT /* x", "SELECT $a$ x $b$", "/* /* */")) {
            assertNotNull(PG.lex(sql).error(), sql);
        }
        for (String sql : List.of("SELECT 'x\\'", "SELECT `x", "SELECT /*! 1", "SELECT \"x")) {
            assertNotNull(MY.lex(sql).error(), sql);
        }
    }

    @Test
    void routeHintsOnlyFromLeadingComments() {
        assertEquals(RouteHint.PRIMARY, PG.lex("/* x */ /*  SLUICE :primary */ SELECT 1").hint());
        assertEquals(RouteHint.REPLICA, MY.lex("-- a\n/*sluice:replica*/ SELECT 1").hint());
        assertEquals(RouteHint.NONE, PG.lex("SELECT /* sluice:primary */ 1").hint());
        assertEquals(RouteHint.NONE, PG.lex("/* sluice:primaryx */ SELECT 1").hint());
        assertEquals(RouteHint.PRIMARY, PG.lex("/* sluice:replica */ /* sluice:primary */ SELECT 1").hint());
    }
}
