package dev.pgpolicy.proxy.enforce;

import static dev.pgpolicy.proxy.enforce.EnforcementFixture.ANALYST;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.embedded.ProcessResult;
import dev.pgpolicy.proxy.testing.PostgresExtension;
import dev.pgpolicy.proxy.wire.RowDescription;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Mask plans reused across statements: a repeated result is masked as the first, and a plan
 * never outlives the catalog it was made from (a column renamed through the proxy is masked by
 * its new name at once, though the result's layout is the same as before).
 */
@ExtendWith(PostgresExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RowPlanCacheTest {

    private EnforcementFixture fixture;

    @BeforeAll
    void start(EmbeddedPostgres postgres, @TempDir Path dir) throws Exception {
        Path policies = Files.createDirectories(dir.resolve("policies"));
        Files.writeString(policies.resolve("rowplan.pgpolicy"), """
                role analyst = user == "%s";
                role dba     = user == "%s";
                allow any     session;
                allow analyst select on payments.*;
                allow dba     all;
                mask analyst  payments.rowplan.secret with redact("***");
                """.formatted(ANALYST, postgres.superuser()));
        fixture = EnforcementFixture.start(postgres, policies);
        asDba("DROP TABLE IF EXISTS payments.rowplan",
                "CREATE TABLE payments.rowplan (id int, secret text, plain text)",
                "INSERT INTO payments.rowplan VALUES (1, 's3cr3t', 'visible')",
                "GRANT SELECT ON payments.rowplan TO " + ANALYST);
    }

    @AfterAll
    void stop() {
        if (fixture != null) {
            asDba("DROP TABLE IF EXISTS payments.rowplan");
            fixture.close();
        }
    }

    /** Statements run through the proxy, so that the proxy sees the DDL and forgets the catalog it cached. */
    private void asDba(String... statements) {
        String[] arguments = new String[statements.length];
        for (int i = 0; i < statements.length; i++) {
            arguments[i] = "--command=" + statements[i];
        }
        ProcessResult result = fixture.client(fixture.postgres.superuser()).psqlWith(arguments);
        assertThat(result.succeeded()).as(result.describe()).isTrue();
    }

    private List<String> asAnalyst(String... statements) {
        String[] arguments = new String[statements.length + 2];
        arguments[0] = "--no-align";
        arguments[1] = "--tuples-only";
        for (int i = 0; i < statements.length; i++) {
            arguments[i + 2] = "--command=" + statements[i];
        }
        ProcessResult result = fixture.client(ANALYST).psqlWith(arguments);
        assertThat(result.succeeded()).as(result.describe()).isTrue();
        return result.stdout().strip().lines().toList();
    }

    @Test
    void aRepeatedResultIsMaskedEveryTime() {
        String select = "SELECT id, secret, plain FROM payments.rowplan";
        assertThat(asAnalyst(select, select, "SELECT secret AS s FROM payments.rowplan", select))
                .containsExactly("1|***|visible", "1|***|visible", "***", "1|***|visible");
    }

    /** The row of payments.rowplan as {@code SELECT *} shows it on {@code connection}, columns joined by '|'. */
    private static String selectStar(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement();
                ResultSet rows = statement.executeQuery("SELECT * FROM payments.rowplan")) {
            assertThat(rows.next()).isTrue();
            return rows.getString(1) + "|" + rows.getString(2) + "|" + rows.getString(3);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"simple", "extended"})
    void aColumnRenamedThroughTheProxyIsMaskedByItsNewNameInTheSameLayout(String mode) throws SQLException {
        try (Connection analyst = fixture.jdbc(ANALYST, "preferQueryMode=" + mode)) {
            assertThat(selectStar(analyst)).isEqualTo("1|***|visible");
            assertThat(selectStar(analyst)).isEqualTo("1|***|visible");
            // The same RowDescription (same table OID, attribute numbers and types) now means other
            // columns: the session's plan for that layout must not be reused.
            asDba("ALTER TABLE payments.rowplan RENAME COLUMN secret TO swapping",
                    "ALTER TABLE payments.rowplan RENAME COLUMN plain TO secret",
                    "ALTER TABLE payments.rowplan RENAME COLUMN swapping TO plain");
            try {
                assertThat(selectStar(analyst)).isEqualTo("1|s3cr3t|***");
            } finally {
                asDba("ALTER TABLE payments.rowplan RENAME COLUMN plain TO swapping",
                        "ALTER TABLE payments.rowplan RENAME COLUMN secret TO plain",
                        "ALTER TABLE payments.rowplan RENAME COLUMN swapping TO secret");
            }
            assertThat(selectStar(analyst)).isEqualTo("1|***|visible");
        }
    }

    @Test
    void keysDifferByEverythingThePlanReadsAndOnlyByThat() {
        RowDescription described = new RowDescription(List.of(
                new RowDescription.Field("secret", 16_384, 2, 25, -1, -1, 0)));
        RowDescription aliasedInBinary = new RowDescription(List.of(
                new RowDescription.Field("s", 16_384, 2, 25, -1, 0, 1)));
        RowPlanCache.Key key = RowPlanCache.key(described, null, false, "db", "UTF8", 7);
        // Name, format and modifier do not change a column's action: the same plan applies.
        assertThat(RowPlanCache.key(aliasedInBinary, null, false, "db", "UTF8", 7))
                .isEqualTo(key).hasSameHashCodeAs(key);
        assertThat(RowPlanCache.key(described, null, true, "db", "UTF8", 7)).isNotEqualTo(key);
        assertThat(RowPlanCache.key(described, null, false, "other", "UTF8", 7)).isNotEqualTo(key);
        assertThat(RowPlanCache.key(described, null, false, "db", "LATIN1", 7)).isNotEqualTo(key);
        assertThat(RowPlanCache.key(described, null, false, "db", "UTF8", 8)).isNotEqualTo(key);
        for (RowDescription.Field other : List.of(
                new RowDescription.Field("secret", 16_385, 2, 25, -1, -1, 0),
                new RowDescription.Field("secret", 16_384, 3, 25, -1, -1, 0),
                new RowDescription.Field("secret", 16_384, 2, 1043, -1, -1, 0))) {
            assertThat(RowPlanCache.key(new RowDescription(List.of(other)), null, false, "db", "UTF8", 7))
                    .as("%s", other).isNotEqualTo(key);
        }
        assertThat(RowPlanCache.key(new RowDescription(List.of(described.fields().get(0), described.fields().get(0))),
                null, false, "db", "UTF8", 7)).isNotEqualTo(key);
    }
}
