package dev.pgpolicy.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.embedded.ProcessResult;
import dev.pgpolicy.proxy.scram.ScramVerifier;
import dev.pgpolicy.proxy.testing.BaseBackup;
import dev.pgpolicy.proxy.testing.BackendMessage;
import dev.pgpolicy.proxy.testing.Frames;
import dev.pgpolicy.proxy.testing.OpenSockets;
import dev.pgpolicy.proxy.testing.PgClient;
import dev.pgpolicy.proxy.testing.RawSocket;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;
import org.slf4j.LoggerFactory;

/**
 * The server refusing new sessions while it starts: PostgreSQL answers a startup packet with
 * {@code FATAL 57P03} from its postmaster before any backend runs (postmaster.c,
 * canAcceptConnections). Three windows, each held open for as long as the test needs:
 *
 * <ul>
 *   <li>"the database system is starting up" (CAC_STARTUP): the startup process has not yet
 *       told the postmaster that recovery began. A standby start runs {@code restore_command}
 *       for the timeline history before that signal, so a restore_command that waits for a gate
 *       file holds this window until the test creates the file.
 *   <li>"the database system is not accepting connections", detail "Hot standby mode is
 *       disabled." (CAC_NOTCONSISTENT without hot standby): a standby with
 *       {@code hot_standby = off} stays there until it is promoted.
 *   <li>"the database system is not yet accepting connections", detail "Consistent recovery
 *       state has not been yet reached." (CAC_NOTCONSISTENT with hot standby): the cluster is
 *       restored as a hot standby from a base backup of itself ({@link BaseBackup}) whose end
 *       record the {@code restore_command} withholds until a second gate file exists; redo has
 *       begun (the postmaster is in PM_RECOVERY) but recovery cannot be consistent before that
 *       record. The server's log confirms the state before and after the refusals are checked.
 * </ul>
 *
 * Each is checked through a passthrough proxy (the server's answer to the client's own startup
 * packet) and through an {@code auth.mode: proxy} proxy whose upstream pool holds an idle
 * connection from before the restart (the pool finds it dead, opens a new one, and the server's
 * refusal of that login is what the client must get). Each refusal must reach psql, pgjdbc and a
 * raw client with the server's code, words and detail; the client's connection must be closed,
 * the proxy must hold no session and no socket to the server afterwards, and once the server
 * accepts sessions again (a hot standby that reached consistency, or a promoted standby) the
 * same proxies serve them.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class UpstreamStartupWindowTest {

    private static final String TRUSTED = "window_trusted";
    private static final String SERVICE_ROLE = "window_service";
    private static final String SERVICE_PASSWORD = "window service secret";
    private static final String PROXY_USER = "ana";
    private static final String PROXY_PASSWORD = "ana's proxy password";
    private static final String STARTING_UP = "the database system is starting up";
    private static final String NOT_ACCEPTING = "the database system is not accepting connections";
    private static final String HOT_STANDBY_DISABLED = "Hot standby mode is disabled.";
    private static final String NOT_YET_ACCEPTING = "the database system is not yet accepting connections";
    private static final String NOT_CONSISTENT = "Consistent recovery state has not been yet reached.";
    /* The startup process's LOG lines (xlogrecovery.c) that place it before and after consistency. */
    private static final String REDO_STARTED = "redo starts at";
    private static final String CONSISTENT = "consistent recovery state reached";
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final Pattern IDLE_METRIC = Pattern.compile("^pgpolicy_upstream_pool_idle (\\S+)$", Pattern.MULTILINE);

    private EmbeddedPostgres postgres;
    private ProxyFixture passthrough;
    private ProxyFixture pooled;
    private Path recoveryGate;
    private Path consistencyGate;
    private Path archive;
    private long standbyLogStart;

    @BeforeAll
    void start(@TempDir Path dir) throws IOException {
        postgres = EmbeddedPostgres.builder().hbaRule("host all " + TRUSTED + " 127.0.0.1/32 trust").start();
        postgres.createRole(TRUSTED, null);
        postgres.createRole(SERVICE_ROLE, SERVICE_PASSWORD);
        passthrough = ProxyFixture.start(postgres);

        Files.writeString(dir.resolve("service.pw"), SERVICE_PASSWORD);
        Files.setPosixFilePermissions(dir.resolve("service.pw"), PosixFilePermissions.fromString("rw-------"));
        Files.writeString(dir.resolve("users.yaml"), """
                users:
                  %s: { scram: "%s", upstream: service }
                accounts:
                  service: { user: %s, password_file: service.pw }
                """.formatted(PROXY_USER,
                ScramVerifier.generate(PROXY_PASSWORD.toCharArray(), 4096, new SecureRandom()).encode(), SERVICE_ROLE));
        // One event loop, so the idle connection left by the first test is the one the next lease meets.
        pooled = ProxyFixture.start(postgres, b -> b.authMode(ProxyConfig.AuthMode.PROXY)
                .usersFile(dir.resolve("users.yaml")).ioThreads(1));
        // In the cluster's directory, which the server's OS account can traverse.
        recoveryGate = postgres.baseDirectory().resolve("recovery-gate");
        consistencyGate = postgres.baseDirectory().resolve("consistency-gate");
        archive = postgres.baseDirectory().resolve("wal-archive");
    }

    @AfterAll
    void stop() throws IOException {
        // Lets a still waiting restore_command end, so no shell loop outlives the cluster.
        for (Path gate : new Path[] {recoveryGate, consistencyGate}) {
            if (gate != null) {
                Files.writeString(gate, "");
            }
        }
        for (AutoCloseable closeable : new AutoCloseable[] {pooled, passthrough, postgres}) {
            try {
                if (closeable != null) {
                    closeable.close();
                }
            } catch (Exception e) {
                throw new IllegalStateException("cleanup failed", e);
            }
        }
    }

    @Test
    @Order(1)
    void beforeTheRestartBothProxiesServeAndThePoolKeepsAnIdleConnection() throws Exception {
        assertThat(passthroughPsql("SELECT 'direct'")).isEqualTo("direct");
        try (Connection connection = pooledJdbc(); Statement statement = connection.createStatement();
                ResultSet rows = statement.executeQuery("SELECT current_user")) {
            assertThat(rows.next()).isTrue();
            assertThat(rows.getString(1)).isEqualTo(SERVICE_ROLE);
        }
        await(() -> poolIdle() >= 1, "the pooled proxy to keep the session's upstream connection");
        // The socket check used after each refusal does see a connection the proxy holds.
        assertThat(OpenSockets.towards(postgres.port())).as("the pool's idle connection").hasSize(1);
    }

    @Test
    @Order(2)
    void whileRecoveryHasNotStartedClientsGetTheServersStartingUpRefusal() throws Exception {
        // The history file of timeline 2 is the first thing a standby asks restore_command for
        // (recovery_target_timeline = 'latest'); the loop is bounded so that nothing outlives a
        // test run that died before opening the gate.
        String gatedRestore = "i=0; while [ ! -e '" + recoveryGate + "' ] && [ $i -lt 600 ]; do sleep 0.2;"
                + " i=$((i+1)); done; exit 1";
        postgres.restartAsStandby(Map.of("hot_standby", "off", "restore_command", gatedRestore));
        awaitServerRefusal(STARTING_UP);

        assertRefusedThroughBothProxies(STARTING_UP, null);
        // Still in the window after all those refusals: nothing above moved the server on.
        assertThat(directRefusal().fields().get('M')).isEqualTo(STARTING_UP);
    }

    @Test
    @Order(3)
    void onAStandbyWithoutHotStandbyClientsGetTheServersRefusalWithItsDetail() throws Exception {
        Files.writeString(recoveryGate, "");
        awaitServerRefusal(NOT_ACCEPTING);

        assertRefusedThroughBothProxies(NOT_ACCEPTING, HOT_STANDBY_DISABLED);
    }

    @Test
    @Order(4)
    void oncePromotedTheSameProxiesServeNewSessions() throws Exception {
        postgres.promote();

        assertBothProxiesServe(false);
    }

    @Test
    @Order(5)
    void onAHotStandbyNotYetConsistentClientsGetTheServersRefusalWithItsDetail() throws Exception {
        // As before the first restart: the pool holds a connection the restart will end.
        await(() -> poolIdle() >= 1, "the pooled proxy to keep the session's upstream connection");

        BaseBackup backup = BaseBackup.takeInPlace(postgres, archive);
        standbyLogStart = Files.size(postgres.logFile());
        postgres.restartAsStandbyFromBackup(backup.label(),
                Map.of("hot_standby", "on", "restore_command", backup.restoreCommand(archive, consistencyGate)));
        awaitServerRefusal(NOT_YET_ACCEPTING);
        // From the server's side: a standby that began redo from the backup's segment and has not
        // reached consistency (the refusal can precede the "redo starts" line by a moment).
        await(() -> standbyLog().contains(REDO_STARTED), "the standby's \"" + REDO_STARTED + "\" log line");
        assertThat(standbyLog()).contains("entering standby mode", "starting backup recovery",
                "restored log file \"" + backup.startSegment() + "\" from archive").doesNotContain(CONSISTENT);

        assertRefusedThroughBothProxies(NOT_YET_ACCEPTING, NOT_CONSISTENT);
        // Still in the window after all those refusals: the end segment was never handed out.
        assertThat(directRefusal().fields()).containsEntry('M', NOT_YET_ACCEPTING).containsEntry('D', NOT_CONSISTENT);
        assertThat(standbyLog()).doesNotContain(CONSISTENT)
                .doesNotContain("restored log file \"" + backup.endSegment() + "\"");
    }

    @Test
    @Order(6)
    void onceConsistentTheHotStandbyServesNewSessionsThroughTheSameProxies() throws Exception {
        Files.writeString(consistencyGate, "");
        await(() -> standbyLog().contains("database system is ready to accept read-only connections"),
                "the standby to reach consistency and admit read-only sessions");
        assertThat(standbyLog()).contains(CONSISTENT);

        assertBothProxiesServe(true);
    }

    @Test
    @Order(7)
    void oncePromotedTheFormerHotStandbyServesNewSessions() throws Exception {
        postgres.promote();

        assertBothProxiesServe(false);
    }

    // ---------------------------------------------------------------------------------- helpers

    /** New psql and pgjdbc sessions through both proxies, against a server in recovery or not. */
    private void assertBothProxiesServe(boolean inRecovery) throws Exception {
        assertThat(passthroughPsql("SELECT 'direct'")).isEqualTo("direct");
        try (Connection connection = passthroughJdbc(); Statement statement = connection.createStatement();
                ResultSet rows = statement.executeQuery("SELECT pg_is_in_recovery()")) {
            assertThat(rows.next()).isTrue();
            assertThat(rows.getBoolean(1)).isEqualTo(inRecovery);
        }
        ProcessResult pooledPsql = pooledPsql("SELECT current_user");
        assertThat(pooledPsql.succeeded()).as(pooledPsql.describe()).isTrue();
        assertThat(pooledPsql.stdout().strip()).isEqualTo(SERVICE_ROLE);
        try (Connection connection = pooledJdbc(); Statement statement = connection.createStatement();
                ResultSet rows = statement.executeQuery("SELECT pg_is_in_recovery(), 41 + 1")) {
            assertThat(rows.next()).isTrue();
            assertThat(rows.getBoolean(1)).isEqualTo(inRecovery);
            assertThat(rows.getInt(2)).isEqualTo(42);
        }
    }

    /** What the server logged since the standby restored from the backup was started. */
    private String standbyLog() throws IOException {
        try (var log = Files.newInputStream(postgres.logFile())) {
            log.skipNBytes(standbyLogStart);
            return new String(log.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private void assertRefusedThroughBothProxies(String message, String detail) throws Exception {
        Logger proxyLogs = (Logger) LoggerFactory.getLogger("dev.pgpolicy.proxy");
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        proxyLogs.addAppender(logged);
        try {
            refuseFiveSessions(message, detail);
        } finally {
            proxyLogs.detachAppender(logged);
        }
        // A server refusing every login must not flood the log: at most the one INFO line that
        // ends each of the five sessions (at least one, so the capture did see the proxy's
        // logging), and nothing an operator is paged for.
        List<ILoggingEvent> notable = logged.list.stream()
                .filter(event -> event.getLevel().isGreaterOrEqual(Level.INFO)).toList();
        assertThat(notable).as("log lines of the refused sessions").hasSizeBetween(1, 5)
                .allSatisfy(event -> assertThat(event.getLevel()).as(event.getFormattedMessage()).isEqualTo(Level.INFO));
        // The line that ends a refused session says why, in the server's words.
        assertThat(notable).filteredOn(event -> event.getFormattedMessage().contains(": closed ")).isNotEmpty()
                .allSatisfy(event -> assertThat(event.getFormattedMessage())
                        .contains("(the server ended the session: 57P03 " + message + ")"));
    }

    private void refuseFiveSessions(String message, String detail) throws Exception {
        int passthroughBefore = passthrough.proxy.activeSessions();
        int pooledBefore = pooled.proxy.activeSessions();

        // A raw client sees the bytes the proxy relays: the server's fields, nothing added.
        try (RawSocket raw = RawSocket.connect("127.0.0.1", passthrough.port())) {
            raw.write(Frames.startup(Map.of("user", TRUSTED, "database", "postgres")));
            BackendMessage refusal = raw.readMessage();
            assertThat(refusal.type()).as(refusal.toString()).isEqualTo('E');
            assertThat(refusal.sqlState()).isEqualTo("57P03");
            assertThat(refusal.fields().get('S')).isEqualTo("FATAL");
            assertThat(refusal.fields().get('M')).isEqualTo(message);
            assertThat(refusal.fields().get('D')).isEqualTo(detail);
            assertThat(refusal.fields().get('R')).as("the routine of the server's postmaster").isEqualTo("ProcessStartupPacket");
            assertThat(raw.awaitClosed(WAIT)).as("the proxy closes the client's connection").isTrue();
        }

        ProcessResult direct = PgClient.to("127.0.0.1", passthrough.port()).user(TRUSTED).database("postgres")
                .sslMode("disable").psql("SELECT 1");
        assertPsqlRefused(direct, message, detail);
        assertThatThrownBy(this::passthroughJdbc).isInstanceOfSatisfying(PSQLException.class,
                e -> assertServersRefusal(e, message, detail));

        assertPsqlRefused(pooledPsql("SELECT 1"), message, detail);
        assertThatThrownBy(this::pooledJdbc).isInstanceOfSatisfying(PSQLException.class,
                e -> assertServersRefusal(e, message, detail));

        await(() -> passthrough.proxy.activeSessions() == passthroughBefore, "the passthrough proxy's sessions to end");
        await(() -> pooled.proxy.activeSessions() == pooledBefore, "the pooled proxy's sessions to end");
        await(() -> OpenSockets.towards(postgres.port()).isEmpty(),
                "the proxies to close their connections to the server");
        assertThat(poolIdle()).as("a refused login leaves nothing in the pool").isZero();
    }

    private static void assertPsqlRefused(ProcessResult psql, String message, String detail) {
        assertThat(psql.succeeded()).as(psql.describe()).isFalse();
        assertThat(psql.stderr()).contains("FATAL:  " + message);
        if (detail != null) {
            assertThat(psql.stderr()).contains("DETAIL:  " + detail);
        }
    }

    private static void assertServersRefusal(PSQLException e, String message, String detail) {
        assertThat(e.getSQLState()).as(e.toString()).isEqualTo("57P03");
        ServerErrorMessage server = e.getServerErrorMessage();
        assertThat(server).as("pgjdbc got an ErrorResponse, not a broken connection: " + e).isNotNull();
        assertThat(server.getSeverity()).isEqualTo("FATAL");
        assertThat(server.getMessage()).isEqualTo(message);
        assertThat(server.getDetail()).isEqualTo(detail);
    }

    /** Retries while the postmaster is not yet listening or still in the window before. */
    private void awaitServerRefusal(String message) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        String last = "no answer";
        while (System.nanoTime() < deadline) {
            try {
                BackendMessage refusal = directRefusal();
                last = refusal.toString();
                if (message.equals(refusal.fields().get('M'))) {
                    return;
                }
            } catch (UncheckedIOException notListeningYet) {
                last = notListeningYet.toString();
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the server did not answer \"" + message + "\" within " + WAIT + "; last: " + last
                + "\n" + postgres.logTail(20));
    }

    private BackendMessage directRefusal() {
        try (RawSocket probe = RawSocket.connect(postgres.host(), postgres.port())) {
            probe.write(Frames.startup(Map.of("user", TRUSTED, "database", "postgres")));
            return probe.readMessage();
        }
    }

    private String passthroughPsql(String sql) {
        ProcessResult result = PgClient.to("127.0.0.1", passthrough.port()).user(TRUSTED).database("postgres")
                .sslMode("disable").psql(sql);
        assertThat(result.succeeded()).as(result.describe()).isTrue();
        return result.stdout().strip();
    }

    private ProcessResult pooledPsql(String sql) {
        return PgClient.to("127.0.0.1", pooled.port()).user(PROXY_USER).password(PROXY_PASSWORD)
                .database("postgres").sslMode("disable").psql(sql);
    }

    private Connection passthroughJdbc() throws SQLException {
        Properties properties = timeouts();
        properties.setProperty("user", TRUSTED);
        return DriverManager.getConnection(passthrough.jdbcUrl("postgres", ""), properties);
    }

    private Connection pooledJdbc() throws SQLException {
        Properties properties = timeouts();
        properties.setProperty("user", PROXY_USER);
        properties.setProperty("password", PROXY_PASSWORD);
        return DriverManager.getConnection(pooled.jdbcUrl("postgres", ""), properties);
    }

    /** A login that hung would end in pgjdbc's own timeout (08001), which the assertions reject. */
    private static Properties timeouts() {
        Properties properties = new Properties();
        properties.setProperty("loginTimeout", "20");
        properties.setProperty("socketTimeout", "30");
        return properties;
    }

    private long poolIdle() {
        Matcher idle = IDLE_METRIC.matcher(new String(pooled.proxy.metrics().scrape(), StandardCharsets.UTF_8));
        if (!idle.find()) {
            throw new AssertionError("the pooled proxy reports no pgpolicy_upstream_pool_idle");
        }
        return (long) Double.parseDouble(idle.group(1));
    }

    private interface Condition {
        boolean holds() throws Exception;
    }

    private static void await(Condition condition, String what) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.holds()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + WAIT + " waiting for " + what);
            }
            Thread.sleep(20);
        }
    }
}
