package dev.pgpolicy.proxy.enforce;

import static dev.pgpolicy.proxy.enforce.EnforcementFixture.ANALYST;
import static dev.pgpolicy.proxy.enforce.EnforcementFixture.APP;
import static dev.pgpolicy.proxy.enforce.EnforcementFixture.DB;
import static dev.pgpolicy.proxy.enforce.EnforcementFixture.PASSWORD;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.embedded.ProcessResult;
import dev.pgpolicy.proxy.testing.PostgresExtension;
import dev.pgpolicy.proxy.testing.WireSession;
import dev.pgpolicy.proxy.wire.Parse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.BatchUpdateException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Blocking through the live proxy with real clients: a denied statement gets 42501 naming the
 * rule with the reason in DETAIL, never runs, and leaves transactions, pipelines and batches in
 * exactly the state a server-side error would. A Bind is decided on the statement the server
 * holds under its name, also after the server refused a Parse of that name or skipped one after
 * an error: the refused text must not stand in for the one that runs.
 */
@ExtendWith(PostgresExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BlockingTest {

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
    void anAllowedSelectPasses() {
        ProcessResult result = fixture.client(APP).psql("SELECT amount FROM payments.orders WHERE id = 2");
        assertThat(result.succeeded()).as(result.describe()).isTrue();
        assertThat(result.stdout().strip()).isEqualTo("20.00");
    }

    @Test
    void deniedDdlNamesTheRuleAndItsReasonAndTheSessionGoesOn() {
        ProcessResult result = fixture.client(APP).psqlWith("--set=ON_ERROR_STOP=0", "--no-align", "--tuples-only",
                "--command=CREATE TABLE payments.evil (id int)", "--command=SELECT 'still usable'");
        assertThat(result.stderr()).contains("ERROR:  pgpolicy: permission denied by rule \"no-ddl\"")
                .contains("DETAIL:  schema changes go through migrations").doesNotContain("PL/pgSQL");
        assertThat(result.stdout().strip()).isEqualTo("still usable");
        assertThat(fixture.postgres.query(DB, "SELECT to_regclass('payments.evil') IS NULL").get(0).get(0)).isEqualTo("t");
    }

    @Test
    void aDenialInsideATransactionBlockFailsItExactlyAsTheServerWould() {
        long before = fixture.orders();
        // enf_app has no CREATE on schema payments: straight to the server, PostgreSQL itself
        // refuses the statement with 42501. Through the proxy the policy refuses it first.
        String[] script = {"--set=ON_ERROR_STOP=0", "--no-align", "--tuples-only",
                "--command=BEGIN",
                "--command=INSERT INTO payments.orders VALUES (100, 1, 1.00)",
                "--command=CREATE TABLE payments.evil_tx (id int)",
                "--command=\\echo :LAST_ERROR_SQLSTATE",
                "--command=SELECT 1",
                "--command=\\echo :LAST_ERROR_SQLSTATE",
                "--command=COMMIT",
                "--command=SELECT count(*) FROM payments.orders WHERE id = 100"};
        ProcessResult proxied = fixture.client(APP).psqlWith(script);
        ProcessResult direct = fixture.direct(APP).psqlWith(script);

        assertThat(proxied.stdout()).isEqualTo(direct.stdout());
        assertThat(proxied.stdout()).contains("42501\n").contains("25P02\n").contains("ROLLBACK\n").endsWith("0\n");
        assertThat(withoutMessages(proxied.stderr())).isEqualTo(withoutMessages(direct.stderr()));
        assertThat(proxied.stderr()).contains("pgpolicy: permission denied by rule \"no-ddl\"")
                .contains("current transaction is aborted, commands ignored until end of transaction block");
        assertThat(fixture.orders()).isEqualTo(before);
    }

    /**
     * psql's error lines with the message text cut off (and the server's error position, which
     * belongs to its own message): severity and order must match.
     */
    private static String withoutMessages(String stderr) {
        return stderr.lines().filter(line -> !line.startsWith("DETAIL:") && !line.startsWith("LINE ")
                        && !line.strip().equals("^"))
                .map(line -> line.replaceAll("(ERROR:).*", "$1")).collect(Collectors.joining("\n"));
    }

    @Test
    void jdbcWithoutAutocommitSeesTheFailedTransactionAndCommitsNothing() throws SQLException {
        long before = fixture.orders();
        try (Connection connection = fixture.jdbc(APP, "")) {
            connection.setAutoCommit(false);
            try (Statement statement = connection.createStatement()) {
                statement.executeUpdate("INSERT INTO payments.orders VALUES (101, 1, 1.00)");
                assertThatThrownBy(() -> statement.execute("DROP TABLE payments.orders"))
                        .isInstanceOfSatisfying(SQLException.class, e -> {
                            assertThat(e.getSQLState()).isEqualTo("42501");
                            assertThat(e.getMessage()).contains("permission denied by rule \"no-ddl\"");
                        });
                assertThatThrownBy(() -> statement.executeQuery("SELECT 1"))
                        .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("25P02"));
                try {
                    connection.commit();
                } catch (SQLException e) {
                    // pgjdbc reports that the server rolled back instead of committing.
                    assertThat(e.getMessage()).containsIgnoringCase("rollback");
                }
                connection.rollback();
                try (ResultSet rows = statement.executeQuery("SELECT count(*) FROM payments.orders WHERE id = 101")) {
                    rows.next();
                    assertThat(rows.getLong(1)).isZero();
                }
            }
        }
        assertThat(fixture.orders()).isEqualTo(before);
    }

    @Test
    void aJdbcBatchWithADeniedStatementRunsNone() throws SQLException {
        long before = fixture.orders();
        try (Connection connection = fixture.jdbc(APP, "");
             Statement statement = connection.createStatement()) {
            statement.addBatch("INSERT INTO payments.orders VALUES (102, 1, 1.00)");
            statement.addBatch("TRUNCATE payments.orders");
            statement.addBatch("INSERT INTO payments.orders VALUES (103, 1, 1.00)");
            assertThatThrownBy(statement::executeBatch).isInstanceOfSatisfying(BatchUpdateException.class, e -> {
                SQLException cause = e.getNextException() != null ? e.getNextException() : e;
                assertThat(cause.getSQLState()).isEqualTo("42501");
                assertThat(cause.getMessage()).contains("no-ddl");
            });
            // The same connection goes on.
            try (ResultSet rows = statement.executeQuery("SELECT count(*) FROM payments.orders WHERE id IN (102, 103)")) {
                rows.next();
                assertThat(rows.getLong(1)).isZero();
            }
        }
        assertThat(fixture.orders()).isEqualTo(before);
    }

    @Test
    void aPgbenchPipelineWithADeniedStatementFailsAndIsDrained(@TempDir Path dir) throws Exception {
        long before = fixture.orders();
        Path script = Files.writeString(dir.resolve("pipeline.sql"), """
                \\startpipeline
                INSERT INTO payments.orders VALUES (200, 1, 1.00);
                CREATE TABLE payments.evil_pipeline (id int);
                INSERT INTO payments.orders VALUES (201, 1, 1.00);
                \\endpipeline
                """);
        ProcessResult result = fixture.client(APP).pgbench("--no-vacuum", "--protocol=extended", "--transactions=1",
                "--file=" + script, DB);
        assertThat(result.succeeded()).as(result.describe()).isFalse();
        assertThat(result.stderr()).contains("pgpolicy: permission denied by rule \"no-ddl\"");
        assertThat(fixture.orders()).isEqualTo(before);
        assertThat(fixture.postgres.query(DB, "SELECT to_regclass('payments.evil_pipeline') IS NULL").get(0).get(0))
                .isEqualTo("t");

        Path fine = Files.writeString(dir.resolve("fine.sql"), """
                \\startpipeline
                SELECT amount FROM payments.orders WHERE id = 1;
                SELECT amount FROM payments.orders WHERE id = 2;
                \\endpipeline
                """);
        ProcessResult ok = fixture.client(APP).pgbench("--no-vacuum", "--protocol=extended", "--transactions=20",
                "--file=" + fine, DB);
        assertThat(ok.succeeded()).as(ok.describe()).isTrue();
        assertThat(ok.stdout()).contains("number of failed transactions: 0");
    }

    @Test
    void analystsCannotFilterBySsnButMayReadTheTable() {
        ProcessResult denied = fixture.client(ANALYST).psqlWith("--set=ON_ERROR_STOP=0", "--no-align", "--tuples-only",
                "--command=SELECT id FROM payments.customers WHERE ssn LIKE '1%'", "--command=SELECT count(*) FROM payments.customers");
        assertThat(denied.stderr()).contains("permission denied by rule \"no-ssn-filter\"");
        assertThat(denied.stdout().strip()).isEqualTo("2");
    }

    @Test
    void detectModeLetsTheStatementThroughAndRecordsTheWouldBeDenial() {
        ProcessResult result = fixture.client(APP).psql("DELETE FROM payments.orders WHERE id = 999");
        assertThat(result.succeeded()).as(result.describe()).isTrue();
        assertThat(fixture.decisions).anySatisfy(announced -> {
            assertThat(announced.sql()).isEqualTo("DELETE FROM payments.orders WHERE id = 999");
            assertThat(announced.outcome()).isEqualTo(DecisionListener.Outcome.WOULD_DENY);
            assertThat(announced.detectRuleIds()).contains("orders-delete-review");
        });
    }

    @Test
    void aWarnGuardIsLoggedWithSessionAndFingerprintAndAllowed() {
        Logger logger = (Logger) LoggerFactory.getLogger(PolicyHooks.class);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        logger.addAppender(appender);
        try {
            ProcessResult result = fixture.client(ANALYST).psql("SELECT pg_sleep(0)");
            assertThat(result.succeeded()).as(result.describe()).isTrue();
        } finally {
            logger.detachAppender(appender);
        }
        assertThat(appender.list).anySatisfy(event -> assertThat(event.getFormattedMessage())
                .matches(Pattern.compile("session [0-9a-f]+: guard warning for user=enf_analyst: sleep \\[fingerprint [0-9a-f]+\\]")));
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
