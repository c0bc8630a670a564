package dev.pgpolicy.proxy.enforce;

import static dev.pgpolicy.proxy.enforce.EnforcementFixture.ANALYST;
import static dev.pgpolicy.proxy.enforce.EnforcementFixture.APP;
import static dev.pgpolicy.proxy.enforce.EnforcementFixture.DB;
import static dev.pgpolicy.proxy.enforce.EnforcementFixture.PASSWORD;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.embedded.ProcessResult;
import dev.pgpolicy.proxy.server.ProxyConfig;
import dev.pgpolicy.proxy.server.ProxyServer;
import dev.pgpolicy.proxy.testing.PgClient;
import dev.pgpolicy.proxy.testing.PostgresExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code rows N per query} and {@code concurrent N per user} through the live proxy, with psql and
 * pgjdbc: the client never receives more rows than the limit, gets 54000 naming the rule, and its
 * session and transaction go on as PostgreSQL's would after a failed statement; the excess
 * concurrent statement gets 53400, and slots come back however statements and sessions end.
 */
@ExtendWith(PostgresExtension.class)
class StatementLimitsTest {

    private static final String BIG = "SELECT g FROM generate_series(1, 50000) g";
    /** Slow enough (a pause per row) that the server is still producing rows when the cancel reaches it. */
    private static final String SLOW = "SELECT g, pg_sleep(0.0002) FROM generate_series(1, 100000) g";
    private static final String AT_LIMIT = "SELECT g FROM generate_series(1, 1000) g";
    private static final String LIMIT_ERROR = "pgpolicy: statement returned more than 1000 rows, the limit of rule \"";
    /** Limit rules have no @id: named file:line, the file relative to the policy directory. */
    private static final String ROWS_RULE = "rule \"limits.pgpolicy:3\"";
    private static final String CONCURRENT_RULE = "rule \"limits.pgpolicy:4\"";

    private static Path writePolicies(Path dir) throws Exception {
        Path policies = Files.createDirectories(dir.resolve("policies"));
        Files.copy(EnforcementFixture.policyDirectory().resolve("policy.pgpolicy"), policies.resolve("policy.pgpolicy"));
        // Two row limits apply to the analyst: the smaller one (line 3) wins.
        Files.writeString(policies.resolve("limits.pgpolicy"), """
                allow analyst call on function generate_series;
                limit analyst { rows 5000 per query; }
                limit analyst { rows 1000 per query; }
                limit any { concurrent 2 per user; }
                """);
        return policies;
    }

    private static ProxyServer startProxy(EmbeddedPostgres postgres, PolicyHooks hooks) {
        return ProxyServer.start(ProxyConfig.builder().listen("127.0.0.1", 0)
                .upstream(postgres.host(), postgres.port()).shutdownGracePeriod(Duration.ZERO).build(), hooks);
    }

    private static Connection jdbc(int port, String user) throws SQLException {
        Properties properties = new Properties();
        properties.setProperty("user", user);
        properties.setProperty("password", PASSWORD);
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + DB + "?sslmode=disable",
                properties);
    }

    private static PgClient psql(int port, String user) {
        return PgClient.to("127.0.0.1", port).user(user).password(PASSWORD).database(DB).sslMode("disable");
    }

    @Test
    void psqlNeverReceivesMoreRowsThanTheLimitAndItsSessionGoesOn(EmbeddedPostgres postgres, @TempDir Path dir)
            throws Exception {
        EnforcementFixture.createSchema(postgres);
        try (PolicyHooks hooks = PolicyHooks.forDirectory(writePolicies(dir), DecisionListener.NONE);
             ProxyServer proxy = startProxy(postgres, hooks);
             RowCountingRelay relay = new RowCountingRelay(proxy.address().getPort())) {
            Path script = Files.writeString(dir.resolve("rows.sql"), String.join("\n",
                    BIG + ";",
                    "SELECT 'after the limit';",
                    "BEGIN;",
                    BIG + ";",
                    "SELECT 'inside the failed block';",
                    "COMMIT;",
                    "BEGIN;",
                    SLOW + ";",
                    "COMMIT;",
                    AT_LIMIT + ";",
                    // psql reads through a cursor, 300 rows per FETCH: the cursor's rows count together.
                    "\\set FETCH_COUNT 300",
                    BIG + ";",
                    // Each query declares the cursor anew: the count starts again.
                    AT_LIMIT + ";",
                    AT_LIMIT + ";",
                    "\\unset FETCH_COUNT",
                    "COPY (" + BIG + ") TO STDOUT;",
                    "COPY (" + AT_LIMIT + ") TO STDOUT;",
                    "SELECT 'end';", ""));
            ProcessResult result = psql(relay.port(), ANALYST).timeout(Duration.ofSeconds(40)).psqlWith("--set=ON_ERROR_STOP=0",
                    "--set=VERBOSITY=verbose", "--no-align", "--tuples-only", "--file=" + script);

            List<String> errors = result.stderr().lines().filter(line -> line.contains("ERROR:")).toList();
            assertThat(errors).as(result.describe()).hasSize(6);
            assertThat(errors.get(0)).contains("54000").contains(LIMIT_ERROR).contains(ROWS_RULE);
            assertThat(errors.get(1)).contains("54000").contains(LIMIT_ERROR).contains(ROWS_RULE);
            assertThat(errors.get(2)).contains("25P02"); // the block failed with the cut statement
            assertThat(errors.get(3)).contains("54000").contains(LIMIT_ERROR).contains(ROWS_RULE);
            assertThat(errors.get(4)).contains("54000").contains(LIMIT_ERROR).contains(ROWS_RULE);
            assertThat(errors.get(5)).contains("54000").contains(LIMIT_ERROR).contains(ROWS_RULE);
            List<String> out = result.stdout().lines().toList();
            assertThat(out).as(result.describe()).containsSubsequence("after the limit", "BEGIN", "ROLLBACK", "BEGIN",
                    "ROLLBACK", "1", "1000", "end");
            assertThat(out).doesNotContain("1001", "inside the failed block");
            // On the wire: 1000 rows of each cut statement, nothing beyond, plus the statements under the limit.
            assertThat(relay.dataRows()).isEqualTo(1000 + 1 + 1000 + 1000 + 1000 + 1000 + 1000 + 1000 + 1);
            // COPY TO STDOUT: one CopyData per row, the cut one and the one under the limit.
            assertThat(relay.copyData()).isEqualTo(1000 + 1000);
        }
    }

    @Test
    void pgjdbcGetsTheErrorWithAndWithoutFetchSize(EmbeddedPostgres postgres, @TempDir Path dir) throws Exception {
        EnforcementFixture.createSchema(postgres);
        try (PolicyHooks hooks = PolicyHooks.forDirectory(writePolicies(dir), DecisionListener.NONE);
             ProxyServer proxy = startProxy(postgres, hooks);
             RowCountingRelay relay = new RowCountingRelay(proxy.address().getPort());
             Connection connection = jdbc(relay.port(), ANALYST)) {
            try (Statement statement = connection.createStatement()) {
                assertThatThrownBy(() -> statement.executeQuery(BIG)).isInstanceOfSatisfying(SQLException.class, e -> {
                    assertThat(e.getSQLState()).isEqualTo("54000");
                    assertThat(e.getMessage()).contains(LIMIT_ERROR).contains(ROWS_RULE);
                });
                assertThat(relay.dataRows()).isEqualTo(1000);
                try (ResultSet rows = statement.executeQuery(AT_LIMIT)) {
                    int count = 0;
                    while (rows.next()) {
                        count++;
                    }
                    assertThat(count).isEqualTo(1000);
                }
            }
            // A prepared statement (named after a few runs) and pipelined sync groups.
            try (PreparedStatement prepared = connection.prepareStatement("SELECT g FROM generate_series(1, ?) g")) {
                for (int run = 0; run < 6; run++) {
                    prepared.setInt(1, 40000 + run);
                    assertThatThrownBy(prepared::executeQuery).isInstanceOfSatisfying(SQLException.class,
                            e -> assertThat(e.getSQLState()).isEqualTo("54000"));
                    prepared.setInt(1, 3);
                    try (ResultSet rows = prepared.executeQuery()) {
                        assertThat(rows.next()).isTrue();
                    }
                }
            }

            connection.setAutoCommit(false);
            try (Statement statement = connection.createStatement()) {
                statement.executeQuery("SELECT 1").close();
                assertThatThrownBy(() -> statement.executeQuery(BIG)).isInstanceOfSatisfying(SQLException.class,
                        e -> assertThat(e.getSQLState()).isEqualTo("54000"));
                assertThatThrownBy(() -> statement.executeQuery("SELECT 1")).isInstanceOfSatisfying(SQLException.class,
                        e -> assertThat(e.getSQLState()).isEqualTo("25P02"));
                connection.rollback();

                // fetchSize: the portal is suspended every 300 rows; the count goes on across batches.
                statement.setFetchSize(300);
                long before = relay.dataRows();
                int fetched = 0;
                try (ResultSet rows = statement.executeQuery(BIG)) {
                    while (rows.next()) {
                        fetched++;
                    }
                    throw new AssertionError("all rows fetched: " + fetched);
                } catch (SQLException e) {
                    assertThat(e.getSQLState()).isEqualTo("54000");
                    assertThat(e.getMessage()).contains(LIMIT_ERROR).contains(ROWS_RULE);
                }
                // pgjdbc reads a whole batch before handing out its rows, so it drops the rows of the batch the error ended.
                assertThat(fetched).isLessThanOrEqualTo(1000);
                assertThat(relay.dataRows() - before).isEqualTo(1000);
                assertThatThrownBy(() -> statement.executeQuery("SELECT 1")).isInstanceOfSatisfying(SQLException.class,
                        e -> assertThat(e.getSQLState()).isEqualTo("25P02"));
                connection.rollback();

                // Under the limit in batches: every row arrives.
                int all = 0;
                try (ResultSet rows = statement.executeQuery(AT_LIMIT)) {
                    while (rows.next()) {
                        all++;
                    }
                }
                assertThat(all).isEqualTo(1000);
                connection.commit();
            }
        }
    }

    @Test
    void theExcessConcurrentStatementIsRefusedAndSlotsComeBack(EmbeddedPostgres postgres, @TempDir Path dir)
            throws Exception {
        EnforcementFixture.createSchema(postgres);
        try (PolicyHooks hooks = PolicyHooks.forDirectory(writePolicies(dir), DecisionListener.NONE);
             ProxyServer proxy = startProxy(postgres, hooks)) {
            int port = proxy.address().getPort();

            // Three psql processes of one user, each running a 2 s statement at the same moment.
            CountDownLatch start = new CountDownLatch(1);
            List<CompletableFuture<ProcessResult>> runs = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                runs.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        start.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return psql(port, ANALYST).psqlWith("--set=VERBOSITY=verbose", "--no-align", "--tuples-only",
                            "--command=SELECT 'slept' FROM pg_sleep(2)");
                }));
            }
            start.countDown();
            List<ProcessResult> results = new ArrayList<>();
            for (CompletableFuture<ProcessResult> run : runs) {
                ProcessResult result = run.get(60, TimeUnit.SECONDS);
                results.add(result);
            }
            long succeeded = results.stream().filter(r -> r.succeeded() && r.stdout().strip().equals("slept")).count();
            List<ProcessResult> failed = results.stream().filter(r -> !r.succeeded()).toList();
            assertThat(succeeded).as(results.toString()).isEqualTo(2);
            assertThat(failed).hasSize(1);
            assertThat(failed.get(0).stderr()).contains("53400")
                    .contains("pgpolicy: too many concurrent statements, the limit of rule \"").contains(CONCURRENT_RULE);

            try (Connection first = jdbc(port, ANALYST);
                 Connection second = jdbc(port, ANALYST);
                 Connection third = jdbc(port, ANALYST);
                 Connection other = jdbc(port, APP)) {
                // The slots came back when the statements ended, with success or an error: all run.
                for (Connection connection : List.of(first, second, third)) {
                    try (Statement statement = connection.createStatement()) {
                        assertThatThrownBy(() -> statement.executeQuery("SELECT 1 / 0"))
                                .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("22012"));
                        statement.executeQuery("SELECT 1").close();
                    }
                }
                CompletableFuture<Void> firstSleeps = sleep(first, 5);
                CompletableFuture<Void> secondSleeps = sleep(second, 5);
                awaitRunning(postgres, 2);
                // Both slots taken: the third statement is refused, and the session goes on.
                try (Statement statement = third.createStatement()) {
                    assertThatThrownBy(() -> statement.executeQuery("SELECT 1")).isInstanceOfSatisfying(SQLException.class,
                            e -> assertThat(e.getSQLState()).isEqualTo("53400"));
                }
                try (Statement statement = third.createStatement()) {
                    // A denied statement is refused by its rule before it could ask for a slot.
                    assertThatThrownBy(() -> statement.execute("DROP TABLE payments.orders"))
                            .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
                }
                try (Statement statement = other.createStatement()) {
                    // Another user has slots of its own.
                    statement.executeQuery("SELECT count(*) FROM payments.orders").close();
                }
                // A session that dies mid-statement gives its slot back.
                first.abort(Runnable::run);
                assertThat(firstSleeps).failsWithin(Duration.ofSeconds(10));
                assertThat(runsWithin(third, Duration.ofSeconds(10))).isTrue();
                secondSleeps.get(30, TimeUnit.SECONDS);
                // A refused statement took no slot, an ended one gave it back: two run at once again.
                CompletableFuture<Void> again = sleep(second, 1);
                try (Statement statement = third.createStatement()) {
                    statement.executeQuery("SELECT pg_sleep(1)").close();
                }
                again.get(30, TimeUnit.SECONDS);
            }
        }
    }

    private static CompletableFuture<Void> sleep(Connection connection, int seconds) {
        return CompletableFuture.runAsync(() -> {
            try (Statement statement = connection.createStatement()) {
                statement.executeQuery("SELECT pg_sleep(" + seconds + ")").close();
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /** Waits until the server runs {@code count} of the analyst's pg_sleep(5) statements. */
    private static void awaitRunning(EmbeddedPostgres postgres, int count) throws InterruptedException {
        String sql = "SELECT count(*) FROM pg_stat_activity WHERE usename = '" + ANALYST + "' AND state = 'active'"
                + " AND query LIKE 'SELECT pg_sleep(5)%'";
        long deadline = System.nanoTime() + Duration.ofSeconds(4).toNanos();
        while (Integer.parseInt(postgres.query(DB, sql).get(0).get(0)) < count) {
            assertThat(System.nanoTime()).as("%d statements running", count).isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    /** The session's end reaches the proxy asynchronously: retries until a statement runs. */
    private static boolean runsWithin(Connection connection, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try (Statement statement = connection.createStatement()) {
                statement.executeQuery("SELECT 1").close();
                return true;
            } catch (SQLException e) {
                assertThat(e.getSQLState()).isEqualTo("53400");
                if (System.nanoTime() > deadline) {
                    return false;
                }
                Thread.sleep(50);
            }
        }
    }
}
