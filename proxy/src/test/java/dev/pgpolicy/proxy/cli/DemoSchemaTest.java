package dev.pgpolicy.proxy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.embedded.ProcessResult;
import dev.pgpolicy.proxy.testing.PgClient;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The demo's sample schema: loads cleanly, holds plausible but fake data, and grants least privilege. */
class DemoSchemaTest {
    private static EmbeddedPostgres postgres;

    @BeforeAll
    static void load() throws Exception {
        postgres = EmbeddedPostgres.start();
        for (String role : List.of("app", "analyst", "dba")) {
            postgres.createRole(role, role + "-pw");
        }
        postgres.createRole("outsider", "outsider-pw");
        postgres.createDatabase("demo", "dba");
        try (InputStream in = DemoSchemaTest.class.getResourceAsStream("/demo/schema.sql")) {
            postgres.execute("demo", new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    @AfterAll
    static void stop() {
        postgres.stop();
    }

    @Test
    void holdsAFewThousandRows() {
        assertThat(postgres.query("demo", "SELECT count(*) FROM payments.customers")).containsExactly(List.of("5000"));
        assertThat(postgres.query("demo", "SELECT count(*) FROM payments.orders")).containsExactly(List.of("20000"));
        assertThat(postgres.query("demo", "SELECT count(DISTINCT status) FROM payments.orders")).containsExactly(List.of("4"));
    }

    @Test
    void personalDataIsFakeByConstruction() {
        List<List<String>> rows = postgres.query("demo", "SELECT email, ssn, card_number FROM payments.customers");
        assertThat(rows).hasSize(5000).allSatisfy(row -> {
            assertThat(row.get(0)).matches("[a-z]+\\.[a-z]+[0-9]+@example\\.(com|org)");
            assertThat(row.get(1)).matches("9[0-9]{2}-[0-9]{2}-[0-9]{4}");
            assertThat(row.get(2)).startsWith("400000").hasSize(16);
            assertThat(luhnValid(row.get(2))).as("Luhn check of %s", row.get(2)).isTrue();
        });
        assertThat(postgres.query("demo", "SELECT count(DISTINCT full_name) > 50 FROM payments.customers"))
                .containsExactly(List.of("t"));
        assertThat(postgres.query("demo",
                "SELECT count(*) FROM payments.orders o JOIN payments.customers c ON c.id = o.customer_id"
                        + " WHERE o.card_last4 <> right(c.card_number, 4)")).containsExactly(List.of("0"));
    }

    @Test
    void analystReadsButCannotWrite() {
        PgClient analyst = as("analyst");
        ProcessResult read = analyst.psql("SELECT count(*) FROM payments.daily_revenue WHERE revenue > 0");
        assertThat(read.exitCode()).as(read.describe()).isZero();

        ProcessResult write = analyst.psql("UPDATE payments.customers SET email = 'x@example.com' WHERE id = 1");
        assertThat(write.exitCode()).isNotZero();
        assertThat(write.stderr()).contains("permission denied for table customers");
    }

    @Test
    void appWritesOrders() {
        // Rolled back, so the row counts other tests check stay as loaded.
        ProcessResult insert = as("app").psqlScript("BEGIN;\n"
                + "INSERT INTO payments.orders (customer_id, amount, status, card_last4)"
                + " VALUES (1, 9.99, 'pending', '0000') RETURNING currency;\n"
                + "ROLLBACK;\n");
        assertThat(insert.exitCode()).as(insert.describe()).isZero();
        assertThat(insert.stdout()).startsWith("EUR");
    }

    @Test
    void otherRolesCannotConnect() {
        ProcessResult connect = as("outsider").psql("SELECT 1");
        assertThat(connect.exitCode()).isNotZero();
        assertThat(connect.stderr()).contains("permission denied for database \"demo\"");
    }

    private static PgClient as(String role) {
        return PgClient.to(postgres.host(), postgres.port()).user(role).password(role + "-pw").database("demo")
                .sslMode("verify-full").sslRootCert(postgres.caCertificate());
    }

    static boolean luhnValid(String number) {
        int sum = 0;
        for (int i = 0; i < number.length(); i++) {
            int digit = number.charAt(number.length() - 1 - i) - '0';
            if (i % 2 == 1) {
                digit *= 2;
                if (digit > 9) {
                    digit -= 9;
                }
            }
            sum += digit;
        }
        return sum % 10 == 0;
    }
}
