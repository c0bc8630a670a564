package dev.pgpolicy.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;

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
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code audit.fail_closed}: while the audit log cannot write, new sessions are refused with
 * 57P03 and {@code /readyz} says why; once it recovers, sessions are admitted again. The tests
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
}
