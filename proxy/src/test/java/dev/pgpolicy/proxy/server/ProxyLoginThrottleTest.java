package dev.pgpolicy.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.identity.LoginThrottle;
import dev.pgpolicy.proxy.scram.ScramVerifier;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import dev.pgpolicy.proxy.testing.PostgresExtension;

/** The failed-login throttle of {@code auth.mode: proxy}, with short periods, through pgjdbc. */
@ExtendWith(PostgresExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ProxyLoginThrottleTest {

    private static final String DB = "proxy_throttle";
    private static final String ROLE = "proxy_throttle_account";
    private static final String USER = "tess";
    private static final String PASSWORD = "tess's passphrase";
    private static final int FAILURES_BEFORE_LOCKOUT = 4;
    private static final Duration LOCKOUT = Duration.ofMillis(1500);

    private ProxyFixture fixture;

    @BeforeAll
    void start(EmbeddedPostgres postgres, @TempDir Path dir) throws IOException {
        postgres.createDatabase(DB);
        postgres.createRole(ROLE, "throttle account secret");
        Files.writeString(dir.resolve("account"), "throttle account secret");
        Path users = dir.resolve("users.yaml");
        Files.writeString(users, """
                users:
                  %s: { scram: "%s", upstream: app }
                accounts:
                  app: { user: %s, password_file: account }
                """.formatted(USER, ScramVerifier.generate(PASSWORD.toCharArray(), 4096, new SecureRandom()).encode(),
                ROLE));
        // Two free failures, then 50 ms doubling (capped at 100 ms), locked for 1.5 s at the fourth.
        LoginThrottle.Limits limits = new LoginThrottle.Limits(2, Duration.ofSeconds(30), Duration.ofMillis(50),
                Duration.ofMillis(100), FAILURES_BEFORE_LOCKOUT, LOCKOUT, 1_000);
        fixture = ProxyFixture.start(postgres,
                b -> b.authMode(ProxyConfig.AuthMode.PROXY).usersFile(users).loginThrottle(limits));
    }

    @AfterAll
    void stop() {
        if (fixture != null) {
            fixture.close();
        }
    }

    @Test
    void engagesAfterTheConfiguredFailuresAndReleasesAfterItsPeriod() throws Exception {
        assertThat(connect(PASSWORD)).isEqualTo(ROLE);
        for (int i = 0; i < FAILURES_BEFORE_LOCKOUT; i++) {
            assertThat(failure("wrong " + i).getSQLState()).as("attempt %d", i).isEqualTo("28P01");
        }
        // Locked: even the right password is refused, before any SCRAM exchange, with 28000.
        SQLException locked = failure(PASSWORD);
        assertThat(locked.getSQLState()).isEqualTo("28000");
        assertThat(locked.getMessage()).contains("too many failed login attempts");
        assertThat(fixture.proxy.loginThrottleCounters().orElseThrow().lockouts()).isPositive();
        assertThat(new String(fixture.proxy.metrics().scrape(), java.nio.charset.StandardCharsets.UTF_8)).containsPattern("pgpolicy_login_throttle_total\\{event=\"refused\"} [1-9]")
                .containsPattern("pgpolicy_login_throttle_total\\{event=\"failure\"} [1-9]");

        // Released after the lockout period (polled, so a slow machine only makes it wait longer).
        long deadline = System.nanoTime() + LOCKOUT.plusSeconds(10).toNanos();
        String user = null;
        while (user == null && System.nanoTime() < deadline) {
            Thread.sleep(200);
            try {
                user = connect(PASSWORD);
            } catch (SQLException e) {
                assertThat(e.getSQLState()).isEqualTo("28000");
            }
        }
        assertThat(user).isEqualTo(ROLE);
    }

    private String connect(String password) throws SQLException {
        Properties properties = new Properties();
        properties.setProperty("user", USER);
        properties.setProperty("password", password);
        try (Connection connection = DriverManager.getConnection(fixture.jdbcUrl(DB, ""), properties);
                var statement = connection.createStatement();
                var rs = statement.executeQuery("SELECT current_user")) {
            rs.next();
            return rs.getString(1);
        }
    }

    private SQLException failure(String password) {
        SQLException[] caught = new SQLException[1];
        assertThatThrownBy(() -> connect(password))
                .isInstanceOfSatisfying(SQLException.class, e -> caught[0] = e);
        return caught[0];
    }
}
