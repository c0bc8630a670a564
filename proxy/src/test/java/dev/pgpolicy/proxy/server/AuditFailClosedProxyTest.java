package dev.pgpolicy.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;

import dev.pgpolicy.proxy.audit.AuditLog;
import dev.pgpolicy.proxy.config.HostPort;
import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.embedded.ProcessResult;
import dev.pgpolicy.proxy.testing.PostgresExtension;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code audit.fail_closed}: while the audit log cannot write, new sessions are refused with
 * 57P03 and {@code /readyz} says why, and open sessions have their statements refused with 58030;
 * once it recovers, sessions are admitted and statements run again. The tests
 * run as root, for whom permission bits stop nothing, so a regular file standing where the
 * directory should be makes the next rotation fail (ENOTDIR).
 */
@ExtendWith(PostgresExtension.class)
class AuditFailClosedProxyTest {

    private static final String DB = "audit_fail_closed";

    @TempDir
    Path work;

    @Test
    void anUnwritableLogRefusesNewSessionsUntilItRecovers(EmbeddedPostgres postgres) throws Exception {
        postgres.createDatabase(DB);
        Path auditDir = work.resolve("audit");
        Path movedAway = work.resolve("audit-moved");
        HttpClient http = HttpClient.newHttpClient();
        try (ProxyFixture fixture = ProxyFixture.start(postgres, b -> b.auditDir(auditDir).auditFailClosed(true)
                .auditMaxFileBytes(2048).adminListen(new HostPort("127.0.0.1", 0)))) {
            AuditLog log = fixture.proxy.audit().orElseThrow();
            URI readyz = URI.create("http://127.0.0.1:" + fixture.proxy.adminAddress().orElseThrow().getPort() + "/readyz");
            ProcessResult first = fixture.client(DB).psql("SELECT 1");
            assertThat(first.succeeded()).as(first.describe()).isTrue();

            Files.move(auditDir, movedAway);
            Files.writeString(auditDir, "not a directory");
            ProcessResult refused = null;
            // Each session writes three records of a few hundred bytes; the rotation that follows
            // a full 2 KiB file fails, and from then on the log is unhealthy.
            for (int i = 0; i < 30 && refused == null; i++) {
                ProcessResult attempt = fixture.client(DB).psql("SELECT 1");
                if (!attempt.succeeded()) {
                    refused = attempt;
                }
            }
            assertThat(refused).as("a session refused while the audit log cannot write").isNotNull();
            assertThat(refused.stderr()).contains("the audit log cannot be written");
            assertThat(log.healthy()).isFalse();
            HttpResponse<String> notReady = http.send(HttpRequest.newBuilder(readyz).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(notReady.statusCode()).isEqualTo(503);
            assertThat(notReady.body()).contains("the audit log is failing");

            Files.delete(auditDir);
            Files.move(movedAway, auditDir);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!log.healthy() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(log.healthy()).isTrue();
            ProcessResult after = fixture.client(DB).psql("SELECT 1");
            assertThat(after.succeeded()).as(after.describe()).isTrue();
            assertThat(http.send(HttpRequest.newBuilder(readyz).build(), HttpResponse.BodyHandlers.ofString())
                    .statusCode()).isEqualTo(200);
        }
    }

    @Test
    void anUnwritableLogRefusesStatementsOfOpenSessionsUntilItRecovers(EmbeddedPostgres postgres) throws Exception {
        Path auditDir = work.resolve("statements-audit");
        Path movedAway = work.resolve("statements-audit-moved");
        try (AuditedProxy proxy = AuditedProxy.start(postgres, work,
                b -> b.auditDir(auditDir).auditFailClosed(true).auditMaxFileBytes(4096));
                Connection extended = proxy.jdbc(AuditedProxy.APP);
                Connection simple = proxy.jdbc(AuditedProxy.APP, "preferQueryMode=simple");
                Statement viaExtended = extended.createStatement();
                Statement viaSimple = simple.createStatement()) {
            AuditLog log = proxy.proxy.audit().orElseThrow();
            viaExtended.execute("INSERT INTO notes VALUES (1000)");
            viaSimple.execute("INSERT INTO notes VALUES (2000)");

            Files.move(auditDir, movedAway);
            Files.writeString(auditDir, "not a directory");
            // Every statement writes a record of a few hundred bytes; the rotation that follows a
            // full 4 KiB file fails, and the statement whose record it was is refused.
            SQLException refused = null;
            int refusedValue = 0;
            for (int i = 1; i <= 60 && refused == null; i++) {
                try {
                    viaExtended.execute("INSERT INTO notes VALUES (" + (1000 + i) + ")");
                } catch (SQLException e) {
                    refused = e;
                    refusedValue = 1000 + i;
                }
            }
            assertThat((Throwable) refused).as("a statement refused while the audit log cannot write").isNotNull();
            assertThat(refused.getSQLState()).isEqualTo("58030");
            assertThat(refused.getMessage()).contains("the audit log cannot be written");
            assertThat(notes(postgres, refusedValue)).as("the refused INSERT did not run").isZero();
            assertThat(log.healthy()).isFalse();

            // While the log is failed, both protocols refuse at once, and nothing runs.
            assertStatementRefused(() -> viaExtended.execute("INSERT INTO notes VALUES (1999)"));
            assertStatementRefused(() -> viaSimple.execute("INSERT INTO notes VALUES (2999)"));
            assertThat(notes(postgres, 1999) + notes(postgres, 2999)).isZero();

            Files.delete(auditDir);
            Files.move(movedAway, auditDir);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!log.healthy() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(log.healthy()).isTrue();
            // The same sessions go on: their statements run again.
            viaExtended.execute("INSERT INTO notes VALUES (1998)");
            viaSimple.execute("INSERT INTO notes VALUES (2998)");
            assertThat(notes(postgres, 1998) + notes(postgres, 2998)).isEqualTo(2);
        }
        List<JsonNode> records = AuditedProxy.records(auditDir);
        List<String> audited = records.stream().filter(r -> r.get("event").asText().equals("statement"))
                .map(r -> r.get("text").asText()).toList();
        // Every statement that ran has its record; the log names what it lost while failed.
        assertThat(audited).contains("INSERT INTO notes VALUES (1000)", "INSERT INTO notes VALUES (2000)",
                "INSERT INTO notes VALUES (1998)", "INSERT INTO notes VALUES (2998)");
        assertThat(records.stream().anyMatch(r -> r.get("event").asText().equals("log_start")
                && r.get("reason").asText().equals("recovery"))).as("a recovery log_start").isTrue();
        AuditedProxy.assertVerifies(auditDir);
    }

    private static long notes(EmbeddedPostgres postgres, int id) {
        return Long.parseLong(postgres.query(AuditedProxy.DB, "SELECT count(*) FROM notes WHERE id = " + id)
                .get(0).get(0));
    }

    private static void assertStatementRefused(org.assertj.core.api.ThrowableAssert.ThrowingCallable statement) {
        assertThatThrownBy(statement).isInstanceOfSatisfying(SQLException.class, e -> {
            assertThat(e.getSQLState()).isEqualTo("58030");
            assertThat(e.getMessage()).contains("the audit log cannot be written");
        });
    }
}
