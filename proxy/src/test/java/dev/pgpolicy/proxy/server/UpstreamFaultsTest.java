package dev.pgpolicy.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.embedded.ProcessResult;
import dev.pgpolicy.proxy.testing.BackendMessage;
import dev.pgpolicy.proxy.testing.Frames;
import dev.pgpolicy.proxy.testing.PgClient;
import dev.pgpolicy.proxy.testing.RawSocket;
import dev.pgpolicy.proxy.testing.Resources;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The server failing under a proxied session: a backend terminated by an administrator, a
 * restart in the middle of a query, a smart shutdown refusing new sessions. Each runs with real
 * clients against a cluster of this class's own (it is restarted and finally stopped), and each
 * checks that the client gets the server's own words, that its connection is closed rather than
 * left half-open, and that the proxy serves new sessions afterwards.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class UpstreamFaultsTest {

    private static final String TRUSTED = "faults_trusted";
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(10);

    private EmbeddedPostgres postgres;
    private ProxyFixture fixture;

    @BeforeAll
    void start() {
        postgres = EmbeddedPostgres.builder().hbaRule("host all " + TRUSTED + " 127.0.0.1/32 trust").start();
        postgres.createRole(TRUSTED, null);
        fixture = ProxyFixture.start(postgres);
    }

    @AfterAll
    void stop() {
        Resources.closeAll(fixture, postgres);
    }

    @Test
    @Order(1)
    void terminatedBackendEndsTheClientSessionWithTheServersFatal() throws Exception {
        try (RawSocket victim = readySession()) {
            victim.write(Frames.query("SELECT pg_backend_pid()"));
            int serverPid = Integer.parseInt(firstColumn(victim.readUntil('D')));
            victim.readUntil('Z');

            postgres.execute("postgres", "SELECT pg_terminate_backend(" + serverPid + ");\n");

            BackendMessage fatal = victim.readMessage();
            assertThat(fatal.type()).as(fatal.toString()).isEqualTo('E');
            assertThat(fatal.sqlState()).isEqualTo("57P01");
            assertThat(fatal.fields().get('S')).isEqualTo("FATAL");
            assertThat(fatal.fields().get('M')).isEqualTo("terminating connection due to administrator command");
            // Relayed verbatim: the server's error, not one the proxy made up.
            assertThat(fatal.fields()).doesNotContainKey('D');
            assertThat(victim.awaitClosed(CLOSE_WAIT)).as("the proxy closes the client's connection").isTrue();
        }
        awaitNoSessions();
        assertThat(psql("SELECT 'after terminate'")).isEqualTo("after terminate");
    }

    @Test
    @Order(2)
    void restartDuringAQueryEndsItsSessionsAndNewSessionsWorkAfterwards() throws Exception {
        try (RawSocket raw = readySession(); Connection jdbc = jdbc(); Statement statement = jdbc.createStatement()) {
            CompletableFuture<SQLException> jdbcQuery = CompletableFuture.supplyAsync(() -> {
                try {
                    statement.execute("SELECT pg_sleep(30)");
                    return null;
                } catch (SQLException e) {
                    return e;
                }
            });
            raw.write(Frames.query("SELECT pg_sleep(30)"));
            awaitActiveSleeps(2);

            long restartStarted = System.nanoTime();
            postgres.restart();

            BackendMessage fatal = raw.readUntil('E');
            assertThat(fatal.sqlState()).as(fatal.fields().toString()).isEqualTo("57P01");
            assertThat(fatal.fields().get('S')).isEqualTo("FATAL");
            assertThat(raw.awaitClosed(CLOSE_WAIT)).as("the proxy closes the client's connection").isTrue();

            SQLException failure = jdbcQuery.get(20, TimeUnit.SECONDS);
            assertThat((Throwable) failure).as("pgjdbc's pg_sleep(30) must fail, not finish").isNotNull();
            assertThat(failure.getSQLState()).as(failure.toString()).isIn("57P01", "08006");
            // Far below the 30 s the query would have slept: the restart ended it.
            assertThat(Duration.ofNanos(System.nanoTime() - restartStarted)).isLessThan(Duration.ofSeconds(25));
            assertThat(jdbc.isValid(5)).isFalse();
        }
        awaitNoSessions();
        assertThat(psql("SELECT 'after restart'")).isEqualTo("after restart");
        try (Connection again = jdbc(); Statement statement = again.createStatement();
                ResultSet rows = statement.executeQuery("SELECT 41 + 1")) {
            assertThat(rows.next()).isTrue();
            assertThat(rows.getInt(1)).isEqualTo(42);
        }
    }

    @Test
    @Order(3)
    void duringASmartShutdownNewSessionsGetTheServers57P03() throws Exception {
        // A smart shutdown (SIGTERM to the postmaster, pg_ctl stop -m smart) waits for open
        // sessions to end and refuses new ones meanwhile: a deterministic "shutting down" window
        // for as long as this session stays open.
        try (Connection holder = jdbc()) {
            ProcessHandle postmaster = ProcessHandle.of(postgres.postmasterPid()).orElseThrow();
            assertThat(postmaster.destroy()).as("SIGTERM to the postmaster").isTrue();

            BackendMessage refusal = awaitRefusal();
            assertThat(refusal.sqlState()).isEqualTo("57P03");
            assertThat(refusal.fields().get('S')).isEqualTo("FATAL");
            assertThat(refusal.fields().get('M')).isEqualTo("the database system is shutting down");
            assertThat(refusal.fields()).doesNotContainKey('D');

            ProcessResult refused = PgClient.to("127.0.0.1", fixture.port()).user(TRUSTED).database("postgres")
                    .sslMode("disable").psql("SELECT 1");
            assertThat(refused.succeeded()).isFalse();
            assertThat(refused.stderr()).contains("the database system is shutting down");
            assertThatThrownBy(this::jdbc).isInstanceOfSatisfying(SQLException.class,
                    e -> assertThat(e.getSQLState()).isEqualTo("57P03"));

            // The open session is not affected by the shutdown until it ends.
            try (Statement statement = holder.createStatement(); ResultSet rows = statement.executeQuery("SELECT 1")) {
                assertThat(rows.next()).isTrue();
            }
        }
        // The last session ended, so the server finishes its shutdown; the proxy stays up and
        // says the upstream cannot be reached.
        ProcessHandle.of(postgres.postmasterPid()).ifPresent(p -> p.onExit().orTimeout(30, TimeUnit.SECONDS).join());
        assertThatThrownBy(this::jdbc).isInstanceOfSatisfying(SQLException.class,
                e -> assertThat(e.getSQLState()).isEqualTo("08006"));
        awaitNoSessions();
    }

    // ---------------------------------------------------------------------------------- helpers

    private RawSocket readySession() {
        RawSocket socket = RawSocket.connect("127.0.0.1", fixture.port());
        socket.write(Frames.startup(Map.of("user", TRUSTED, "database", "postgres")));
        socket.readUntil('Z');
        return socket;
    }

    private Connection jdbc() throws SQLException {
        Properties properties = new Properties();
        properties.setProperty("user", TRUSTED);
        properties.setProperty("socketTimeout", "60");
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + fixture.port() + "/postgres?sslmode=disable",
                properties);
    }

    private String psql(String sql) {
        ProcessResult result = PgClient.to("127.0.0.1", fixture.port()).user(TRUSTED).database("postgres")
                .sslMode("disable").psql(sql);
        assertThat(result.succeeded()).as(result.describe()).isTrue();
        return result.stdout().strip();
    }

    /** The text of the first column of a DataRow: Int16 count, then Int32 length + bytes. */
    private static String firstColumn(BackendMessage row) {
        byte[] body = row.body();
        int length = row.int32(2);
        return new String(body, 6, length, StandardCharsets.UTF_8);
    }

    /** Waits until the server runs {@code count} pg_sleep calls, so the restart hits them mid-query. */
    private void awaitActiveSleeps(int count) throws InterruptedException {
        long deadline = System.nanoTime() + CLOSE_WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            String running = postgres.query("postgres", "SELECT count(*) FROM pg_stat_activity"
                    + " WHERE state = 'active' AND query = 'SELECT pg_sleep(30)'").get(0).get(0);
            if (running.equals(String.valueOf(count))) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the queries did not start within " + CLOSE_WAIT);
    }

    /** The first startup answer that is an error, retried while the postmaster still accepts. */
    private BackendMessage awaitRefusal() throws InterruptedException {
        long deadline = System.nanoTime() + CLOSE_WAIT.toNanos();
        while (true) {
            try (RawSocket probe = RawSocket.connect("127.0.0.1", fixture.port())) {
                probe.write(Frames.startup(Map.of("user", TRUSTED, "database", "postgres")));
                BackendMessage first = probe.readMessage();
                if (first.type() == 'E') {
                    assertThat(probe.awaitClosed(CLOSE_WAIT)).isTrue();
                    return first;
                }
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("new sessions were still accepted " + CLOSE_WAIT + " after SIGTERM");
            }
            Thread.sleep(50);
        }
    }

    private void awaitNoSessions() throws InterruptedException {
        long deadline = System.nanoTime() + CLOSE_WAIT.toNanos();
        while (fixture.proxy.activeSessions() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(fixture.proxy.activeSessions()).as("sessions left open in the proxy").isZero();
    }
}
