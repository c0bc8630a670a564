package dev.pgpolicy.proxy.enforce;

import static dev.pgpolicy.proxy.enforce.EnforcementFixture.APP;
import static dev.pgpolicy.proxy.enforce.EnforcementFixture.DB;
import static dev.pgpolicy.proxy.enforce.EnforcementFixture.PASSWORD;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.testing.PostgresExtension;
import dev.pgpolicy.proxy.testing.WireSession;
import dev.pgpolicy.proxy.wire.Parse;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The proxy decides and records a Bind on the text of the statement the server holds under its
 * name, also after the server refused a Parse of that name or discarded one after an error: the
 * refused text must not stand in for the one that runs.
 */
@ExtendWith(PostgresExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ServerRefusedParseTest {

    private static final String KEPT = "SELECT id FROM payments.orders WHERE id = 1";
    private static final String REFUSED = "SELECT amount FROM payments.orders WHERE id = 2";

    private EnforcementFixture fixture;

    @BeforeAll
    void start(EmbeddedPostgres postgres) {
        fixture = EnforcementFixture.start(postgres);
    }

    @AfterAll
    void stop() {
        fixture.close();
    }

    @Test
    void aBindAfterARefusedParseIsDecidedOnTheStatementTheServerKept() {
        try (WireSession session = WireSession.login("127.0.0.1", fixture.port(), APP, PASSWORD, DB)) {
            assertThat(session.extended(new Parse("orders_by_id", KEPT, List.of())).sqlState()).isNull();
            // 42P05: the name is in use, and the server keeps the statement it holds.
            assertThat(session.extended(new Parse("orders_by_id", REFUSED, List.of())).sqlState())
                    .isEqualTo("42P05");

            int before = fixture.decisions.size();
            WireSession.Reply run = session.bindAndExecute("orders_by_id");
            assertThat(run.sqlState()).isNull();
            assertThat(run.tags()).containsExactly("SELECT 1");
            assertThat(fixture.decisions.subList(before, fixture.decisions.size()))
                    .extracting(EnforcementFixture.Announced::message, EnforcementFixture.Announced::sql)
                    .containsExactly(tuple("Bind", KEPT));
        }
    }

    @Test
    void aParseTheServerDiscardedAfterAnErrorDefinesNoStatement() {
        try (WireSession session = WireSession.login("127.0.0.1", fixture.port(), APP, PASSWORD, DB)) {
            assertThat(session.extended(new Parse("in_use", KEPT, List.of())).sqlState()).isNull();
            // The first Parse fails, so the server skips the second one up to the Sync.
            WireSession.Reply failed = session.extended(new Parse("in_use", REFUSED, List.of()),
                    new Parse("never_made", REFUSED, List.of()));
            assertThat(failed.sqlState()).isEqualTo("42P05");

            // Refused by the proxy, which knows the server holds no such statement; before, the
            // proxy forwarded the Bind as if the statement existed and recorded the wrong text.
            WireSession.Reply bound = session.bindAndExecute("never_made");
            assertThat(bound.sqlState()).isEqualTo("26000");
            assertThat(bound.errorMessage()).startsWith("pgpolicy: prepared statement \"never_made\" cannot be used");

            assertThat(session.bindAndExecute("in_use").tags()).containsExactly("SELECT 1");
        }
    }
}
