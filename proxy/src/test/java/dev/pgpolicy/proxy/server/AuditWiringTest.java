package dev.pgpolicy.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pgpolicy.proxy.cli.PgPolicyCommand;
import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.embedded.ProcessResult;
import dev.pgpolicy.proxy.testing.PostgresExtension;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Connection events of real psql sessions reach the audit log, and the log verifies. */
@ExtendWith(PostgresExtension.class)
class AuditWiringTest {

    private static final String DB = "audit_wiring";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path work;

    @Test
    void aScriptedPsqlSessionLeavesConnectionRecordsThatVerify(EmbeddedPostgres postgres) throws Exception {
        postgres.createDatabase(DB);
        Path auditDir = work.resolve("audit");
        try (ProxyFixture fixture = ProxyFixture.start(postgres, b -> b.auditDir(auditDir))) {
            assertThat(fixture.proxy.audit()).isPresent();
            ProcessResult session = fixture.client(DB).applicationName("audited-script")
                    .psqlScript("SELECT 1;\nCREATE TEMP TABLE t (id int);\nINSERT INTO t VALUES (1);\n");
            assertThat(session.succeeded()).as(session.describe()).isTrue();
            ProcessResult refused = fixture.client(DB).applicationName("audited-refused")
                    .password("not the password").psql("SELECT 1");
            assertThat(refused.succeeded()).isFalse();
        }

        List<JsonNode> records = records(auditDir);
        JsonNode opened = only(records, "connection_open", "audited-script");
        String sessionId = opened.get("session").asText();
        assertThat(opened.get("user").asText()).isEqualTo(postgres.superuser());
        assertThat(opened.get("database").asText()).isEqualTo(DB);
        assertThat(opened.get("client_addr").asText()).isEqualTo("127.0.0.1");
        assertThat(opened.get("tls").asBoolean()).isFalse();

        JsonNode auth = only(records, "auth", "audited-script");
        assertThat(auth.get("session").asText()).isEqualTo(sessionId);
        assertThat(auth.get("outcome").asText()).isEqualTo("success");
        assertThat(auth.get("auth_method").asText()).isEqualTo("scram-sha-256");

        JsonNode closed = only(records, "connection_close", "audited-script");
        assertThat(closed.get("session").asText()).isEqualTo(sessionId);
        assertThat(closed.get("duration_us").asLong()).isPositive();
        assertThat(closed.get("reason").asText()).contains("client terminated the session").contains("bytes_in=");

        JsonNode failedAuth = only(records, "auth", "audited-refused");
        assertThat(failedAuth.get("outcome").asText()).isEqualTo("failure");
        assertThat(failedAuth.get("reason").asText()).contains("password authentication failed");
        JsonNode failedClose = only(records, "connection_close", "audited-refused");
        assertThat(failedClose.get("reason").asText()).contains("authentication_failed");

        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = PgPolicyCommand.newCommandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int exit = cli.execute("audit", "verify", auditDir.toString());
        assertThat(exit).as(out + "\n" + err).isZero();
    }

    @Test
    void anAuditDirectoryThatCannotBeOpenedStopsTheStart(EmbeddedPostgres postgres) throws Exception {
        Path notADirectory = Files.writeString(work.resolve("audit"), "a file where the directory should be");
        assertThatThrownBy(() -> ProxyFixture.start(postgres, b -> b.auditDir(notADirectory)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cannot open the audit log in " + notADirectory);
    }

    private static JsonNode only(List<JsonNode> records, String event, String applicationName) {
        List<JsonNode> matching = records.stream()
                .filter(r -> r.get("event").asText().equals(event)
                        && applicationName.equals(r.path("application_name").asText()))
                .toList();
        assertThat(matching).as(event + " for " + applicationName + " in " + records).hasSize(1);
        return matching.get(0);
    }

    private static List<JsonNode> records(Path directory) throws Exception {
        List<JsonNode> records = new ArrayList<>();
        List<Path> files;
        try (Stream<Path> listing = Files.list(directory)) {
            files = listing.filter(p -> p.getFileName().toString().endsWith(".jsonl")).sorted().toList();
        }
        assertThat(files).isNotEmpty();
        for (Path file : files) {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                records.add(JSON.readTree(line));
            }
        }
        return records;
    }
}
