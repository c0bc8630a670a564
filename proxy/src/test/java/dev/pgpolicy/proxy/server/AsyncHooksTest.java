package dev.pgpolicy.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.embedded.ProcessResult;
import dev.pgpolicy.proxy.session.SessionHooks;
import dev.pgpolicy.proxy.session.SessionInfo;
import dev.pgpolicy.proxy.session.Verdict;
import dev.pgpolicy.proxy.testing.PostgresExtension;
import dev.pgpolicy.proxy.wire.Bind;
import dev.pgpolicy.proxy.wire.ErrorResponse;
import dev.pgpolicy.proxy.wire.Parse;
import dev.pgpolicy.proxy.wire.Query;
import dev.pgpolicy.proxy.wire.SqlState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Decisions that arrive later, as SQL analysis off the event loop will deliver them: requests
 * still reach the server in the order they were sent, pipelines included, and a failed decision
 * denies the statement without ending the session.
 */
@ExtendWith(PostgresExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AsyncHooksTest {

    private static final String DB = "async_hooks";

    /** Decides after a random delay of up to 3 ms on another thread. */
    static final class LateHooks implements SessionHooks {
        private static Verdict later(String sql) {
            Executor delayed = CompletableFuture.delayedExecutor(ThreadLocalRandom.current().nextInt(0, 3), TimeUnit.MILLISECONDS);
            CompletableFuture<Verdict> decision = CompletableFuture.supplyAsync(() -> {
                if (sql.contains("undecidable")) {
                    throw new IllegalStateException("analysis failed");
                }
                if (sql.contains("forbidden_table")) {
                    return Verdict.deny(ErrorResponse.of(ErrorResponse.SEVERITY_ERROR, SqlState.INSUFFICIENT_PRIVILEGE,
                            "permission denied by rule late-deny", null));
                }
                return Verdict.FORWARD;
            }, delayed);
            return Verdict.pending(decision);
        }

        @Override
        public Verdict onQuery(SessionInfo session, Query query) {
            return later(query.sql());
        }

        @Override
        public Verdict onParse(SessionInfo session, Parse parse) {
            return later(parse.sql());
        }

        @Override
        public Verdict onBind(SessionInfo session, Bind bind, Optional<String> statementSql) {
            return later(statementSql.orElse(""));
        }
    }

    private ProxyFixture fixture;

    @BeforeAll
    void start(EmbeddedPostgres postgres) {
        postgres.createDatabase(DB);
        postgres.execute(DB, "CREATE TABLE forbidden_table (id int); CREATE TABLE journal (id int);\n");
        fixture = ProxyFixture.start(postgres, b -> b, new LateHooks());
        ProcessResult init = fixture.client(DB).pgbench("-i", "-s", "1", "-q", DB);
        assertThat(init.succeeded()).as(init.describe()).isTrue();
    }

    @AfterAll
    void stop() {
        fixture.close();
    }

    @Test
    void pipelinedExtendedTrafficKeepsItsOrder(@TempDir Path dir) throws IOException {
        Path script = dir.resolve("pipeline.sql");
        Files.writeString(script, """
                \\set aid random(1, 100000)
                \\startpipeline
                SELECT abalance FROM pgbench_accounts WHERE aid = :aid;
                UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid = :aid;
                SELECT abalance FROM pgbench_accounts WHERE aid = :aid;
                \\endpipeline
                """);
        ProcessResult result = fixture.client(DB).pgbench("-M", "prepared", "-n", "-c", "2", "-t", "100",
                "-f", script.toString(), DB);
        assertThat(result.succeeded()).as(result.describe()).isTrue();
        assertThat(result.stdout()).contains("number of failed transactions: 0");
        ProcessResult simple = fixture.client(DB).pgbench("-M", "simple", "-n", "-c", "2", "-t", "100", DB);
        assertThat(simple.succeeded()).as(simple.describe()).isTrue();
        assertThat(simple.stdout()).contains("number of failed transactions: 0");
    }

    @Test
    void lateDenialStillFailsTheTransaction() {
        fixture.postgres.execute(DB, "TRUNCATE journal;\n");
        ProcessResult result = fixture.client(DB).psqlWith("--set=ON_ERROR_STOP=0", "--no-align", "--tuples-only",
                "--command=BEGIN", "--command=INSERT INTO journal VALUES (1)",
                "--command=SELECT * FROM forbidden_table", "--command=COMMIT");
        assertThat(result.stderr()).contains("permission denied by rule late-deny");
        assertThat(result.stdout()).contains("ROLLBACK");
        assertThat(fixture.postgres.query(DB, "SELECT count(*) FROM journal").get(0).get(0)).isEqualTo("0");
    }

    @Test
    void failedDecisionDeniesTheStatementAndTheSessionGoesOn() throws SQLException {
        try (Connection connection = fixture.jdbc(DB, ""); Statement statement = connection.createStatement()) {
            assertThatThrownBy(() -> statement.execute("SELECT 'undecidable'")).isInstanceOfSatisfying(SQLException.class,
                    e -> assertThat(e.getSQLState()).isEqualTo("XX000"));
            try (ResultSet rs = statement.executeQuery("SELECT 'next statement'")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("next statement");
            }
        }
    }
}
