package dev.pgpolicy.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pgpolicy.proxy.config.HostPort;
import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.enforce.PolicyDirectoryWatcher;
import dev.pgpolicy.proxy.testing.PostgresExtension;
import dev.pgpolicy.proxy.testing.ServeProcess;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code serve --policies DIR} reloads when the files change, with a session held open across the
 * changes: a new deny applies to its next statement, a broken set or a failing test keeps the old
 * set in force (logged with its diagnostics, counted as a failed reload), and a fixed set goes live.
 */
@ExtendWith(PostgresExtension.class)
class PolicyWatchServeTest {

    private static final String DB = "policy_watch";
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String SELECT = "SELECT id FROM public.items ORDER BY id";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    @Test
    void aChangedFileReloadsTheSetForOpenSessionsAndABrokenOneIsRefused(EmbeddedPostgres postgres, @TempDir Path dir)
            throws Exception {
        postgres.createDatabase(DB);
        postgres.execute(DB, "CREATE TABLE public.items (id int); INSERT INTO public.items VALUES (1), (2);");
        Path policies = Files.createDirectories(dir.resolve("policies"));
        Files.writeString(policies.resolve("base.pgpolicy"), "allow any session;\nallow any select on public.*;\n");
        Files.writeString(policies.resolve("base.pgtest"), """
                test "deletes are denied by default" {
                  as user "ana";
                  query "DELETE FROM public.items";
                  expect deny;
                }
                """);
        int port = ServeProcess.freePort();
        int adminPort = ServeProcess.freePort();
        String admin = "http://127.0.0.1:" + adminPort;
        try (ServeProcess serve = ServeProcess.start(dir.resolve("serve.log"), List.of(
                "--listen", "127.0.0.1:" + port, "--upstream", postgres.host() + ":" + postgres.port(),
                "--policies", policies.toString(), "--admin", "127.0.0.1:" + adminPort))) {
            serve.awaitLog("watching " + policies, WAIT);
            Properties login = new Properties();
            login.setProperty("user", postgres.superuser());
            login.setProperty("password", postgres.superuserPassword());
            try (Connection session = DriverManager.getConnection(
                    "jdbc:postgresql://127.0.0.1:" + port + "/" + DB + "?sslmode=disable", login)) {
                assertThat(select(session)).isEqualTo("1,2");
                String initial = revision(admin);
                PrometheusText before = metrics(admin);
                double succeeded = reloads(before, "success");
                double failed = reloads(before, "failure");

                // 1. A new deny rule applies to the open session's next statement.
                Files.writeString(policies.resolve("closed.pgpolicy"), """
                        @id("items-closed") @reason("items are closed for the inventory")
                        deny any select on public.items;
                        """);
                awaitDenial(session, "items-closed");
                String closed = revision(admin);
                assertThat(closed).isNotEqualTo(initial);
                awaitMetric(admin, "success", n -> n >= succeeded + 1);

                // 2. A syntax error: refused, logged with file:line:col, counted; the old set stays.
                Files.writeString(policies.resolve("closed.pgpolicy"), "deny any select on ;\n");
                serve.awaitLog("the refusal with its diagnostic", lines -> lines.stream()
                        .anyMatch(line -> line.matches(".*closed\\.pgpolicy:1:\\d+: error: .*")), WAIT);
                assertThat(serve.logLines()).anyMatch(line -> line.contains("refused, keeping revision " + closed));
                awaitMetric(admin, "failure", n -> n >= failed + 1);
                assertThat(denial(session)).contains("items-closed");
                assertThat(revision(admin)).isEqualTo(closed);

                // 3. A set whose own test fails: refused the same way. The test is written first so
                // that no state in between could load.
                Files.writeString(policies.resolve("items.pgtest"), """
                        test "items stay readable" {
                          as user "ana";
                          query "SELECT id FROM public.items";
                          expect allow;
                        }
                        """);
                Files.writeString(policies.resolve("closed.pgpolicy"), """
                        @id("items-closed-v2") @reason("items are closed until the recount")
                        deny any select on public.items;
                        """);
                serve.awaitLog("the failing test", lines -> lines.stream()
                        .anyMatch(line -> line.matches(".*items\\.pgtest:\\d+:\\d+: test \"items stay readable\".*")), WAIT);
                awaitMetric(admin, "failure", n -> n >= failed + 2);
                assertThat(denial(session)).contains("\"items-closed\"").doesNotContain("items-closed-v2");
                assertThat(revision(admin)).isEqualTo(closed);

                // 4. Fixing the test lets the new set go live, in the same session again.
                Files.writeString(policies.resolve("items.pgtest"), """
                        test "items are closed" {
                          as user "ana";
                          query "SELECT id FROM public.items";
                          expect deny by "items-closed-v2";
                        }
                        """);
                awaitDenial(session, "items-closed-v2");
                awaitMetric(admin, "success", n -> n >= succeeded + 2);
                String fixed = revision(admin);
                assertThat(fixed).isNotEqualTo(closed).isNotEqualTo(initial);
                JsonNode policy = JSON.readTree(get(admin + "/policy").body());
                assertThat(policy.get("files").toString()).contains("closed.pgpolicy", "base.pgpolicy");

                // 5. Removing the deny reopens the table, still without reconnecting.
                Files.delete(policies.resolve("closed.pgpolicy"));
                Files.delete(policies.resolve("items.pgtest"));
                awaitAllowed(session);
            }
            assertThat(serve.stop()).isEqualTo(ServeProcess.TERMINATED);
        }
    }

    @Test
    void withTheWatchTurnedOffOnlyAnExplicitReloadChangesTheSet(@TempDir Path policies) throws Exception {
        Files.writeString(policies.resolve("base.pgpolicy"), "allow any session;\nallow any select on public.*;\n");
        // No client connects: the upstream is never dialled.
        ProxyConfig config = ProxyConfig.builder().listen("127.0.0.1", 0).upstream("127.0.0.1", 1)
                .policiesDir(policies).policiesWatch(false).adminListen(new HostPort("127.0.0.1", 0))
                .shutdownGracePeriod(Duration.ZERO).build();
        try (ProxyServer proxy = ProxyServer.start(config)) {
            String admin = "http://127.0.0.1:" + proxy.adminAddress().orElseThrow().getPort();
            String initial = revision(admin);
            Files.writeString(policies.resolve("extra.pgpolicy"), "deny any delete on public.t;\n");
            // Absence can only be shown by waiting: several quiet periods of the watcher it would have had.
            Thread.sleep(PolicyDirectoryWatcher.QUIET_PERIOD.toMillis() * 4);
            assertThat(revision(admin)).isEqualTo(initial);
            proxy.reload(); // what SIGHUP does
            assertThat(revision(admin)).isNotEqualTo(initial);
            assertThat(reloads(metrics(admin), "success")).isEqualTo(1);
        }
    }

    private static String select(Connection session) throws SQLException {
        StringBuilder ids = new StringBuilder();
        try (Statement statement = session.createStatement(); ResultSet rows = statement.executeQuery(SELECT)) {
            while (rows.next()) {
                ids.append(ids.length() == 0 ? "" : ",").append(rows.getInt(1));
            }
        }
        return ids.toString();
    }

    /** The statement's denial message, or an assertion failure when it ran. */
    private static String denial(Connection session) {
        try {
            String result = select(session);
            throw new AssertionError("expected a denial, the statement returned " + result);
        } catch (SQLException e) {
            assertThat(e.getSQLState()).as(e.getMessage()).isEqualTo("42501");
            return e.getMessage();
        }
    }

    /** Repeats the statement in the same session until a rule named {@code ruleId} denies it. */
    private static void awaitDenial(Connection session, String ruleId) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        String last = "";
        while (System.nanoTime() - deadline < 0) {
            try {
                last = "allowed: " + select(session);
            } catch (SQLException e) {
                last = e.getSQLState() + " " + e.getMessage();
                if ("42501".equals(e.getSQLState()) && e.getMessage().contains("\"" + ruleId + "\"")) {
                    return;
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no denial by " + ruleId + " within " + WAIT + "; last: " + last);
    }

    private static void awaitAllowed(Connection session) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        String last = "";
        while (System.nanoTime() - deadline < 0) {
            try {
                assertThat(select(session)).isEqualTo("1,2");
                return;
            } catch (SQLException e) {
                last = e.getSQLState() + " " + e.getMessage();
            }
            Thread.sleep(100);
        }
        throw new AssertionError("still refused after " + WAIT + ": " + last);
    }

    private HttpResponse<String> get(String uri) throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(uri)).timeout(WAIT).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return response;
    }

    private String revision(String admin) throws IOException, InterruptedException {
        return JSON.readTree(get(admin + "/policy").body()).get("revision").asText();
    }

    private PrometheusText metrics(String admin) throws IOException, InterruptedException {
        return PrometheusText.parse(get(admin + "/metrics").body());
    }

    private static double reloads(PrometheusText metrics, String outcome) {
        return metrics.value("pgpolicy_policy_reloads_total", Map.of("outcome", outcome));
    }

    private void awaitMetric(String admin, String outcome, Predicate<Double> condition) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        double value;
        do {
            value = reloads(metrics(admin), outcome);
            if (condition.test(value)) {
                return;
            }
            Thread.sleep(100);
        } while (System.nanoTime() - deadline < 0);
        throw new AssertionError("pgpolicy_policy_reloads_total{outcome=\"" + outcome + "\"} is " + value);
    }
}
