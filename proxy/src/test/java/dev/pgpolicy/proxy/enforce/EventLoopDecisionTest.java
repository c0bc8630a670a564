package dev.pgpolicy.proxy.enforce;

import static dev.pgpolicy.proxy.enforce.EnforcementFixture.ANALYST;
import static dev.pgpolicy.proxy.enforce.EnforcementFixture.APP;
import static dev.pgpolicy.proxy.enforce.EnforcementFixture.DB;
import static dev.pgpolicy.proxy.enforce.EnforcementFixture.PASSWORD;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpolicy.policy.testing.PolicyTestRunner;
import dev.pgpolicy.proxy.catalog.CatalogCache;
import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.embedded.ProcessResult;
import dev.pgpolicy.proxy.server.ProxyConfig;
import dev.pgpolicy.proxy.server.ProxyServer;
import dev.pgpolicy.proxy.testing.PgClient;
import dev.pgpolicy.proxy.testing.PostgresExtension;
import dev.pgpolicy.sql.SqlAnalyzer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Statements whose analysis and catalog facts are cached are decided on the session's event loop:
 * the hooks run with decision workers that can be told to refuse everything, and a warmed-up
 * statement must still be forwarded (and masked, and recorded) exactly as before, through psql
 * and pgjdbc; a statement that needs the parser must still go to the workers.
 */
@ExtendWith(PostgresExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EventLoopDecisionTest {

    /** Real decision threads, counting what they are given, refusing all of it once told to. */
    private static final class RefusableWorkers implements Executor {
        final ExecutorService pool = Executors.newFixedThreadPool(2);
        final AtomicInteger submitted = new AtomicInteger();
        volatile boolean refuse;

        @Override
        public void execute(Runnable task) {
            submitted.incrementAndGet();
            if (refuse) {
                throw new RejectedExecutionException("decision workers refuse everything in this test");
            }
            pool.execute(task);
        }
    }

    /** What the listener was told about one decision. */
    private record Recorded(String user, String message, String sql, DecisionListener.Outcome outcome,
            List<String> ruleIds, List<String> masks, String fingerprint) {
    }

    private final RefusableWorkers workers = new RefusableWorkers();
    private final List<Recorded> recorded = new CopyOnWriteArrayList<>();
    private PolicyHooks hooks;
    private ProxyServer proxy;
    private SqlAnalyzer analyzer;
    private EmbeddedPostgres postgres;

    @BeforeAll
    void start(EmbeddedPostgres postgres) {
        this.postgres = postgres;
        EnforcementFixture.createSchema(postgres);
        DecisionListener listener = decided -> {
            recorded.add(new Recorded(decided.session().user().orElse(""), decided.message(), decided.sql(),
                    decided.outcome(), decided.decision().ruleIds(),
                    List.copyOf(decided.decision().masks().keySet()),
                    decided.analysis().statements().get(0).fingerprint()));
            return DecisionListener.GO_AHEAD;
        };
        CatalogCache catalog = new CatalogCache(database -> DriverManager.getConnection(postgres.jdbcUrl(database),
                postgres.superuser(), postgres.superuserPassword()));
        analyzer = new SqlAnalyzer();
        LivePolicy live = LivePolicy.load(EnforcementFixture.policyDirectory(), PolicyTestRunner.offlineAnalyzer());
        hooks = new PolicyHooks(live, analyzer, listener, Clock.systemUTC(), catalog, MaskingKey.perProcess(), workers);
        proxy = ProxyServer.start(ProxyConfig.builder().listen("127.0.0.1", 0).upstream(postgres.host(), postgres.port())
                .shutdownGracePeriod(Duration.ZERO).build(), hooks);
    }

    @AfterAll
    void stop() {
        proxy.close();
        hooks.close();
        analyzer.close();
        workers.pool.shutdownNow();
    }

    @AfterEach
    void acceptWorkAgain() {
        workers.refuse = false;
    }

    private PgClient client(String user) {
        return PgClient.to("127.0.0.1", proxy.address().getPort()).user(user).password(PASSWORD).database(DB)
                .sslMode("disable");
    }

    private Connection jdbc(String user) throws SQLException {
        Properties properties = new Properties();
        properties.setProperty("user", user);
        properties.setProperty("password", PASSWORD);
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + proxy.address().getPort() + "/" + DB
                + "?sslmode=disable", properties);
    }

    private List<Recorded> recordedFor(String sql) {
        return recorded.stream().filter(decision -> decision.sql().equals(sql)).toList();
    }

    @Test
    void aWarmQueryOfAMaskedPrincipalIsDecidedAndMaskedWithoutTheWorkers() {
        String sql = "SELECT name, email, card_number, ssn FROM payments.customers WHERE id = 1";
        ProcessResult cold = client(ANALYST).psql(sql);
        assertThat(cold.succeeded()).as(cold.describe()).isTrue();
        assertThat(cold.stdout()).doesNotContain("ada@example.com").doesNotContain("4111-1111-1111-1111")
                .doesNotContain("123-45-6789").contains("XXXX-XXXX-XXXX-1111");

        workers.refuse = true;
        int submitted = workers.submitted.get();
        long onEventLoop = hooks.decidedOnEventLoop();
        ProcessResult warm = client(ANALYST).psql(sql);

        assertThat(warm.succeeded()).as(warm.describe()).isTrue();
        assertThat(warm.stdout()).isEqualTo(cold.stdout());
        assertThat(workers.submitted.get()).as("decisions handed to the workers").isEqualTo(submitted);
        assertThat(hooks.decidedOnEventLoop()).isGreaterThan(onEventLoop);
        List<Recorded> decisions = recordedFor(sql);
        assertThat(decisions).hasSize(2);
        assertThat(decisions.get(1)).isEqualTo(decisions.get(0));
        assertThat(decisions.get(1).outcome()).isEqualTo(DecisionListener.Outcome.ALLOWED);
    }

    @Test
    void aWarmDenialIsRefusedOnTheEventLoopWithTheSameError() {
        String sql = "TRUNCATE payments.orders";
        ProcessResult cold = client(APP).psql(sql);
        assertThat(cold.succeeded()).isFalse();
        assertThat(cold.stderr()).contains("permission denied by rule \"no-ddl\"");

        workers.refuse = true;
        int submitted = workers.submitted.get();
        ProcessResult warm = client(APP).psqlWith("--set=ON_ERROR_STOP=0", "--no-align", "--tuples-only",
                "--command=" + sql, "--command=SELECT amount FROM payments.orders WHERE id = 3");

        assertThat(warm.stderr()).isEqualTo(cold.stderr());
        assertThat(warm.stdout().strip()).isEqualTo("7.25");
        assertThat(workers.submitted.get()).isEqualTo(submitted);
        List<Recorded> denials = recordedFor(sql);
        assertThat(denials).hasSize(2);
        assertThat(denials.get(1)).isEqualTo(denials.get(0));
        assertThat(denials.get(1).outcome()).isEqualTo(DecisionListener.Outcome.DENIED);
    }

    @Test
    void aStatementThatNeedsTheParserStillGoesToTheWorkers() {
        workers.refuse = true;
        int submitted = workers.submitted.get();
        // A join: the simple-statement reader declines it, so its analysis needs JSqlParser.
        ProcessResult result = client(APP).psqlWith("--set=ON_ERROR_STOP=0", "--no-align", "--tuples-only",
                "--command=SELECT o.amount AS parser_needed FROM payments.orders o"
                        + " JOIN payments.customers c ON c.id = o.customer_id WHERE c.id = 2",
                "--command=\\echo :LAST_ERROR_SQLSTATE");

        assertThat(workers.submitted.get()).isEqualTo(submitted + 1);
        assertThat(result.stderr()).contains("too many statements waiting for a policy decision");
        assertThat(result.stdout().strip()).isEqualTo("53000");
    }

    @Test
    void warmExtendedProtocolStatementsFromPgjdbcNeedNoWorker() throws SQLException {
        String sql = "SELECT amount FROM payments.orders WHERE id = ?";
        try (Connection connection = jdbc(APP); PreparedStatement statement = connection.prepareStatement(sql)) {
            statement.setInt(1, 1);
            try (ResultSet rows = statement.executeQuery()) {
                assertThat(rows.next()).isTrue();
                assertThat(rows.getString(1)).isEqualTo("10.50");
            }
        }

        workers.refuse = true;
        int submitted = workers.submitted.get();
        List<String> amounts = new ArrayList<>();
        try (Connection connection = jdbc(APP); PreparedStatement statement = connection.prepareStatement(sql)) {
            // Past pgjdbc's prepareThreshold (5): unnamed Parses first, then one named statement bound again.
            for (int i = 0; i < 8; i++) {
                statement.setInt(1, 1 + i % 3);
                try (ResultSet rows = statement.executeQuery()) {
                    assertThat(rows.next()).isTrue();
                    amounts.add(rows.getString(1));
                }
            }
        }

        assertThat(amounts).containsExactly("10.50", "20.00", "7.25", "10.50", "20.00", "7.25", "10.50", "20.00");
        assertThat(workers.submitted.get()).as("decisions handed to the workers").isEqualTo(submitted);
        // pgjdbc sends its placeholders as PostgreSQL's $n.
        assertThat(recordedFor(sql.replace("?", "$1"))).extracting(Recorded::outcome).containsOnly(DecisionListener.Outcome.ALLOWED)
                .hasSizeGreaterThan(5);
    }
}
