package dev.pgpolicy.proxy.enforce;

import static dev.pgpolicy.proxy.enforce.EnforcementFixture.APP;
import static dev.pgpolicy.proxy.enforce.EnforcementFixture.DB;
import static dev.pgpolicy.proxy.enforce.EnforcementFixture.PASSWORD;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.testing.PostgresExtension;
import dev.pgpolicy.proxy.testing.WireSession;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A session that repeats one statement shape with new literals gets its previous statement's
 * decision again without a new evaluation, but only while nothing the decision depends on has
 * changed: here the principal class changes with {@code application_name} and the names resolve
 * differently after {@code SET search_path}, and every repetition must be judged under the
 * session as it is at that moment.
 */
@ExtendWith(PostgresExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RepeatedStatementDecisionTest {

    private EnforcementFixture fixture;

    @BeforeAll
    void start(EmbeddedPostgres postgres) {
        fixture = EnforcementFixture.start(postgres, EnforcementFixture.policyDirectory("repeated-statement-policies"));
    }

    @AfterAll
    void stop() {
        fixture.close();
    }

    @Test
    void aRepeatedStatementIsJudgedUnderThePrincipalClassOfTheMoment() {
        try (WireSession session = WireSession.login("127.0.0.1", fixture.port(), APP, PASSWORD, DB)) {
            for (int round = 0; round < 3; round++) {
                for (int again = 0; again < 2; again++) {
                    assertThat(session.query("SELECT amount FROM payments.orders WHERE id = 1 AND " + (round + again)
                            + " >= 0").rows()).as("round %d, as the app", round).containsExactly(List.of("10.50"));
                }
                // The statement itself makes the session a batch job: its own run is judged as the
                // app, its repetition (no other statement in between) as the batch job.
                String becomeBatch = "SELECT set_config('application_name', 'batch', false), amount"
                        + " FROM payments.orders WHERE id = 1 AND %d >= 0";
                assertThat(session.query(String.format(becomeBatch, round)).rows())
                        .containsExactly(List.of("batch", "10.50"));
                WireSession.Reply asBatch = session.query(String.format(becomeBatch, round + 1));
                assertThat(asBatch.sqlState()).as("round %d, as a batch job", round).isEqualTo("42501");
                assertThat(asBatch.errorMessage()).contains("no-batch-orders");

                assertThat(session.query("SET application_name = 'web'").sqlState()).isNull();
            }
        }
    }

    @Test
    void aRepeatedStatementFollowsTheSearchPath() {
        try (WireSession session = WireSession.login("127.0.0.1", fixture.port(), APP, PASSWORD, DB)) {
            assertThat(session.query("SET search_path = payments").sqlState()).isNull();
            assertThat(session.query("SELECT amount FROM orders WHERE id = 1").rows())
                    .containsExactly(List.of("10.50"));
            // Under the default path the same unqualified text names public.orders, which no rule allows.
            assertThat(session.query("SET search_path = public").sqlState()).isNull();
            assertThat(session.query("SELECT amount FROM orders WHERE id = 2").sqlState()).isEqualTo("42501");
            assertThat(session.query("SET search_path = payments").sqlState()).isNull();
            assertThat(session.query("SELECT amount FROM orders WHERE id = 3").rows())
                    .containsExactly(List.of("7.25"));
        }
    }
}
