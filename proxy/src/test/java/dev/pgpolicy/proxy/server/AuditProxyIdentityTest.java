package dev.pgpolicy.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.embedded.ProcessResult;
import dev.pgpolicy.proxy.scram.ScramVerifier;
import dev.pgpolicy.proxy.testing.PgClient;
import dev.pgpolicy.proxy.testing.PostgresExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code auth.mode: proxy}: policies see the proxy user's groups, service account and method, and
 * every audit record of the session names them.
 */
@ExtendWith(PostgresExtension.class)
class AuditProxyIdentityTest {

    private static final String USER = "pia";
    private static final String PASSWORD = "pia's passphrase";
    /** Allows only what the users file's groups and the mapped account make true. */
    private static final String POLICY = """
            role auditors = "auditors" in groups and auth == "scram" and db_user == "aud_app";
            allow auditors session;
            allow auditors select on public.customers;
            audit auditors full;
            """;

    @TempDir
    Path work;

    @Test
    void recordsAndDecisionsUseTheProxyUsersIdentity(EmbeddedPostgres postgres) throws Exception {
        Path auditDir = work.resolve("audit");
        Files.createDirectories(work.resolve("secrets"));
        Files.writeString(work.resolve("secrets/app"), AuditedProxy.PASSWORD + "\n");
        Path users = Files.writeString(work.resolve("users.yaml"), """
                users:
                  %s: { scram: "%s", groups: [auditors, staff], upstream: app }
                accounts:
                  app: { user: %s, password_file: secrets/app }
                """.formatted(USER, ScramVerifier.generate(PASSWORD.toCharArray(), 4096, new SecureRandom()).encode(),
                AuditedProxy.APP));
        try (AuditedProxy proxy = AuditedProxy.start(postgres, work, POLICY,
                b -> b.authMode(ProxyConfig.AuthMode.PROXY).usersFile(users).auditDir(auditDir))) {
            ProcessResult select = PgClient.to("127.0.0.1", proxy.proxy.address().getPort()).user(USER)
                    .password(PASSWORD).database(AuditedProxy.DB).sslMode("disable")
                    .applicationName("audit-identity").psql("SELECT name FROM customers WHERE id = 1");
            assertThat(select.succeeded()).as(select.describe()).isTrue();
            assertThat(select.stdout()).contains("Ada Lovelace");
        }

        List<JsonNode> records = AuditedProxy.records(auditDir).stream()
                .filter(r -> "audit-identity".equals(r.path("application_name").asText())).toList();
        JsonNode statement = records.stream().filter(r -> r.get("event").asText().equals("statement")).findFirst()
                .orElseThrow(() -> new AssertionError("no statement record in " + records));
        assertThat(statement.get("decision").asText()).isEqualTo("allow");
        assertThat(statement.get("rows").asLong()).isEqualTo(1);
        JsonNode auth = records.stream().filter(r -> r.get("event").asText().equals("auth")).findFirst()
                .orElseThrow(() -> new AssertionError("no auth record in " + records));
        assertThat(auth.get("auth_method").asText()).isEqualTo("scram");
        for (String event : List.of("auth", "statement", "connection_close")) {
            JsonNode record = records.stream().filter(r -> r.get("event").asText().equals(event)).findFirst()
                    .orElseThrow(() -> new AssertionError("no " + event + " record in " + records));
            assertThat(record.get("user").asText()).isEqualTo(USER);
            assertThat(record.get("groups").toString()).isEqualTo("[\"auditors\",\"staff\"]");
            assertThat(record.get("db_user").asText()).isEqualTo(AuditedProxy.APP);
            assertThat(record.get("policy_revision").asText()).startsWith("sha256 ");
        }
        AuditedProxy.assertVerifies(auditDir);
    }
}
