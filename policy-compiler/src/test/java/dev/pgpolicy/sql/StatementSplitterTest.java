package dev.pgpolicy.sql;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class StatementSplitterTest {

    private static List<String> split(String sql) {
        return StatementSplitter.split(sql).stream().map(LexedStatement::text).toList();
    }

    @Test
    void splitsOnTopLevelSemicolons() {
        assertThat(split("SELECT 1; SELECT 2 ;SELECT 3")).containsExactly("SELECT 1", "SELECT 2", "SELECT 3");
    }

    @Test
    void emptyStatementsAreDropped() {
        assertThat(split(";; SELECT 1;;  ; -- only a comment\n;")).containsExactly("SELECT 1");
        assertThat(split("  /* nothing */ ")).isEmpty();
    }

    @Test
    void semicolonsInsideStringsCommentsAndDollarQuotesDoNotSplit() {
        assertThat(split("SELECT 'a;b', E'c\\';d', \"e;f\" /* g; */ -- h;\n; SELECT $x$;$x$"))
                .hasSize(2)
                .last().isEqualTo("SELECT $x$;$x$");
    }

    @Test
    void semicolonsInsideParenthesesDoNotSplit() {
        assertThat(split("SELECT (1; 2); SELECT 3")).containsExactly("SELECT (1; 2)", "SELECT 3");
    }

    @Test
    void sqlStandardFunctionBodiesKeepTheirStatements() {
        String function = "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC "
                + "SELECT CASE WHEN true THEN 1 END; SELECT 2; END";
        assertThat(split(function + "; SELECT 3")).containsExactly(function, "SELECT 3");
        String procedure = "CREATE OR REPLACE PROCEDURE p() BEGIN ATOMIC INSERT INTO t VALUES (1); END";
        assertThat(split(procedure + ";SELECT 4")).containsExactly(procedure, "SELECT 4");
    }

    @Test
    void transactionBeginIsNotAnAtomicBody() {
        assertThat(split("BEGIN; SELECT 1; END;")).containsExactly("BEGIN", "SELECT 1", "END");
    }

    @Test
    void anUnterminatedStringSwallowsTheRestLikeTheServer() {
        assertThat(split("SELECT 'abc; DROP TABLE t")).hasSize(1);
    }
}
