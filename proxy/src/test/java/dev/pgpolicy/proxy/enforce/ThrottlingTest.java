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
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The counting limits through the live proxy: queries per second refuse only the excess, connections refuse the extra one. */
@ExtendWith(PostgresExtension.class)
class ThrottlingTest {

    @Test
    void rateAndConnectionLimits(EmbeddedPostgres postgres, @TempDir Path dir) throws Exception {
        EnforcementFixture.createSchema(postgres);
        Path policies = Files.createDirectories(dir.resolve("policies"));
        Files.copy(EnforcementFixture.policyDirectory().resolve("policy.pgpolicy"), policies.resolve("policy.pgpolicy"));
        Files.writeString(policies.resolve("limits.pgpolicy"), """
                limit app { queries 5 per second per user; }
                limit analyst { connections 2 per user; }
                """);
        try (PolicyHooks hooks = PolicyHooks.forDirectory(policies, DecisionListener.NONE);
             ProxyServer proxy = ProxyServer.start(ProxyConfig.builder().listen("127.0.0.1", 0)
                     .upstream(postgres.host(), postgres.port()).shutdownGracePeriod(Duration.ZERO).build(), hooks)) {
            int port = proxy.address().getPort();

            StringBuilder script = new StringBuilder();
            for (int i = 0; i < 60; i++) {
                script.append("SELECT 'ok';\n");
            }
            Path file = Files.writeString(dir.resolve("burst.sql"), script);
            ProcessResult many = PgClient.to("127.0.0.1", port).user(APP).password(PASSWORD).database(DB)
                    .sslMode("disable").psqlWith("--set=ON_ERROR_STOP=0", "--no-align", "--tuples-only",
                            "--file=" + file);
            long passed = many.stdout().lines().filter(line -> line.equals("ok")).count();
            long refused = many.stderr().lines().filter(line -> line.contains("query rate limit exceeded by rule \"")
                    && line.contains("limits.pgpolicy:1")).count();
            assertThat(passed).as(many.describe()).isGreaterThanOrEqualTo(5);
            assertThat(refused).as(many.describe()).isGreaterThan(0);
            assertThat(passed + refused).isEqualTo(60);

            Properties analyst = new Properties();
            analyst.setProperty("user", ANALYST);
            analyst.setProperty("password", PASSWORD);
            String url = "jdbc:postgresql://127.0.0.1:" + port + "/" + DB + "?sslmode=disable";
            try (Connection first = DriverManager.getConnection(url, analyst);
                 Connection second = DriverManager.getConnection(url, analyst)) {
                assertThatThrownBy(() -> DriverManager.getConnection(url, analyst).close())
                        .isInstanceOfSatisfying(SQLException.class, e -> {
                            assertThat(e.getSQLState()).isEqualTo("53300");
                            assertThat(e.getMessage()).contains("too many connections for role \"enf_analyst\"");
                        });
                try (Statement statement = first.createStatement();
                     ResultSet rows = statement.executeQuery("SELECT count(*) FROM payments.orders")) {
                    assertThat(rows.next()).isTrue();
                }
                second.close();
                // The slot is released when the session ends (asynchronously, on the proxy's side).
                long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                Connection third = null;
                while (third == null) {
                    try {
                        third = DriverManager.getConnection(url, analyst);
                    } catch (SQLException e) {
                        if (System.nanoTime() > deadline) {
                            throw e;
                        }
                        Thread.sleep(50);
                    }
                }
                third.close();
            }
        }
    }

    @Test
    void idleSessionsEndWithPostgresqlsOwnCodes(EmbeddedPostgres postgres, @TempDir Path dir) throws Exception {
        EnforcementFixture.createSchema(postgres);
        Path policies = Files.createDirectories(dir.resolve("policies"));
        Files.copy(EnforcementFixture.policyDirectory().resolve("policy.pgpolicy"), policies.resolve("policy.pgpolicy"));
        Files.writeString(policies.resolve("limits.pgpolicy"), """
                limit app { idle_in_transaction 1s; }
                limit analyst { idle 1s; statement_timeout 1s; }
                """);
        try (PolicyHooks hooks = PolicyHooks.forDirectory(policies, DecisionListener.NONE);
             ProxyServer proxy = ProxyServer.start(ProxyConfig.builder().listen("127.0.0.1", 0)
                     .upstream(postgres.host(), postgres.port()).shutdownGracePeriod(Duration.ZERO).build(), hooks)) {
            String url = "jdbc:postgresql://127.0.0.1:" + proxy.address().getPort() + "/" + DB + "?sslmode=disable";
            Properties app = new Properties();
            app.setProperty("user", APP);
            app.setProperty("password", PASSWORD);
            try (Connection connection = DriverManager.getConnection(url, app);
                 Statement statement = connection.createStatement()) {
                // Outside a transaction the app may idle as long as it likes.
                statement.executeQuery("SELECT 1").close();
                Thread.sleep(1600);
                statement.executeQuery("SELECT 1").close();
                connection.setAutoCommit(false);
                statement.executeQuery("SELECT 1").close();
                Thread.sleep(2500);
                assertThatThrownBy(() -> statement.executeQuery("SELECT 1"))
                        .isInstanceOfSatisfying(SQLException.class, e ->
                                assertThat(e.getSQLState() + " " + e.getMessage()).contains("25P03")
                                        .contains("idle-in-transaction timeout"));
            }
            Properties analyst = new Properties();
            analyst.setProperty("user", ANALYST);
            analyst.setProperty("password", PASSWORD);
            try (Connection connection = DriverManager.getConnection(url, analyst);
                 Statement statement = connection.createStatement()) {
                assertThatThrownBy(() -> statement.executeQuery("SELECT pg_sleep(30)"))
                        .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("57014"));
                statement.executeQuery("SELECT 1").close();
                Thread.sleep(2500);
                assertThatThrownBy(() -> statement.executeQuery("SELECT 1"))
                        .isInstanceOfSatisfying(SQLException.class, e ->
                                assertThat(e.getSQLState() + " " + e.getMessage()).contains("57P05")
                                        .contains("idle-session timeout"));
            }
        }
    }
}
