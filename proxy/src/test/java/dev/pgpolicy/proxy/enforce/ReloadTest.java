package dev.pgpolicy.proxy.enforce;

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
import dev.pgpolicy.policy.testing.PolicyTestRunner;
import dev.pgpolicy.sql.SqlAnalyzer;
import dev.pgpolicy.proxy.config.HostPort;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The live set: started from configuration as {@code serve --policies} does, reloaded safely, re-deciding prepared statements. */
@ExtendWith(PostgresExtension.class)
class ReloadTest {

    private static Path copyOfTestPolicies(Path dir) throws IOException {
        Path target = Files.createDirectories(dir.resolve("policies"));
        try (var files = Files.list(EnforcementFixture.policyDirectory())) {
            for (Path file : files.toList()) {
                Files.copy(file, target.resolve(file.getFileName().toString()));
            }
        }
        return target;
    }

    @Test
    void serveWithPoliciesEnforcesThem(EmbeddedPostgres postgres) {
        try (EnforcementFixture fixture = EnforcementFixture.startFromConfig(postgres)) {
            ProcessResult result = fixture.client(APP).psqlWith("--set=ON_ERROR_STOP=0", "--no-align", "--tuples-only",
                    "--command=DROP TABLE payments.orders", "--command=SELECT count(*) FROM payments.orders");
            assertThat(result.stderr()).contains("permission denied by rule \"no-ddl\"");
            assertThat(result.stdout().strip()).isEqualTo("3");
        }
    }

    @Test
    void theAdminEndpointShowsAndReloadsTheLivePolicySet(EmbeddedPostgres postgres, @TempDir Path dir) throws Exception {
        EnforcementFixture.createSchema(postgres);
        Path policies = copyOfTestPolicies(dir);
        ProxyConfig config = ProxyConfig.builder().listen("127.0.0.1", 0).upstream(postgres.host(), postgres.port())
                .policiesDir(policies).adminListen(new HostPort("127.0.0.1", 0)).shutdownGracePeriod(Duration.ZERO).build();
        HttpClient http = HttpClient.newHttpClient();
        try (ProxyServer proxy = ProxyServer.start(config)) {
            String admin = "http://127.0.0.1:" + proxy.adminAddress().orElseThrow().getPort();
            HttpResponse<String> described = http.send(HttpRequest.newBuilder(URI.create(admin + "/policy")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(described.statusCode()).isEqualTo(200);
            String revision = LivePolicy.load(policies, PolicyTestRunner.offlineAnalyzer()).revision().toString();
            assertThat(described.body()).contains("\"revision\":\"" + revision + "\"", "policy.pgpolicy");

            Path broken = Files.writeString(policies.resolve("broken.pgpolicy"), "allow nobody select on t;\n");
            HttpResponse<String> refused = http.send(HttpRequest.newBuilder(URI.create(admin + "/reload"))
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(refused.statusCode()).isEqualTo(422);
            assertThat(refused.body()).contains("broken.pgpolicy:1", "unknown role", revision);

            Files.delete(broken);
            Files.writeString(policies.resolve("extra.pgpolicy"), "allow any select on payments.orders;\n");
            HttpResponse<String> reloaded = http.send(HttpRequest.newBuilder(URI.create(admin + "/reload"))
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(reloaded.statusCode()).as(reloaded.body()).isEqualTo(200);
            assertThat(reloaded.body()).doesNotContain("\"revision\":\"" + revision + "\"");
        }
    }

    @Test
    void aPreparedStatementIsReDecidedAfterAReloadAndABrokenSetIsRefused(EmbeddedPostgres postgres, @TempDir Path dir)
            throws Exception {
        EnforcementFixture.createSchema(postgres);
        Path policies = copyOfTestPolicies(dir);
        try (SqlAnalyzer testAnalyzer = PolicyTestRunner.offlineAnalyzer()) {
            // Loading first, as serve does: the tests' analysis warms the parser up before the
            // proxy's short parse budget applies.
            LivePolicy live = LivePolicy.load(policies, testAnalyzer);
            SqlAnalyzer analyzer = new SqlAnalyzer();
            assertThat(live.revision().digest()).isEqualTo(live.set().revision());
            try (analyzer; PolicyHooks hooks = new PolicyHooks(live, analyzer, DecisionListener.NONE, Clock.systemUTC());
                 ProxyServer proxy = ProxyServer.start(ProxyConfig.builder().listen("127.0.0.1", 0)
                         .upstream(postgres.host(), postgres.port()).shutdownGracePeriod(Duration.ZERO).build(), hooks)) {
                Properties properties = new Properties();
                properties.setProperty("user", APP);
                properties.setProperty("password", PASSWORD);
                try (Connection connection = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:"
                        + proxy.address().getPort() + "/" + DB + "?sslmode=disable&prepareThreshold=1", properties);
                     PreparedStatement select = connection.prepareStatement("SELECT name FROM payments.customers WHERE id = ?")) {
                    select.setInt(1, 1);
                    for (int i = 0; i < 3; i++) {
                        try (ResultSet rows = select.executeQuery()) {
                            assertThat(rows.next()).isTrue();
                        }
                    }

                    // A broken set is refused and the old one stays in force.
                    String before = live.revision().digest();
                    Files.writeString(policies.resolve("broken.pgpolicy"), "allow nobody select on t;\n");
                    LivePolicy.Outcome refused = live.reload();
                    assertThat(refused.loaded()).isFalse();
                    assertThat(refused.problems()).anySatisfy(p -> assertThat(p).contains("broken.pgpolicy:1:").contains("unknown role"));
                    assertThat(live.revision().digest()).isEqualTo(before);
                    try (ResultSet rows = select.executeQuery()) {
                        assertThat(rows.next()).isTrue();
                    }

                    // A set whose own tests fail is refused too.
                    Files.delete(policies.resolve("broken.pgpolicy"));
                    Files.writeString(policies.resolve("closing.pgpolicy"),
                            "@id(\"customers-closed\") @reason(\"customers are closed for the audit\")\n"
                                    + "deny app select on payments.customers;\n");
                    Files.writeString(policies.resolve("closing.pgtest"), """
                            test "the app still reads customers" {
                              as user "enf_app";
                              query "SELECT name FROM payments.customers WHERE id = 1";
                              expect allow;
                            }
                            """);
                    assertThat(live.reload().loaded()).isFalse();
                    assertThat(live.revision().digest()).isEqualTo(before);

                    // Fixing the test lets the new set go live; the prepared statement's next Bind is re-decided.
                    Files.writeString(policies.resolve("closing.pgtest"), """
                            test "customers are closed" {
                              as user "enf_app";
                              query "SELECT name FROM payments.customers WHERE id = 1";
                              expect deny by "customers-closed";
                            }
                            """, StandardOpenOption.TRUNCATE_EXISTING);
                    LivePolicy.Outcome loaded = live.reload();
                    assertThat(loaded.loaded()).as(loaded.problems().toString()).isTrue();
                    assertThat(live.revision().digest()).isNotEqualTo(before);
                    assertThatThrownBy(select::executeQuery).isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("42501");
                        assertThat(e.getMessage()).contains("customers-closed");
                    });
                }
                // A fresh session sees the new set too.
                ProcessResult psql = PgClient.to("127.0.0.1", proxy.address().getPort()).user(APP).password(PASSWORD)
                        .database(DB).sslMode("disable").psql("SELECT count(*) FROM payments.customers");
                assertThat(psql.stderr()).contains("customers-closed").contains("DETAIL:  customers are closed for the audit");
            }
        }
    }
}
