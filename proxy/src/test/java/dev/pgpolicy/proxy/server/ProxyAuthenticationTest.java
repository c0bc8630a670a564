package dev.pgpolicy.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.embedded.ProcessResult;
import dev.pgpolicy.proxy.identity.LoginThrottle;
import dev.pgpolicy.proxy.scram.ScramVerifier;
import dev.pgpolicy.proxy.testing.PgClient;
import dev.pgpolicy.proxy.testing.PostgresExtension;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code auth.mode: proxy} against a real server: clients authenticate to the proxy with the
 * verifiers of the users file, and the proxy logs in upstream as each user's service account.
 */
@ExtendWith(PostgresExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ProxyAuthenticationTest {

    private static final String DB = "proxy_auth";
    private static final String ANA = "ana";
    private static final String ANA_PASSWORD = "ana's own passphrase";
    private static final String ETL = "etl";
    private static final String ETL_PASSWORD = "etl-Ünïcode-secret";
    private static final String READER_ROLE = "proxy_auth_reader";
    private static final String WRITER_ROLE = "proxy_auth_writer";

    private Path dir;

    private ProxyFixture fixture;

    @BeforeAll
    void start(EmbeddedPostgres postgres, @TempDir Path tempDir) throws IOException {
        dir = tempDir;
        postgres.createDatabase(DB);
        postgres.createRole(READER_ROLE, "reader account secret");
        postgres.createRole(WRITER_ROLE, "writer account secret");
        postgres.execute(DB, """
                CREATE TABLE ledger (id int PRIMARY KEY, note text);
                INSERT INTO ledger VALUES (1, 'opening balance');
                GRANT SELECT ON ledger TO %s;
                GRANT SELECT, INSERT ON ledger TO %s;
                """.formatted(READER_ROLE, WRITER_ROLE));
        Files.createDirectories(dir.resolve("secrets"));
        Files.writeString(dir.resolve("secrets/reader"), "reader account secret\n");
        Files.writeString(dir.resolve("secrets/writer"), "writer account secret\n");
        SecureRandom random = new SecureRandom();
        Path users = dir.resolve("users.yaml");
        Files.writeString(users, """
                users:
                  %s: { scram: "%s", groups: [bi_readers], upstream: reader }
                  %s: { scram: "%s", groups: [loaders, staff], upstream: writer }
                accounts:
                  reader: { user: %s, password_file: secrets/reader }
                  writer: { user: %s, password_file: secrets/writer }
                """.formatted(
                ANA, ScramVerifier.generate(ANA_PASSWORD.toCharArray(), 4096, random).encode(),
                ETL, ScramVerifier.generate(ETL_PASSWORD.toCharArray(), 4096, random).encode(),
                READER_ROLE, WRITER_ROLE));
        // The timing test fails dozens of logins on purpose; the throttle has its own test.
        LoginThrottle.Limits lenient = new LoginThrottle.Limits(1_000, Duration.ofMinutes(1), Duration.ZERO,
                Duration.ZERO, 1_000, Duration.ofMinutes(1), 1_000);
        fixture = ProxyFixture.start(postgres,
                b -> b.authMode(ProxyConfig.AuthMode.PROXY).usersFile(users).loginThrottle(lenient)
                        .auditDir(dir.resolve("audit")));
    }

    @AfterAll
    void stop() {
        if (fixture != null) {
            fixture.close();
        }
    }

    private PgClient as(String user, String password) {
        return PgClient.to("127.0.0.1", fixture.port()).user(user).password(password).database(DB);
    }

    @Test
    void proxyTerminatedLoginsAreAuditedWithTheirOutcome() throws Exception {
        ProcessResult ok = as(ANA, ANA_PASSWORD).sslMode("disable").env("PGAPPNAME", "audit-proxy-ok").psql("SELECT 1");
        assertThat(ok.succeeded()).as(ok.describe()).isTrue();
        ProcessResult bad = as(ANA, "not the password").sslMode("disable").env("PGAPPNAME", "audit-proxy-bad")
                .psql("SELECT 1");
        assertThat(bad.succeeded()).isFalse();

        // The writer thread appends asynchronously; wait for both records rather than sleep blindly.
        ObjectMapper json = new ObjectMapper();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        List<JsonNode> auth;
        do {
            auth = new ArrayList<>();
            try (var files = Files.list(dir.resolve("audit"))) {
                for (Path file : files.filter(f -> f.toString().endsWith(".jsonl")).sorted().toList()) {
                    for (String line : Files.readAllLines(file)) {
                        JsonNode record = json.readTree(line);
                        if (record.get("event").asText().equals("auth")
                                && record.path("application_name").asText().startsWith("audit-proxy-")) {
                            auth.add(record);
                        }
                    }
                }
            }
        } while (auth.size() < 2 && System.nanoTime() < deadline && sleepBriefly());
        assertThat(auth).extracting(r -> r.get("application_name").asText() + "=" + r.get("outcome").asText())
                .containsExactlyInAnyOrder("audit-proxy-ok=success", "audit-proxy-bad=failure");
    }

    private static boolean sleepBriefly() throws InterruptedException {
        Thread.sleep(50);
        return true;
    }

    @Test
    void psqlWithChannelBindingRequiredConnectsOverTls() {
        ProcessResult result = as(ANA, ANA_PASSWORD).sslMode("require").env("PGCHANNELBINDING", "require")
                .psql("SELECT current_user, session_user, current_database()");
        assertThat(result.succeeded()).as(result.describe()).isTrue();
        assertThat(result.stdout().strip()).isEqualTo(READER_ROLE + "|" + READER_ROLE + "|" + DB);
    }

    @Test
    void psqlWithChannelBindingDisabledConnectsInPlainText() {
        ProcessResult result = as(ETL, ETL_PASSWORD).sslMode("disable").env("PGCHANNELBINDING", "disable")
                .psql("SELECT current_user");
        assertThat(result.succeeded()).as(result.describe()).isTrue();
        assertThat(result.stdout().strip()).isEqualTo(WRITER_ROLE);
    }

    @Test
    void channelBindingRequiredFailsWithoutTls() {
        // Without TLS there is no certificate to bind to: the proxy offers plain SCRAM-SHA-256 only,
        // and libpq refuses to go on, as it would against PostgreSQL itself.
        ProcessResult result = as(ANA, ANA_PASSWORD).sslMode("disable").env("PGCHANNELBINDING", "require")
                .psql("SELECT 1");
        assertThat(result.succeeded()).isFalse();
        assertThat(result.stderr()).containsIgnoringCase("channel binding");
    }

    @Test
    void eachUserCanDoOnlyWhatItsServiceAccountIsGranted() {
        ProcessResult denied = as(ANA, ANA_PASSWORD).sslMode("require")
                .psql("INSERT INTO ledger VALUES (2, 'by the reader')");
        assertThat(denied.succeeded()).isFalse();
        assertThat(denied.stderr()).contains("permission denied for table ledger");

        ProcessResult allowed = as(ETL, ETL_PASSWORD).sslMode("require")
                .psql("INSERT INTO ledger VALUES (3, 'by the loader') RETURNING current_user");
        assertThat(allowed.succeeded()).as(allowed.describe()).isTrue();
        assertThat(allowed.stdout()).contains(WRITER_ROLE);

        ProcessResult read = as(ANA, ANA_PASSWORD).sslMode("require").psql("SELECT note FROM ledger WHERE id = 3");
        assertThat(read.succeeded()).as(read.describe()).isTrue();
        assertThat(read.stdout().strip()).isEqualTo("by the loader");
    }

    @Test
    void theProxyUserNameIsNotAServerRole() {
        // "ana" does not exist in PostgreSQL: only the service account's name reaches the server.
        ProcessResult result = as(ANA, ANA_PASSWORD).sslMode("disable")
                .psql("SELECT count(*) FROM pg_roles WHERE rolname = 'ana'");
        assertThat(result.succeeded()).as(result.describe()).isTrue();
        assertThat(result.stdout().strip()).isEqualTo("0");
    }

    @Test
    void wrongPasswordAndUnknownUserGetTheSame28P01() {
        ProcessResult wrong = as(ANA, "not the passphrase").sslMode("disable").psql("SELECT 1");
        ProcessResult unknown = as("nobody", "not the passphrase").sslMode("disable").psql("SELECT 1");
        assertThat(wrong.succeeded()).isFalse();
        assertThat(unknown.succeeded()).isFalse();
        assertThat(wrong.stderr()).contains("password authentication failed for user \"ana\"");
        // Apart from the name the client itself sent, the two refusals are the same bytes.
        assertThat(unknown.stderr().replace("nobody", "ana")).isEqualTo(wrong.stderr());

        assertThat(jdbcFailure(ANA, "wrong").getSQLState()).isEqualTo("28P01");
        assertThat(jdbcFailure("nobody", "wrong").getSQLState()).isEqualTo("28P01");
    }

    /**
     * Not a benchmark: a sanity check that an unknown user does not fail visibly faster than a
     * known user with a wrong password (both run the full exchange with the same iteration count).
     * Medians over 20 attempts each, with a factor of 2 of slack, so scheduling noise on a shared
     * machine cannot fail it while skipping the key derivation for unknown users (a 4096-iteration
     * PBKDF2, most of the work) would.
     */
    @Test
    void wrongPasswordAndUnknownUserTakeSimilarTime() {
        for (int i = 0; i < 3; i++) { // warm-up: class loading and JIT on both paths
            jdbcFailure(ANA, "wrong");
            jdbcFailure("nobody", "wrong");
        }
        List<Long> wrong = new ArrayList<>();
        List<Long> unknown = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            wrong.add(timed(() -> jdbcFailure(ANA, "wrong")));
            unknown.add(timed(() -> jdbcFailure("nobody", "wrong")));
        }
        long wrongMedian = median(wrong);
        long unknownMedian = median(unknown);
        assertThat(unknownMedian).as("unknown user median %d ns vs wrong password %d ns", unknownMedian, wrongMedian)
                .isLessThan(2 * wrongMedian).isGreaterThan(wrongMedian / 2);
    }

    @Test
    void pgjdbcAuthenticatesAndSeesTheServiceAccount() throws SQLException {
        Properties properties = new Properties();
        properties.setProperty("user", ETL);
        properties.setProperty("password", ETL_PASSWORD);
        try (Connection connection = DriverManager.getConnection(fixture.jdbcUrl(DB, ""), properties);
                Statement statement = connection.createStatement();
                ResultSet rs = statement.executeQuery("SELECT current_user")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo(WRITER_ROLE);
        }
    }

    @Test
    void pgbenchAuthenticates() throws IOException {
        Path script = dir.resolve("read.sql");
        Files.writeString(script, "SELECT count(*) FROM ledger;\n");
        ProcessResult result = as(ANA, ANA_PASSWORD).sslMode("require")
                .pgbench("-n", "-c", "2", "-t", "20", "-f", script.toString(), DB);
        assertThat(result.succeeded()).as(result.describe()).isTrue();
        assertThat(result.stdout()).contains("number of failed transactions: 0");
    }

    private SQLException jdbcFailure(String user, String password) {
        Properties properties = new Properties();
        properties.setProperty("user", user);
        properties.setProperty("password", password);
        Throwable[] caught = new Throwable[1];
        assertThatThrownBy(() -> DriverManager.getConnection(fixture.jdbcUrl(DB, ""), properties).close())
                .isInstanceOfSatisfying(SQLException.class, e -> caught[0] = e);
        return (SQLException) caught[0];
    }

    private static long timed(Runnable attempt) {
        long start = System.nanoTime();
        attempt.run();
        return System.nanoTime() - start;
    }

    private static long median(List<Long> samples) {
        List<Long> sorted = new ArrayList<>(samples);
        Collections.sort(sorted);
        return sorted.get(sorted.size() / 2);
    }
}
