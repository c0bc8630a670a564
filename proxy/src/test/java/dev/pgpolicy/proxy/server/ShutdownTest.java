package dev.pgpolicy.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.testing.PostgresExtension;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Graceful shutdown: stop accepting, let sessions finish within the grace period, then end the rest. */
@ExtendWith(PostgresExtension.class)
class ShutdownTest {

    @Test
    void runningStatementFinishesWithinTheGracePeriod(EmbeddedPostgres postgres) throws Exception {
        ProxyFixture fixture = ProxyFixture.start(postgres, b -> b.shutdownGracePeriod(Duration.ofSeconds(20)));
        int port = fixture.port();
        Connection connection = fixture.jdbc("postgres", "");
        CompletableFuture<String> statement = CompletableFuture.supplyAsync(() -> {
            try (Statement s = connection.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_sleep(1), 'finished'")) {
                rs.next();
                String result = rs.getString(2);
                connection.close();
                return result;
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        });
        Thread.sleep(300);
        long start = System.nanoTime();
        fixture.close();
        long took = System.nanoTime() - start;
        assertThat(statement.get(10, TimeUnit.SECONDS)).isEqualTo("finished");
        // close() returned once the session ended, well before the grace period.
        assertThat(Duration.ofNanos(took)).isLessThan(Duration.ofSeconds(10));
        assertThatThrownBy(() -> new Socket("127.0.0.1", port).close()).isInstanceOf(ConnectException.class);
    }

    @Test
    void sessionsStillOpenAfterTheGracePeriodAreTerminatedLikeAFastShutdown(EmbeddedPostgres postgres) throws Exception {
        ProxyFixture fixture = ProxyFixture.start(postgres, b -> b.shutdownGracePeriod(Duration.ofMillis(300)));
        try (Connection idle = fixture.jdbc("postgres", "")) {
            fixture.close();
            assertThatThrownBy(() -> {
                try (Statement s = idle.createStatement()) {
                    s.execute("SELECT 1");
                }
            }).isInstanceOf(SQLException.class);
            assertThat(fixture.proxy.activeSessions()).isZero();
        }
    }

    @Test
    void serveStopsCleanlyOnSigterm(EmbeddedPostgres postgres) throws Exception {
        ServeProcess started = ServeProcess.start(List.of(), "--upstream", postgres.host() + ":" + postgres.port());
        int port = started.port();
        Process serve = started.process();
        Path logFile = started.logFile();
        Supplier<List<String>> log = started::log;
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!contains(log.get(), "pgpolicy listening on") && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(contains(log.get(), "pgpolicy listening on")).as(String.join("\n", log.get())).isTrue();
            assertThat(contains(log.get(), "self-signed, generated at start")).isTrue();
            var result = dev.pgpolicy.proxy.testing.PgClient.to("127.0.0.1", port)
                    .user(postgres.superuser()).password(postgres.superuserPassword()).database("postgres")
                    .sslMode("require").psql("SELECT 'through serve'");
            assertThat(result.succeeded()).as(result.describe()).isTrue();
            assertThat(result.stdout().strip()).isEqualTo("through serve");
            serve.destroy(); // SIGTERM
            assertThat(serve.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(serve.exitValue()).isEqualTo(143);
            assertThat(contains(log.get(), "closed user=" + postgres.superuser() + " database=postgres client=127.0.0.1:"))
                    .as(String.join("\n", log.get())).isTrue();
            assertThat(contains(log.get(), "bytes_in=")).isTrue();
            assertThat(contains(log.get(), "pgpolicy stopped")).as(String.join("\n", log.get())).isTrue();
        } finally {
            serve.destroyForcibly();
            Files.deleteIfExists(logFile);
        }
    }

    @Test
    void serveReloadsThePolicySetOnSighupAndKeepsTheOldOneWhenTheNewIsBroken(EmbeddedPostgres postgres,
            @org.junit.jupiter.api.io.TempDir Path policies) throws Exception {
        Files.writeString(policies.resolve("a.pgpolicy"), "allow any session;\nallow any select on public.*;\n");
        // Without the file watch, only the SIGHUPs below can reload the set.
        Path config = Files.createTempFile("pgpolicy-serve", ".yaml");
        Files.writeString(config, "policies_watch: false\n");
        // SIGHUP as a daemon gets it, whatever this JVM inherited: under nohup it is ignored, and
        // the JVM passes that on (the test below covers that case).
        ServeProcess started = ServeProcess.start(List.of("env", "--default-signal=HUP"), "--config", config.toString(),
                "--upstream", postgres.host() + ":" + postgres.port(), "--policies", policies.toString());
        Process serve = started.process();
        Path logFile = started.logFile();
        Supplier<List<String>> log = started::log;
        try {
            awaitLog(log, "running: SIGHUP reloads");
            Files.writeString(policies.resolve("b.pgpolicy"), "allow nobody select on t;\n");
            sighup(serve);
            awaitLog(log, "refused, keeping revision");
            assertThat(contains(log.get(), "unknown role 'nobody'")).as(String.join("\n", log.get())).isTrue();

            Files.writeString(policies.resolve("b.pgpolicy"), "allow any select on public.t2;\n");
            sighup(serve);
            awaitLog(log, "reloaded: revision");
        } finally {
            serve.destroyForcibly();
            Files.deleteIfExists(logFile);
            Files.deleteIfExists(config);
        }
    }

    @Test
    void serveStartedWithSighupIgnoredSaysThatASighupWillNotReload(EmbeddedPostgres postgres,
            @org.junit.jupiter.api.io.TempDir Path policies) throws Exception {
        Files.writeString(policies.resolve("a.pgpolicy"), "allow any session;\nallow any select on public.*;\n");
        // As nohup starts it: the JVM cannot catch a signal the process inherited as ignored.
        ServeProcess started = ServeProcess.start(List.of("env", "--ignore-signal=HUP"),
                "--upstream", postgres.host() + ":" + postgres.port(), "--policies", policies.toString());
        Process serve = started.process();
        Path logFile = started.logFile();
        Supplier<List<String>> log = started::log;
        try {
            awaitLog(log, "running: SIGHUP reloads");
            assertThat(contains(log.get(), "SIGHUP is ignored in this process")).as(String.join("\n", log.get()))
                    .isTrue();
            sighup(serve);
            // The process lives on (an ignored SIGHUP neither reloads nor stops it).
            assertThat(serve.waitFor(2, TimeUnit.SECONDS)).isFalse();
            assertThat(contains(log.get(), "SIGHUP: reloading")).isFalse();
        } finally {
            serve.destroyForcibly();
            Files.deleteIfExists(logFile);
        }
    }

    private static void sighup(Process process) throws Exception {
        Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(process.pid())).start();
        assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(kill.exitValue()).isZero();
    }

    private static void awaitLog(Supplier<List<String>> log, String text) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!contains(log.get(), text) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(contains(log.get(), text)).as("waiting for \"" + text + "\" in:\n" + String.join("\n", log.get()))
                .isTrue();
    }

    private static boolean contains(List<String> log, String text) {
        return log.stream().anyMatch(line -> line.contains(text));
    }

    /** {@code pgpolicy serve} in a JVM of its own on a free port, its output in {@code logFile}. */
    private record ServeProcess(Process process, Path logFile, int port) {

        /** {@code launcher} (e.g. {@code env --default-signal=HUP}) runs the JVM; empty runs it directly. */
        static ServeProcess start(List<String> launcher, String... serveArguments) throws IOException {
            int port;
            try (ServerSocket probe = new ServerSocket(0)) {
                port = probe.getLocalPort();
            }
            Path logFile = Files.createTempFile("pgpolicy-serve", ".log");
            List<String> command = new ArrayList<>(launcher);
            command.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                    System.getProperty("java.class.path"), "dev.pgpolicy.proxy.cli.PgPolicyCommand", "serve",
                    "--listen", "127.0.0.1:" + port));
            command.addAll(List.of(serveArguments));
            Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(logFile.toFile())
                    .start();
            return new ServeProcess(process, logFile, port);
        }

        List<String> log() {
            try {
                return Files.readAllLines(logFile, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
