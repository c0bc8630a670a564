package dev.pgpolicy.proxy.enforce;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpolicy.proxy.enforce.SqlPreparedStatements.Deallocate;
import dev.pgpolicy.proxy.enforce.SqlPreparedStatements.DeallocateAll;
import dev.pgpolicy.proxy.enforce.SqlPreparedStatements.DiscardAll;
import dev.pgpolicy.proxy.enforce.SqlPreparedStatements.Execute;
import dev.pgpolicy.proxy.enforce.SqlPreparedStatements.Prepare;
import dev.pgpolicy.proxy.enforce.SqlPreparedStatements.Unreadable;
import org.junit.jupiter.api.Test;

/**
 * How the proxy reads the names and texts of PREPARE, DEALLOCATE, DISCARD ALL and EXECUTE from a
 * Query, as PostgreSQL's grammar has them (gram.y: PrepareStmt, DeallocateStmt, ExecuteStmt,
 * ExplainStmt, CreateAsStmt); the end-to-end behaviour is AuditSqlPreparedTest's.
 */
class SqlPreparedStatementsTest {

    @Test
    void prepareGivesTheNameAsTheServerFoldsItAndTheStatementAfterAs() {
        assertThat(SqlPreparedStatements.commands(
                "PREPARE Del (int, text) AS DELETE FROM t WHERE id = $1 AND note = $2", true))
                .containsExactly(new Prepare("del", "DELETE FROM t WHERE id = $1 AND note = $2"));
        assertThat(SqlPreparedStatements.commands("prepare \"Del\" as /* c */ SELECT ';' ; select 1", true))
                .containsExactly(new Prepare("Del", "SELECT ';'"));
        assertThat(SqlPreparedStatements.commands("PREPARE TRANSACTION 'gid'", true)).isEmpty();
        assertThat(SqlPreparedStatements.commands("PREPARE p SELECT 1", true))
                .containsExactly(new Unreadable("PREPARE"));
    }

    @Test
    void deallocateDiscardAndExecuteInEveryFormThatRunsOrDropsAStatement() {
        assertThat(SqlPreparedStatements.commands("DEALLOCATE p; DEALLOCATE PREPARE \"Q\"; DEALLOCATE ALL;"
                + " DEALLOCATE PREPARE ALL; DISCARD ALL; DISCARD PLANS", true)).containsExactly(
                new Deallocate("p"), new Deallocate("Q"), new DeallocateAll(), new DeallocateAll(), new DiscardAll());
        assertThat(SqlPreparedStatements.commands("EXECUTE p(1, 'x'); EXPLAIN (ANALYZE, COSTS off) EXECUTE q;"
                + " EXPLAIN ANALYZE VERBOSE EXECUTE r(2); CREATE TEMP TABLE c AS EXECUTE s(3); EXECUTE 'p'", true))
                .containsExactly(new Execute("p"), new Execute("q"), new Execute("r"), new Execute("s"),
                        new Unreadable("EXECUTE"));
        assertThat(SqlPreparedStatements.commands("GRANT EXECUTE ON FUNCTION f() TO app;"
                + " SELECT 'EXECUTE p'; DO $$ BEGIN EXECUTE 'PREPARE x AS SELECT 1'; END $$", true)).isEmpty();
    }

    @Test
    void onlyTheTagsThatChangePreparedStatementsAreFollowed() {
        assertThat(SqlPreparedStatements.changesStatements("PREPARE")).isTrue();
        assertThat(SqlPreparedStatements.changesStatements("DEALLOCATE")).isTrue();
        assertThat(SqlPreparedStatements.changesStatements("DEALLOCATE ALL")).isTrue();
        assertThat(SqlPreparedStatements.changesStatements("DISCARD ALL")).isTrue();
        assertThat(SqlPreparedStatements.changesStatements("PREPARE TRANSACTION")).isFalse();
        assertThat(SqlPreparedStatements.changesStatements("INSERT 0 1")).isFalse();
        assertThat(SqlPreparedStatements.changesStatements("DISCARD PLANS")).isFalse();
    }

    @Test
    void aNameIsUnsettledWhileAChangeToItIsInFlight() {
        SqlPreparedStatements statements = new SqlPreparedStatements();
        assertThat(statements.lookup("p").status()).isEqualTo(SqlPreparedStatements.Status.UNKNOWN);
        statements.forwarded(SqlPreparedStatements.commands("PREPARE p AS SELECT 1; EXECUTE q", true));
        assertThat(statements.lookup("p").status()).isEqualTo(SqlPreparedStatements.Status.UNSETTLED);
        assertThat(statements.lookup("q").status()).isEqualTo(SqlPreparedStatements.Status.UNKNOWN);
        statements.forwarded(SqlPreparedStatements.commands("DISCARD ALL", true));
        assertThat(statements.lookup("q").status()).isEqualTo(SqlPreparedStatements.Status.UNSETTLED);
        statements.settle();
        assertThat(statements.lookup("p").status()).as("a PREPARE without its answer adds nothing")
                .isEqualTo(SqlPreparedStatements.Status.UNKNOWN);
    }
}
