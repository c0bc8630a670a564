package dev.pgpolicy.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pgpolicy.proxy.config.HostPort;
import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.embedded.ProcessResult;
import dev.pgpolicy.proxy.testing.PostgresExtension;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The admin endpoint over real HTTP, with real psql and pgjdbc sessions through the proxy. */
@ExtendWith(PostgresExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AdminEndpointTest {

    private static final String DB = "admin_endpoint";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private EmbeddedPostgres postgres;
    private ProxyFixture fixture;

    @BeforeAll
    void start(EmbeddedPostgres postgres) {
        this.postgres = postgres;
        postgres.createDatabase(DB);
        fixture = ProxyFixture.start(postgres, b -> b.adminListen(new HostPort("127.0.0.1", 0)));
    }

    @AfterAll
    void stop() {
        fixture.close();
    }

    private URI admin(String path) {
        return URI.create("http://127.0.0.1:" + fixture.proxy.adminAddress().orElseThrow().getPort() + path);
    }

    private HttpResponse<String> send(String method, String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(admin(path)).method(method, HttpRequest.BodyPublishers.noBody())
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private PrometheusText metrics() throws IOException, InterruptedException {
        HttpResponse<String> response = send("GET", "/metrics");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).contains("text/plain; version=0.0.4; charset=utf-8");
        return PrometheusText.parse(response.body());
    }

    @Test
    void metricsParseAsPrometheusTextAndConnectionCountersMoveWithPsqlSessions() throws Exception {
        PrometheusText before = metrics();
        assertThat(before.types).containsEntry("pgpolicy_connections_total", "counter")
                .containsEntry("pgpolicy_connections_open", "gauge")
                .containsEntry("pgpolicy_upstream_connect_seconds", "histogram")
                .containsEntry("pgpolicy_policy_evaluation_seconds", "histogram")
                .containsKeys("pgpolicy_masks_applied_total", "pgpolicy_policy_reloads_total",
                        "pgpolicy_authentications_total", "pgpolicy_client_received_bytes_total");

        for (int i = 0; i < 2; i++) {
            ProcessResult result = fixture.client(DB).psql("SELECT 1");
            assertThat(result.succeeded()).as(result.describe()).isTrue();
        }
        ProcessResult refused = fixture.client(DB).password("wrong password").psql("SELECT 1");
        assertThat(refused.succeeded()).isFalse();

        PrometheusText after = metrics();
        Map<String, String> authenticated = Map.of("outcome", "authenticated");
        assertThat(after.value("pgpolicy_connections_total", authenticated))
                .isGreaterThanOrEqualTo(before.value("pgpolicy_connections_total", authenticated) + 2);
        Map<String, String> authFailed = Map.of("outcome", "authentication_failed");
        assertThat(after.value("pgpolicy_connections_total", authFailed))
                .isGreaterThanOrEqualTo(before.value("pgpolicy_connections_total", authFailed) + 1);
        assertThat(after.value("pgpolicy_authentications_total", Map.of("outcome", "success")))
                .isGreaterThanOrEqualTo(before.value("pgpolicy_authentications_total", Map.of("outcome", "success")) + 2);
        assertThat(after.value("pgpolicy_authentications_total", Map.of("outcome", "failure")))
                .isGreaterThanOrEqualTo(before.value("pgpolicy_authentications_total", Map.of("outcome", "failure")) + 1);
        assertThat(after.value("pgpolicy_upstream_connect_seconds_count"))
                .isGreaterThanOrEqualTo(before.value("pgpolicy_upstream_connect_seconds_count") + 3);
        assertThat(after.value("pgpolicy_client_received_bytes_total"))
                .isGreaterThan(before.value("pgpolicy_client_received_bytes_total"));
        assertThat(after.value("pgpolicy_client_sent_bytes_total"))
                .isGreaterThan(before.value("pgpolicy_client_sent_bytes_total"));
    }

    @Test
    void enforcementCountersAppearOnceRecorded() throws Exception {
        // Labelled families without a labelled child are not exposed; enforcement records these.
        ProxyMetricsCalls.recordSome(fixture.proxy);
        PrometheusText text = metrics();
        assertThat(text.types).containsEntry("pgpolicy_statements_total", "counter")
                .containsEntry("pgpolicy_throttled_requests_total", "counter");
        assertThat(text.value("pgpolicy_statements_total", Map.of("decision", "deny", "kind", "drop_admin_test")))
                .isEqualTo(1);
        assertThat(text.value("pgpolicy_throttled_requests_total", Map.of("limit", "admin_test_limit"))).isEqualTo(1);
        assertThat(text.value("pgpolicy_policy_evaluation_seconds_count")).isGreaterThanOrEqualTo(1);
        assertThat(text.value("pgpolicy_masks_applied_total")).isGreaterThanOrEqualTo(3);
    }

    /** What the enforcement code will call, once per decision. */
    private static final class ProxyMetricsCalls {
        static void recordSome(ProxyServer proxy) {
            proxy.metrics().recordStatement("deny", "drop_admin_test");
            proxy.metrics().recordThrottled("admin_test_limit");
            proxy.metrics().recordEvaluation(Duration.ofNanos(1500));
            proxy.metrics().recordMasksApplied(3);
        }
    }

    @Test
    void deletingASessionEndsItWith57P01AndTheProxyKeepsServing() throws Exception {
        try (Connection victim = fixture.jdbc(DB, "ApplicationName=admin-victim")) {
            try (Statement statement = victim.createStatement()) {
                statement.execute("BEGIN");
            }
            HttpResponse<String> listing = send("GET", "/sessions");
            assertThat(listing.statusCode()).isEqualTo(200);
            assertThat(listing.headers().firstValue("Content-Type")).contains("application/json");
            JsonNode session = null;
            for (JsonNode entry : JSON.readTree(listing.body()).get("sessions")) {
                if ("admin-victim".equals(entry.path("application_name").asText())) {
                    session = entry;
                }
            }
            assertThat(session).as(listing.body()).isNotNull();
            assertThat(session.get("user").asText()).isEqualTo(postgres.superuser());
            assertThat(session.get("database").asText()).isEqualTo(DB);
            assertThat(session.get("client_address").asText()).isEqualTo("127.0.0.1");
            assertThat(session.get("client_port").asInt()).isPositive();
            assertThat(session.get("tls").asBoolean()).isFalse();
            assertThat(session.get("phase").asText()).isEqualTo("ready");
            assertThat(session.get("transaction_status").asText()).isEqualTo("in_transaction");
            assertThat(session.get("started").asText()).isNotEmpty();
            assertThat(session.get("bytes_in").asLong()).isPositive();
            assertThat(session.get("bytes_out").asLong()).isPositive();

            HttpResponse<String> deleted = send("DELETE", "/sessions/" + session.get("id").asText());
            assertThat(deleted.statusCode()).as(deleted.body()).isEqualTo(200);

            assertThatThrownBy(() -> {
                try (Statement statement = victim.createStatement()) {
                    statement.execute("SELECT 1");
                }
            }).isInstanceOfSatisfying(SQLException.class, e -> {
                assertThat(e.getSQLState()).isEqualTo("57P01");
                assertThat(e.getMessage()).contains("terminating connection due to administrator command");
            });
        }
        try (Connection other = fixture.jdbc(DB, "");
                Statement statement = other.createStatement();
                ResultSet rows = statement.executeQuery("SELECT 42")) {
            assertThat(rows.next()).isTrue();
            assertThat(rows.getInt(1)).isEqualTo(42);
        }
        assertThat(send("DELETE", "/sessions/00000000").statusCode()).isEqualTo(404);
    }

    @Test
    void routesMethodsAndPolicyWithoutAPolicySet() throws Exception {
        HttpResponse<String> health = send("GET", "/healthz");
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(health.body()).get("status").asText()).isEqualTo("ok");
        HttpResponse<String> ready = send("GET", "/readyz");
        assertThat(ready.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(ready.body()).get("status").asText()).isEqualTo("ready");

        HttpResponse<String> policy = send("GET", "/policy");
        assertThat(policy.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(policy.body()).get("error").asText()).isEqualTo("no policy configured");
        HttpResponse<String> reload = send("POST", "/reload");
        assertThat(reload.statusCode()).isEqualTo(503);
        assertThat(JSON.readTree(reload.body()).get("error").asText()).isEqualTo("no policy configured");

        assertThat(send("GET", "/nowhere").statusCode()).isEqualTo(404);
        assertThat(send("GET", "/sessions/a/b").statusCode()).isEqualTo(404);
        HttpResponse<String> wrongMethod = send("POST", "/metrics");
        assertThat(wrongMethod.statusCode()).isEqualTo(405);
        assertThat(wrongMethod.headers().firstValue("Allow")).contains("GET");
        assertThat(send("GET", "/reload").statusCode()).isEqualTo(405);
        assertThat(send("GET", "/sessions/abc").statusCode()).isEqualTo(405);

        HttpResponse<String> oversized = http.send(HttpRequest.newBuilder(admin("/reload"))
                        .POST(HttpRequest.BodyPublishers.ofString("x".repeat(64 * 1024))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(oversized.statusCode()).isEqualTo(413);
    }

    @Test
    void aNonLoopbackAddressWithoutATokenRefusesToStart() {
        // Refused before binding: no socket is opened on the wildcard address.
        assertThatThrownBy(() -> ProxyFixture.start(postgres, b -> b.adminListen(new HostPort("0.0.0.0", 0))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("admin.token_file");
    }

    @Test
    void aConfiguredTokenIsRequiredAsABearerCredential(@TempDir Path dir) throws Exception {
        String token = "4f1c2b9e0d7a6c5b8e3f2a1d0c9b8a7f6e5d4c3b";
        Path tokenFile = Files.writeString(dir.resolve("admin.token"), token + "\n");
        try (ProxyFixture guarded = ProxyFixture.start(postgres,
                b -> b.adminListen(new HostPort("127.0.0.1", 0)).adminTokenFile(tokenFile))) {
            URI metrics = URI.create("http://127.0.0.1:" + guarded.proxy.adminAddress().orElseThrow().getPort() + "/metrics");
            HttpResponse<String> anonymous = http.send(HttpRequest.newBuilder(metrics).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(anonymous.statusCode()).isEqualTo(401);
            assertThat(anonymous.headers().firstValue("WWW-Authenticate")).contains("Bearer realm=\"pgpolicy\"");
            HttpResponse<String> wrong = http.send(HttpRequest.newBuilder(metrics)
                    .header("Authorization", "Bearer " + token.substring(1) + "x").build(), HttpResponse.BodyHandlers.ofString());
            assertThat(wrong.statusCode()).isEqualTo(401);
            HttpResponse<String> basic = http.send(HttpRequest.newBuilder(metrics)
                    .header("Authorization", "Basic " + token).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(basic.statusCode()).isEqualTo(401);
            HttpResponse<String> bearer = http.send(HttpRequest.newBuilder(metrics)
                    .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(bearer.statusCode()).isEqualTo(200);
            assertThat(PrometheusText.parse(bearer.body()).types).containsKey("pgpolicy_connections_total");
        }
        Path shortToken = Files.writeString(dir.resolve("short.token"), "secret");
        assertThatThrownBy(() -> ProxyFixture.start(postgres,
                b -> b.adminListen(new HostPort("127.0.0.1", 0)).adminTokenFile(shortToken)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("too short");
    }

    @Test
    void adminAddressIsAbsentWithoutAdminListen() {
        try (ProxyFixture plain = ProxyFixture.start(postgres)) {
            assertThat(plain.proxy.adminAddress()).isEqualTo(Optional.empty());
        }
    }
}
