package dev.pgpolicy.proxy.enforce;

import static dev.pgpolicy.proxy.enforce.EnforcementFixture.ANALYST;
import static dev.pgpolicy.proxy.enforce.EnforcementFixture.APP;
import static dev.pgpolicy.proxy.enforce.EnforcementFixture.DB;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.embedded.ProcessResult;
import dev.pgpolicy.proxy.testing.PgClient;
import dev.pgpolicy.proxy.testing.PostgresExtension;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Masking by RowDescription origin through the live proxy: whatever the query's shape (alias,
 * {@code SELECT *}, join, subquery, CTE) and the result format, the analyst sees masked values
 * that still decode for the column's type; the DBA sees clear values.
 */
@ExtendWith(PostgresExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MaskingTest {

    private static final String MASKED_ADA = "a***@example.com|XXXX-XXXX-XXXX-1111|***-**-****";

    private EnforcementFixture fixture;

    @BeforeAll
    void start(EmbeddedPostgres postgres) {
        fixture = EnforcementFixture.start(postgres);
    }

    @AfterAll
    void stop() {
        fixture.close();
    }

    private String psql(String user, String sql) {
        ProcessResult result = fixture.client(user).psql(sql);
        assertThat(result.succeeded()).as(result.describe()).isTrue();
        return result.stdout().strip();
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT email, card_number, ssn FROM payments.customers WHERE id = 1",
            "SELECT c.email AS contact, c.card_number AS pan, c.ssn AS x FROM payments.customers c WHERE c.id = 1",
            "SELECT c.email, c.card_number, c.ssn FROM payments.orders o JOIN payments.customers c ON c.id = o.customer_id WHERE o.id = 1",
            "SELECT email, card_number, ssn FROM (SELECT * FROM payments.customers) s WHERE s.id = 1",
            "WITH people AS (SELECT id, email, card_number, ssn FROM payments.customers) SELECT email, card_number, ssn FROM people WHERE id = 1"})
    void theAnalystSeesMaskedValuesWhateverTheQueryShape(String sql) {
        assertThat(psql(ANALYST, sql)).isEqualTo(MASKED_ADA);
    }

    @Test
    void selectStarMasksByColumnOriginAndNullsTypesTheMaskCannotProduce() {
        assertThat(psql(ANALYST, "SELECT * FROM payments.customers ORDER BY id")).isEqualTo("""
                1|Ada Lovelace|a***@example.com|XXXX-XXXX-XXXX-1111|***-**-****|
                2|Alan Turing|a***@example.org|XXXX-XXXX-XXXX-0004|***-**-****|""");
    }

    @Test
    void theDbaSeesClearValuesAndTheAppOnlyItsOwnMask() {
        assertThat(psql(fixture.postgres.superuser(), "SELECT email, card_number, ssn FROM payments.customers WHERE id = 1"))
                .isEqualTo("ada@example.com|4111-1111-1111-1111|123-45-6789");
        assertThat(psql(APP, "SELECT email, card_number, ssn FROM payments.customers WHERE id = 1"))
                .isEqualTo("ada@example.com|4111-1111-1111-1111|***-**-****");
    }

    @Test
    void aMaskedColumnInsideAnExpressionIsDenied() {
        ProcessResult result = fixture.client(ANALYST).psql("SELECT upper(ssn) FROM payments.customers");
        assertThat(result.succeeded()).isFalse();
        assertThat(result.stderr()).contains("ERROR:  pgpolicy: permission denied");
    }

    @Test
    void aSetOperationCannotCarryAMaskedColumnOut() {
        assertThat(psql(ANALYST, "SELECT ssn FROM payments.customers WHERE id = 1 UNION SELECT name FROM payments.customers WHERE id = 1"))
                .doesNotContain("123-45-6789").doesNotContain("Ada");
    }

    @ParameterizedTest
    @ValueSource(strings = {"prepareThreshold=-1&binaryTransfer=true", "prepareThreshold=1", "preferQueryMode=simple"})
    void jdbcInEveryModeSeesMaskedValuesThatDecode(String mode) throws SQLException {
        try (Connection connection = fixture.jdbc(ANALYST, mode);
             PreparedStatement select = connection.prepareStatement(
                     "SELECT id, name, email, card_number, ssn, birth_date FROM payments.customers WHERE id = ?")) {
            for (int round = 0; round < 3; round++) {
                select.setInt(1, 2);
                try (ResultSet rows = select.executeQuery()) {
                    assertThat(rows.next()).isTrue();
                    List<Object> values = new ArrayList<>();
                    values.add(rows.getInt(1));
                    values.add(rows.getString(2));
                    values.add(rows.getString(3));
                    values.add(rows.getString(4));
                    values.add(rows.getString(5));
                    values.add(rows.getDate(6));
                    assertThat(values).containsExactly(2, "Alan Turing", "a***@example.org", "XXXX-XXXX-XXXX-0004",
                            "***-**-****", null);
                }
            }
        }
    }

    @Test
    void pgbenchPreparedSelectOnlyRunsWithoutFailuresUnderARealisticPolicy() {
        PgClient superuser = PgClient.superuserOf(fixture.postgres).database(DB);
        ProcessResult init = superuser.pgbench("--initialize", "--scale=1", "--quiet", DB);
        assertThat(init.succeeded()).as(init.describe()).isTrue();
        fixture.postgres.execute(DB, "GRANT SELECT, INSERT, UPDATE ON pgbench_accounts, pgbench_branches, pgbench_tellers,"
                + " pgbench_history TO " + APP + ";\n");

        // enf_app has a mask (ssn) elsewhere, so every result is resolved through the catalog.
        ProcessResult run = fixture.client(APP).pgbench("--no-vacuum", "--protocol=prepared", "--select-only",
                "--client=2", "--transactions=500", DB);
        assertThat(run.succeeded()).as(run.describe()).isTrue();
        assertThat(run.stdout()).contains("number of transactions actually processed: 1000/1000")
                .contains("number of failed transactions: 0");
    }

    @Test
    void copyIsMaskedInTextAndCsvAndRefusedInBinary() {
        // The app may copy its tables out (read), but ssn is masked for it (CopyMaskingTest has the rest).
        ProcessResult result = fixture.client(APP).psqlWith("--set=ON_ERROR_STOP=0", "--no-align", "--tuples-only",
                "--command=COPY payments.customers TO STDOUT (FORMAT binary)",
                "--command=SELECT count(*) FROM payments.orders");
        assertThat(result.stderr()).contains("ERROR:  pgpolicy: permission denied by rule")
                .contains("binary COPY cannot be masked");
        assertThat(result.stdout()).doesNotContain("123-45-6789").contains("3");
        assertThat(psql(APP, "COPY payments.customers (id, ssn) TO STDOUT (FORMAT csv)"))
                .isEqualTo("1,***-**-****\n2,***-**-****");
        assertThat(psql(APP, "COPY payments.orders TO STDOUT (FORMAT csv)")).contains("1,1,10.50");
        assertThat(psql(fixture.postgres.superuser(), "COPY (SELECT email FROM payments.customers WHERE id = 1) TO STDOUT"))
                .isEqualTo("ada@example.com");
    }

    @Test
    void cursorsReturnMaskedRows() {
        ProcessResult result = fixture.client(ANALYST).psqlWith("--no-align", "--tuples-only",
                "--command=BEGIN",
                "--command=DECLARE c CURSOR FOR SELECT email, ssn FROM payments.customers ORDER BY id",
                "--command=FETCH 1 FROM c",
                "--command=COMMIT");
        assertThat(result.succeeded()).as(result.describe()).isTrue();
        assertThat(result.stdout()).contains("a***@example.com|***-**-****").doesNotContain("ada@example.com");
    }
}
