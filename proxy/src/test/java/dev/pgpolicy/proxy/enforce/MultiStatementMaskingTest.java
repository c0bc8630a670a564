package dev.pgpolicy.proxy.enforce;

import static dev.pgpolicy.proxy.enforce.EnforcementFixture.APP;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.embedded.ProcessResult;
import dev.pgpolicy.proxy.testing.PostgresExtension;
import dev.pgpolicy.proxy.testing.WireSession;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A simple Query of several statements, where one names a masked column: a computed column
 * (table OID 0) is NULL in that statement's result, because a set operation could carry the
 * masked value in it, and keeps its value in the results of the other statements. psql sends
 * the text as one Query and prints every result.
 */
@ExtendWith(PostgresExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MultiStatementMaskingTest {

    private EnforcementFixture fixture;

    @BeforeAll
    void start(EmbeddedPostgres postgres) {
        fixture = EnforcementFixture.start(postgres, EnforcementFixture.policyDirectory("multi-statement-policies"));
    }

    @AfterAll
    void stop() {
        fixture.close();
    }

    private String psql(String sql) {
        ProcessResult result = fixture.client(APP).psql(sql);
        assertThat(result.succeeded()).as(result.describe()).isTrue();
        return result.stdout().strip();
    }

    @Test
    void onlyTheStatementNamingAMaskedColumnLosesItsComputedColumns() {
        assertThat(psql("SELECT 40 + 2; "
                + "SELECT ssn, 'computed' FROM payments.customers WHERE id = 1; "
                + "SELECT name, length(name) FROM payments.customers WHERE id = 1; "
                + "SELECT ssn FROM payments.customers WHERE id = 1 UNION SELECT name FROM payments.customers WHERE id = 1; "
                + "SELECT 'after'"))
                .isEqualTo("42\n***-**-****|\nAda Lovelace|12\n\n\nafter"); // the UNION: two rows, both NULL
    }

    @Test
    void statementsThatReturnNoRowsAndEmptyStatementsKeepTheCountRight() {
        assertThat(psql("BEGIN; ; SELECT ssn, 1 FROM payments.customers WHERE id = 1;; COMMIT; SELECT 7 * 6"))
                .isEqualTo("BEGIN\n***-**-****|\nCOMMIT\n42");
    }

    @Test
    void aSingleStatementNamingAMaskedColumnStillLosesItsComputedColumns() {
        assertThat(psql("SELECT ssn, 'computed' FROM payments.customers WHERE id = 1")).isEqualTo("***-**-****|");
        assertThat(psql("SELECT length(name) FROM payments.customers WHERE id = 1")).isEqualTo("12");
    }

    /**
     * Forty Queries in one write: far more in flight than the few a session tracks on its own, so
     * most results are matched with their statement's flag after it moved to the per-text map.
     * Each text differs, and each result must keep, or lose, its computed column by its own text.
     */
    @Test
    void aLongPipelineOfQueriesKeepsEachResultsOwnFlag() {
        String[] queries = new String[40];
        for (int i = 0; i < queries.length; i++) {
            queries[i] = (i % 3 == 0 ? "SELECT ssn, length(name)" : "SELECT name, length(name)")
                    + " FROM payments.customers WHERE id = 1 AND " + i + " = " + i;
        }
        try (WireSession session = WireSession.login("127.0.0.1", fixture.port(), APP, EnforcementFixture.PASSWORD,
                EnforcementFixture.DB)) {
            List<WireSession.Reply> replies = session.pipelined(queries);
            for (int i = 0; i < queries.length; i++) {
                assertThat(replies.get(i).rows()).as(queries[i]).containsExactly(i % 3 == 0
                        ? java.util.Arrays.asList("***-**-****", null)
                        : List.of("Ada Lovelace", "12"));
            }
            // And again one at a time, after the pipeline's Queries were all answered.
            assertThat(session.query(queries[1]).rows()).containsExactly(List.of("Ada Lovelace", "12"));
            assertThat(session.query(queries[0]).rows()).containsExactly(java.util.Arrays.asList("***-**-****", null));
        }
    }

    @Test
    void aCopyIsJudgedByItsOwnStatementNotByTheOthersOfTheQuery() {
        // The first statement names the masked column; the COPY does not, so its computed column keeps its value.
        assertThat(psql("SELECT ssn FROM payments.customers WHERE id = 1; "
                + "COPY (SELECT name, length(name) FROM payments.customers WHERE id = 1) TO STDOUT"))
                .isEqualTo("***-**-****\nAda Lovelace\t12");
        // The COPY that names it loses its computed column, whatever the other statements do.
        assertThat(psql("SELECT 40 + 2; "
                + "COPY (SELECT ssn, length(name) FROM payments.customers WHERE id = 1) TO STDOUT"))
                .isEqualTo("42\n***-**-****\t\\N");
    }
}
