package dev.pgpolicy.proxy.enforce;

import static dev.pgpolicy.proxy.enforce.EnforcementFixture.APP;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.embedded.ProcessResult;
import dev.pgpolicy.proxy.testing.PostgresExtension;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every guard of LANGUAGE.md catches its attack through the live proxy and lets ordinary SQL pass. */
@ExtendWith(PostgresExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GuardsTest {

    private EnforcementFixture fixture;

    @BeforeAll
    void start(EmbeddedPostgres postgres) {
        fixture = EnforcementFixture.start(postgres);
    }

    @AfterAll
    void stop() {
        fixture.close();
    }

    static Stream<Arguments> attacks() {
        return Stream.of(
                Arguments.of("stacked_statements", "SELECT id FROM payments.orders WHERE id = 1; DELETE FROM payments.orders",
                        "SELECT id FROM payments.orders WHERE id = 1"),
                Arguments.of("tautology", "SELECT id FROM payments.orders WHERE id = 1 OR 1=1",
                        "SELECT id FROM payments.orders WHERE 1=1 AND id = 1"),
                Arguments.of("union_probe", "SELECT id FROM payments.orders WHERE id = 1 UNION SELECT NULL",
                        "SELECT id FROM payments.orders UNION SELECT customer_id FROM payments.orders"),
                Arguments.of("comment_after_literal", "SELECT id FROM payments.orders WHERE amount = '1'-- AND id = 2",
                        "SELECT id FROM payments.orders WHERE amount = 1 -- report 7"),
                Arguments.of("sleep", "SELECT pg_sleep(1)", "SELECT now()"),
                Arguments.of("catalog_probe", "SELECT version()", "SELECT count(*) FROM payments.orders"),
                Arguments.of("file_access", "SELECT pg_read_file('/etc/passwd')", "SELECT upper('file')"),
                Arguments.of("program_exec", "COPY payments.orders TO PROGRAM 'cat'", "COPY payments.orders TO STDOUT"),
                Arguments.of("unparsed", "SELECT xmlelement(name foo)",
                        "SELECT id FROM payments.orders o WHERE o.amount > 1 WINDOW w AS (PARTITION BY id)"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("attacks")
    void theGuardCatchesItsAttackAndLetsOrdinarySqlThrough(String heuristic, String attack, String ordinary) {
        ProcessResult denied = fixture.client(APP).psql(attack);
        assertThat(denied.succeeded()).isFalse();
        assertThat(denied.stderr()).contains("ERROR:  pgpolicy: permission denied by rule")
                .contains("\"guard." + heuristic + "\"");

        ProcessResult allowed = fixture.client(APP).psql(ordinary);
        assertThat(allowed.succeeded()).as(allowed.describe()).isTrue();
    }

    @Test
    void ormStyleParametersPassAndConcatenatedInjectionIsDenied() throws SQLException {
        try (Connection connection = fixture.jdbc(APP, "prepareThreshold=1")) {
            try (PreparedStatement orm = connection.prepareStatement(
                    "SELECT amount FROM payments.orders WHERE 1=1 AND id = ? /* controller=orders */")) {
                for (int i = 0; i < 3; i++) {
                    orm.setInt(1, 2);
                    try (ResultSet rows = orm.executeQuery()) {
                        assertThat(rows.next()).isTrue();
                        assertThat(rows.getBigDecimal(1)).isEqualByComparingTo("20.00");
                    }
                }
            }
            String userInput = "x' OR '1'='1' --";
            try (Statement statement = connection.createStatement()) {
                assertThatThrownBy(() -> statement.executeQuery(
                        "SELECT id FROM payments.customers WHERE name = '" + userInput + "'"))
                        .isInstanceOfSatisfying(SQLException.class, e -> {
                            assertThat(e.getSQLState()).isEqualTo("42501");
                            assertThat(e.getMessage()).contains("guard.");
                        });
                try (ResultSet rows = statement.executeQuery("SELECT count(*) FROM payments.orders")) {
                    assertThat(rows.next()).isTrue();
                }
            }
        }
    }
}
