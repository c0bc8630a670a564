package dev.pgpolicy.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.embedded.ProcessResult;
import dev.pgpolicy.proxy.scram.ScramVerifier;
import dev.pgpolicy.proxy.testing.PgClient;
import dev.pgpolicy.proxy.testing.PostgresExtension;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

/**
 * Upstream connection reuse in {@code auth.mode: proxy}, against the real server with real
 * clients. One event loop, so consecutive sessions meet the same idle list: a session that ends
 * idle leaves its backend for the next session of the same account and database, after the reset.
 */
@ExtendWith(PostgresExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class UpstreamPoolTest {

    private static final String DB = "pool_reuse";
    private static final String OTHER_DB = "pool_reuse_other";
    private static final String READER_ROLE = "pool_reader";
    private static final String WRITER_ROLE = "pool_writer";
    private static final String ROTATING_ROLE = "pool_rotating";
    private static final Pattern PROCESSED = Pattern.compile("number of transactions actually processed: (\\d+)/(\\d+)");
    private static final Pattern FAILED = Pattern.compile("number of failed transactions: (\\d+)");
    private static final Pattern METRIC = Pattern.compile("^(pgpolicy_upstream_pool_\\w+) (\\S+)$", Pattern.MULTILINE);

    private EmbeddedPostgres postgres;
    private Path dir;
    private ProxyFixture fixture;

    @BeforeAll
    void start(EmbeddedPostgres server, @TempDir Path tempDir) throws IOException {
        postgres = server;
        dir = tempDir;
        postgres.createDatabase(DB);
        postgres.createDatabase(OTHER_DB);
        postgres.createRole(READER_ROLE, "reader secret");
        postgres.createRole(WRITER_ROLE, "writer secret");
        postgres.createRole(ROTATING_ROLE, "rotating secret 1");
        postgres.execute(DB, """
                CREATE SCHEMA pool_schema;
                GRANT USAGE ON SCHEMA pool_schema TO %1$s;
                CREATE TABLE copy_target (n int);
                GRANT INSERT ON copy_target TO %1$s;
                """.formatted(READER_ROLE));
        Files.writeString(dir.resolve("reader"), "reader secret");
        Files.writeString(dir.resolve("writer"), "writer secret");
        Files.writeString(dir.resolve("rotating"), "rotating secret 1");
        SecureRandom random = new SecureRandom();
        StringBuilder users = new StringBuilder("users:\n");
        for (String[] user : new String[][] {{"ana", "reader"}, {"bob", "reader"}, {"cy", "writer"}, {"dee", "rotating"}}) {
            users.append("  ").append(user[0]).append(": { scram: \"")
                    .append(ScramVerifier.generate(password(user[0]).toCharArray(), 4096, random).encode())
                    .append("\", upstream: ").append(user[1]).append(" }\n");
        }
        users.append("""
                accounts:
                  reader: { user: %s, password_file: reader }
                  writer: { user: %s, password_file: writer }
                  rotating: { user: %s, password_file: rotating }
                """.formatted(READER_ROLE, WRITER_ROLE, ROTATING_ROLE));
        Files.writeString(dir.resolve("users.yaml"), users.toString());
        fixture = ProxyFixture.start(postgres, b -> b.authMode(ProxyConfig.AuthMode.PROXY)
                .usersFile(dir.resolve("users.yaml")).ioThreads(1));
    }

    @AfterAll
    void stop() {
        if (fixture != null) {
            fixture.close();
        }
    }

    @Test
    void consecutiveSessionsOfOneAccountShareABackendOtherAccountsAndDatabasesDoNot() throws Exception {
        long reusedBefore = metric("pgpolicy_upstream_pool_reused_total");
        int first = backendPid("ana", DB);
        awaitPooled(first);
        int second = backendPid("bob", DB);
        awaitPooled(second);
        assertThat(second).as("bob maps to the same service account as ana").isEqualTo(first);

        int writer = backendPid("cy", DB);
        int otherDatabase = backendPid("ana", OTHER_DB);
        assertThat(writer).isNotEqualTo(first);
        assertThat(otherDatabase).isNotEqualTo(first).isNotEqualTo(writer);
        assertThat(metric("pgpolicy_upstream_pool_reused_total")).isGreaterThan(reusedBefore);

        try (Connection ana = connect("ana", DB, new Properties()); Connection cy = connect("cy", DB, new Properties())) {
            assertThat(text(ana, "SELECT current_user")).isEqualTo(READER_ROLE);
            assertThat(text(cy, "SELECT current_user")).isEqualTo(WRITER_ROLE);
        }
    }

    @Test
    void noSessionStateReachesTheNextSession() throws Exception {
        int pid;
        try (Connection first = connect("ana", DB, new Properties()); Statement statement = first.createStatement()) {
            pid = Integer.parseInt(text(first, "SELECT pg_backend_pid()"));
            statement.execute("SET work_mem = '1234kB'");
            statement.execute("CREATE TEMP TABLE leak_probe (n int)");
            statement.execute("PREPARE leak_statement AS SELECT 1");
            statement.execute("LISTEN leak_channel");
            statement.execute("SELECT pg_advisory_lock(4242)");
            statement.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY");
            assertThat(text(first, "SHOW work_mem")).isEqualTo("1234kB");
        }
        awaitPooled(pid);
        try (Connection second = connect("bob", DB, new Properties())) {
            assertThat(Integer.parseInt(text(second, "SELECT pg_backend_pid()"))).isEqualTo(pid);
            assertThat(text(second, "SHOW work_mem")).isEqualTo("4MB");
            assertThat(text(second, "SELECT count(*) FROM pg_class WHERE relname = 'leak_probe'")).isEqualTo("0");
            assertThat(text(second, "SELECT count(*) FROM pg_prepared_statements WHERE name = 'leak_statement'"))
                    .isEqualTo("0");
            assertThat(text(second, "SELECT count(*) FROM pg_listening_channels()")).isEqualTo("0");
            assertThat(text(second, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                    + " AND pid = pg_backend_pid()")).isEqualTo("0");
            assertThat(text(second, "SHOW transaction_read_only")).isEqualTo("off");
        }
    }

    @Test
    void aSessionThatEndsInsideATransactionBlockLosesItsBackend() throws Exception {
        int pid;
        try (Connection connection = connect("ana", DB, new Properties())) {
            connection.setAutoCommit(false);
            pid = Integer.parseInt(text(connection, "SELECT pg_backend_pid()"));
            // close() without commit: pgjdbc sends Terminate while the server is in the block ('T').
        }
        awaitGone(pid);
        assertThat(backendPid("ana", DB)).isNotEqualTo(pid);
    }

    @Test
    void aSessionThatEndsInTheMiddleOfCopyLosesItsBackend() throws Exception {
        Connection connection = connect("ana", DB, new Properties());
        int pid = Integer.parseInt(text(connection, "SELECT pg_backend_pid()"));
        CopyIn copy = connection.unwrap(PGConnection.class).getCopyAPI().copyIn("COPY copy_target FROM STDIN");
        byte[] row = "1\n".getBytes(StandardCharsets.US_ASCII);
        copy.writeToCopy(row, 0, row.length);
        copy.flushCopy();
        try {
            connection.close(); // Terminate with the COPY still open
        } catch (SQLException complaint) {
            // pgjdbc may object to closing during a COPY; the connection is gone either way.
        }
        awaitGone(pid);
        assertThat(backendPid("ana", DB)).isNotEqualTo(pid);
        assertThat(postgres.query(DB, "SELECT count(*) FROM copy_target").get(0).get(0)).isEqualTo("0");
    }

    @Test
    void aPooledBackendTheServerTerminatedIsReplacedUnseen() throws Exception {
        int pid = backendPid("ana", DB);
        awaitPooled(pid);
        List<List<String>> terminated = postgres.query("postgres", "SELECT pg_terminate_backend(" + pid + ")");
        assertThat(terminated.get(0).get(0)).isEqualTo("t");
        // Right away: the pool either saw the FATAL already or finds out when it applies the settings.
        try (Connection connection = connect("ana", DB, new Properties())) {
            assertThat(Integer.parseInt(text(connection, "SELECT pg_backend_pid()"))).isNotEqualTo(pid);
            assertThat(text(connection, "SELECT 6 * 7")).isEqualTo("42");
        }
    }

    @Test
    void cancelReachesAReusedBackend() throws Exception {
        int pid = backendPid("ana", DB);
        awaitPooled(pid);
        try (Connection connection = connect("bob", DB, new Properties()); Statement statement = connection.createStatement()) {
            assertThat(Integer.parseInt(text(connection, "SELECT pg_backend_pid()"))).isEqualTo(pid);
            CompletableFuture<SQLException> sleeping = CompletableFuture.supplyAsync(() -> {
                try {
                    statement.execute("SELECT pg_sleep(60)");
                    return null;
                } catch (SQLException e) {
                    return e;
                }
            });
            await(() -> !postgres.query("postgres", "SELECT 1 FROM pg_stat_activity WHERE pid = " + pid
                    + " AND state = 'active' AND query LIKE 'SELECT pg_sleep%'").isEmpty(), "the sleep to start");
            statement.cancel();
            SQLException cancelled = sleeping.get(30, TimeUnit.SECONDS);
            assertThat((Throwable) cancelled).as("the cancelled statement's error").isNotNull();
            assertThat(cancelled.getSQLState()).isEqualTo("57014");
            assertThat(text(connection, "SELECT 1")).isEqualTo("1");
        }
    }

    @Test
    void theSecondClientsSettingsTakeEffectOnTheReusedBackend() throws Exception {
        String probe = "\\encoding\nSELECT pg_backend_pid();\nSHOW application_name;\nSHOW client_encoding;\n";
        ProcessResult first = proxyClient("ana").applicationName("alpha").env("PGCLIENTENCODING", "UTF8").psqlScript(probe);
        assertThat(first.succeeded()).as(first.describe()).isTrue();
        List<String> firstLines = first.stdout().lines().toList();
        assertThat(firstLines).hasSize(4);
        assertThat(firstLines.get(0)).isEqualTo("UTF8");
        assertThat(firstLines.get(2)).isEqualTo("alpha");
        int pid = Integer.parseInt(firstLines.get(1));
        awaitPooled(pid);

        ProcessResult second = proxyClient("bob").applicationName("beta").env("PGCLIENTENCODING", "LATIN1").psqlScript(probe);
        assertThat(second.succeeded()).as(second.describe()).isTrue();
        List<String> secondLines = second.stdout().lines().toList();
        // psql's \encoding prints what the ParameterStatus told libpq; SHOW what the server uses.
        assertThat(secondLines).containsExactly("LATIN1", firstLines.get(1), "beta", "LATIN1");
        awaitPooled(pid);

        // search_path is a list: the client's value must arrive as one, as it would at start.
        Properties schema = new Properties();
        schema.setProperty("currentSchema", "pool_schema, public");
        schema.setProperty("ApplicationName", "gamma");
        try (Connection third = connect("ana", DB, schema)) {
            assertThat(text(third, "SELECT pg_backend_pid()")).isEqualTo(firstLines.get(1));
            assertThat(text(third, "SHOW search_path")).isEqualTo("pool_schema, public");
            assertThat(text(third, "SELECT current_schemas(false)::text")).isEqualTo("{pool_schema,public}");
            assertThat(text(third, "SHOW application_name")).isEqualTo("gamma");
        }
        awaitPooled(pid);
        // A client that asks for nothing gets the server's defaults back, not the last client's values.
        try (Connection fourth = connect("bob", DB, new Properties())) {
            assertThat(text(fourth, "SELECT pg_backend_pid()")).isEqualTo(firstLines.get(1));
            assertThat(text(fourth, "SHOW search_path")).isEqualTo("\"$user\", public");
        }
    }

    @Test
    void aClientWithTheLastClientsSettingsGetsTheBackendAsItIsAndStillGetsItsOwnValues() throws Exception {
        String probe = "SELECT pg_backend_pid();\nSHOW application_name;\nSHOW TimeZone;\n";
        ProcessResult first = proxyClient("ana").applicationName("same-app").env("PGTZ", "Asia/Tokyo").psqlScript(probe);
        assertThat(first.succeeded()).as(first.describe()).isTrue();
        List<String> firstLines = first.stdout().lines().toList();
        assertThat(firstLines).hasSize(3);
        assertThat(firstLines.subList(1, 3)).containsExactly("same-app", "Asia/Tokyo");
        int pid = Integer.parseInt(firstLines.get(0));
        awaitPooled(pid);

        // Same values: the reset re-applied them, the lease sends nothing.
        long asIsBefore = metric("pgpolicy_upstream_pool_reused_as_is_total");
        ProcessResult same = proxyClient("bob").applicationName("same-app").env("PGTZ", "Asia/Tokyo").psqlScript(probe);
        assertThat(same.succeeded()).as(same.describe()).isTrue();
        assertThat(same.stdout().lines().toList()).containsExactly(firstLines.get(0), "same-app", "Asia/Tokyo");
        assertThat(metric("pgpolicy_upstream_pool_reused_as_is_total")).isEqualTo(asIsBefore + 1);
        awaitPooled(pid);

        // Other values on the same backend: set, not skipped.
        ProcessResult other = proxyClient("ana").applicationName("other-app").env("PGTZ", "America/Lima").psqlScript(probe);
        assertThat(other.succeeded()).as(other.describe()).isTrue();
        assertThat(other.stdout().lines().toList()).containsExactly(firstLines.get(0), "other-app", "America/Lima");
        assertThat(metric("pgpolicy_upstream_pool_reused_as_is_total")).isEqualTo(asIsBefore + 1);
        awaitPooled(pid);

        // A client that does not ask for a TimeZone gets the server's, not the one the last client left.
        String serverTimeZone = postgres.query(DB, "SELECT current_setting('TimeZone')").get(0).get(0);
        assertThat(serverTimeZone).isNotEqualTo("America/Lima");
        ProcessResult noZone = proxyClient("bob").applicationName("other-app").psqlScript(probe);
        assertThat(noZone.succeeded()).as(noZone.describe()).isTrue();
        assertThat(noZone.stdout().lines().toList()).containsExactly(firstLines.get(0), "other-app", serverTimeZone);
        assertThat(metric("pgpolicy_upstream_pool_reused_as_is_total")).isEqualTo(asIsBefore + 1);
    }

    @Test
    void aSettingTheServerDoesNotReportIsNeverLeftOnAnIdleBackend() throws Exception {
        Properties schema = new Properties();
        schema.setProperty("currentSchema", "pool_schema");
        int pid;
        try (Connection first = connect("ana", DB, schema)) {
            pid = Integer.parseInt(text(first, "SELECT pg_backend_pid()"));
            assertThat(text(first, "SHOW search_path")).isEqualTo("pool_schema");
        }
        awaitPooled(pid);
        // Idle in the pool, the backend is back at the default search_path: only reported settings
        // (whose current value the proxy sees) are applied again after the reset.
        String idleSearchPath = postgres.query("postgres", "SELECT count(*) FROM pg_stat_activity WHERE pid = " + pid
                + " AND query LIKE '%search_path%'").get(0).get(0);
        assertThat(idleSearchPath).isEqualTo("0");
        try (Connection second = connect("bob", DB, new Properties())) {
            assertThat(Integer.parseInt(text(second, "SELECT pg_backend_pid()"))).isEqualTo(pid);
            assertThat(text(second, "SHOW search_path")).isEqualTo("\"$user\", public");
        }
    }

    @Test
    void aSettingTheServerRejectsEndsTheSessionWithTheServersError() throws Exception {
        ProcessResult bogus = proxyClient("ana").env("PGCLIENTENCODING", "NO_SUCH_ENCODING").psql("SELECT 1");
        assertThat(bogus.succeeded()).isFalse();
        assertThat(bogus.stderr()).contains("FATAL").contains("client_encoding").contains("NO_SUCH_ENCODING");
        // The backend the setting failed on is still good for the next session.
        ProcessResult next = proxyClient("ana").psql("SELECT 1");
        assertThat(next.succeeded()).as(next.describe()).isTrue();
    }

    @Test
    void pgbenchConnectingPerTransactionSucceedsThroughThePool() throws Exception {
        long reusedBefore = metric("pgpolicy_upstream_pool_reused_total");
        Path script = dir.resolve("select.sql");
        Files.writeString(script, "SELECT pg_backend_pid();\n");
        ProcessResult run = proxyClient("ana").pgbench("-n", "-C", "-M", "simple", "-c", "4", "-j", "2", "-t", "50",
                "-f", script.toString(), DB);
        assertThat(run.succeeded()).as(run.describe()).isTrue();
        Matcher processed = PROCESSED.matcher(run.stdout());
        assertThat(processed.find()).as(run.describe()).isTrue();
        assertThat(processed.group(1)).isEqualTo("200");
        Matcher failed = FAILED.matcher(run.stdout());
        assertThat(failed.find()).as(run.describe()).isTrue();
        assertThat(failed.group(1)).isEqualTo("0");
        // 200 connections; most of them must have found a backend the previous one left.
        assertThat(metric("pgpolicy_upstream_pool_reused_total") - reusedBefore).isGreaterThan(100);
    }

    @Test
    void aChangedServiceAccountPasswordClosesItsPooledBackends() throws Exception {
        int pid = backendPid("dee", DB);
        awaitPooled(pid);
        postgres.execute("postgres", "SET log_min_error_statement = panic; ALTER ROLE " + ROTATING_ROLE
                + " PASSWORD 'rotating secret 2';");
        Files.writeString(dir.resolve("rotating"), "rotating secret 2");
        fixture.proxy.reloadUsers().orElseThrow();
        awaitGone(pid);
        int after = backendPid("dee", DB);
        assertThat(after).isNotEqualTo(pid);
    }

    @Test
    void pooledConnectionsOverVerifiedUpstreamTlsAreReusedToo() throws Exception {
        try (ProxyFixture tls = ProxyFixture.start(postgres, b -> b.authMode(ProxyConfig.AuthMode.PROXY)
                .usersFile(dir.resolve("users.yaml")).ioThreads(1)
                .upstreamTls(ProxyConfig.UpstreamTls.VERIFY_FULL).upstreamCa(postgres.caCertificate()))) {
            int first;
            try (Connection connection = connect(tls, "ana", DB, new Properties())) {
                first = Integer.parseInt(text(connection, "SELECT pg_backend_pid()"));
                assertThat(text(connection, "SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()"))
                        .isEqualTo("true");
            }
            awaitPooled(first);
            assertThat(pid(tls, "bob")).isEqualTo(first);
        }
    }

    @Test
    void idleConnectionsBeyondTheLimitsOrTheIdleTimeoutAreClosed() throws Exception {
        UpstreamPoolConfig oneIdle = new UpstreamPoolConfig(true, UpstreamPoolConfig.DEFAULT_RESET_QUERY, 1, 10,
                Duration.ofSeconds(2), UpstreamPoolConfig.DEFAULT_MAX_LIFETIME);
        try (ProxyFixture limited = ProxyFixture.start(postgres, b -> b.authMode(ProxyConfig.AuthMode.PROXY)
                .usersFile(dir.resolve("users.yaml")).ioThreads(1).upstreamPool(oneIdle))) {
            int first;
            int second;
            // Two sessions at once need two backends; when both end, max_idle_per_key 1 keeps one.
            try (Connection a = connect(limited, "ana", DB, new Properties());
                    Connection b = connect(limited, "bob", DB, new Properties())) {
                first = Integer.parseInt(text(a, "SELECT pg_backend_pid()"));
                second = Integer.parseInt(text(b, "SELECT pg_backend_pid()"));
            }
            assertThat(second).isNotEqualTo(first);
            await(() -> postgres.query("postgres", "SELECT 1 FROM pg_stat_activity WHERE pid IN (" + first + ", "
                    + second + ")").size() == 1, "one of the two backends to be closed");
            // The one kept is closed once idle longer than idle_timeout.
            awaitGone(first);
            awaitGone(second);
            String scrape = new String(limited.proxy.metrics().scrape(), StandardCharsets.UTF_8);
            assertThat(scrape).contains("pgpolicy_upstream_pool_idle 0").contains("pgpolicy_upstream_pool_opened_total 2")
                    .contains("pgpolicy_upstream_pool_closed_total 2");
        }
    }

    @Test
    void theAuditTrailNamesEachClientNotThePreviousUserOfTheBackend() throws Exception {
        Path auditDir = dir.resolve("audit");
        String probe = "SELECT pg_backend_pid()";
        String[] pids = new String[2];
        try (ProxyFixture audited = ProxyFixture.start(postgres, b -> b.authMode(ProxyConfig.AuthMode.PROXY)
                .usersFile(dir.resolve("users.yaml")).ioThreads(1).auditDir(auditDir))) {
            String[] users = {"ana", "bob"};
            for (int i = 0; i < users.length; i++) {
                ProcessResult run = PgClient.to("127.0.0.1", audited.port()).user(users[i]).password(password(users[i]))
                        .database(DB).sslMode("disable").applicationName("pool-audit-" + users[i]).psql(probe);
                assertThat(run.succeeded()).as(run.describe()).isTrue();
                pids[i] = run.stdout().strip();
                awaitPooled(Integer.parseInt(pids[i]));
            }
        }
        assertThat(pids[1]).as("bob's session reused ana's backend").isEqualTo(pids[0]);
        List<JsonNode> records = AuditedProxy.records(auditDir);
        for (String user : List.of("ana", "bob")) {
            List<JsonNode> own = records.stream()
                    .filter(r -> ("pool-audit-" + user).equals(r.path("application_name").asText())).toList();
            assertThat(own).as("records of %s's session", user).isNotEmpty();
            for (String event : List.of("auth", "connection_close")) {
                JsonNode record = own.stream().filter(r -> r.get("event").asText().equals(event)).findFirst()
                        .orElseThrow(() -> new AssertionError("no " + event + " record for " + user + " in " + own));
                assertThat(record.get("user").asText()).isEqualTo(user);
                assertThat(record.get("db_user").asText()).isEqualTo(READER_ROLE);
            }
        }
        AuditedProxy.assertVerifies(auditDir);
    }

    @Test
    void withReuseTurnedOffEverySessionGetsItsOwnBackend() throws Exception {
        try (ProxyFixture unpooled = ProxyFixture.start(postgres, b -> b.authMode(ProxyConfig.AuthMode.PROXY)
                .usersFile(dir.resolve("users.yaml")).ioThreads(1).upstreamPool(UpstreamPoolConfig.disabled()))) {
            int first = pid(unpooled, "ana");
            awaitGone(first);
            int second = pid(unpooled, "ana");
            assertThat(second).isNotEqualTo(first);
            assertThat(new String(unpooled.proxy.metrics().scrape(), StandardCharsets.UTF_8))
                    .doesNotContain("pgpolicy_upstream_pool_");
        }
    }

    // ---------------------------------------------------------------- helpers

    private static String password(String user) {
        return user + "'s pool passphrase";
    }

    private PgClient proxyClient(String user) {
        return PgClient.to("127.0.0.1", fixture.port()).user(user).password(password(user)).database(DB)
                .sslMode("disable");
    }

    private Connection connect(String user, String database, Properties extra) throws SQLException {
        return connect(fixture, user, database, extra);
    }

    private static Connection connect(ProxyFixture proxy, String user, String database, Properties extra)
            throws SQLException {
        Properties properties = new Properties();
        properties.putAll(extra);
        properties.setProperty("user", user);
        properties.setProperty("password", password(user));
        return DriverManager.getConnection(proxy.jdbcUrl(database, ""), properties);
    }

    private int backendPid(String user, String database) throws SQLException {
        try (Connection connection = connect(user, database, new Properties())) {
            return Integer.parseInt(text(connection, "SELECT pg_backend_pid()"));
        }
    }

    private static int pid(ProxyFixture proxy, String user) throws SQLException {
        try (Connection connection = connect(proxy, user, DB, new Properties())) {
            return Integer.parseInt(text(connection, "SELECT pg_backend_pid()"));
        }
    }

    private static String text(Connection connection, String sql) throws SQLException {
        try (Statement statement = connection.createStatement(); ResultSet rows = statement.executeQuery(sql)) {
            rows.next();
            return rows.getString(1);
        }
    }

    /**
     * The session's backend ran the reset query (and the session's reported settings again, last)
     * and is idle: the proxy puts it in the pool as it reads that ReadyForQuery, long before the
     * next client has finished its SCRAM exchange.
     */
    private void awaitPooled(int pid) {
        await(() -> !postgres.query("postgres", "SELECT 1 FROM pg_stat_activity WHERE pid = " + pid
                + " AND state = 'idle' AND (query = 'DISCARD ALL' OR query LIKE 'SELECT pg_catalog.set_config(%')")
                .isEmpty(), "backend " + pid + " to be reset");
    }

    private void awaitGone(int pid) {
        await(() -> postgres.query("postgres", "SELECT 1 FROM pg_stat_activity WHERE pid = " + pid).isEmpty(),
                "backend " + pid + " to end");
    }

    private long metric(String name) {
        String scrape = new String(fixture.proxy.metrics().scrape(), StandardCharsets.UTF_8);
        Matcher m = METRIC.matcher(scrape);
        while (m.find()) {
            if (m.group(1).equals(name)) {
                return (long) Double.parseDouble(m.group(2));
            }
        }
        throw new AssertionError("no metric " + name + " in\n" + scrape);
    }

    private static void await(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }
}
