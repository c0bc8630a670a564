package dev.pgpolicy.proxy.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.embedded.ProcessResult;
import dev.pgpolicy.proxy.testing.PgClient;
import dev.pgpolicy.proxy.testing.PostgresExtension;
import dev.pgpolicy.proxy.testing.ServeProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole proxy killed by SIGKILL while pgbench drives statements through it, three times on the
 * same audit directory: what each crash leaves verifies up to its last complete record (a torn last
 * line is reported as torn, never as tampering), and each restart continues the chain.
 */
@ExtendWith(PostgresExtension.class)
class ServeSigkillAuditTest {

    private static final String DB = "audit_sigkill";
    private static final int ROUNDS = 3;
    /** Audit bytes written through the proxy before the kill: enough that the kill lands mid-load. */
    private static final long GROWTH_BEFORE_KILL = 64 * 1024;
    /** A quick start matters more here than peak speed: four starts make most of the test's time. */
    private static final List<String> QUICK_START = List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");

    @Test
    void sigkillUnderPgbenchLoadThreeTimesLeavesAChainThatVerifiesAndContinues(EmbeddedPostgres postgres,
            @TempDir Path work) throws Exception {
        postgres.createDatabase(DB);
        ProcessResult init = PgClient.superuserOf(postgres).database(DB).pgbench("-i", "-s", "1", "-q", DB);
        assertThat(init.succeeded()).as(init.describe()).isTrue();
        Path policies = Files.createDirectories(work.resolve("policies"));
        Files.writeString(policies.resolve("load.pgpolicy"), """
                allow any all;
                @id("no-ddl") @reason("schema changes go through migrations")
                deny any ddl;
                audit any full;
                """);
        Files.writeString(policies.resolve("load.pgtest"), """
                test "no ddl through the proxy" {
                  as user "bench";
                  query "DROP TABLE public.pgbench_accounts";
                  expect deny by "no-ddl";
                }
                """);
        Path audit = work.resolve("audit");

        long lastSeq = 0;
        List<VerifyReport.TornTail> tornTails = new ArrayList<>();
        for (int round = 0; round < ROUNDS; round++) {
            int port = ServeProcess.freePort();
            ProcessResult load;
            try (ServeProcess serve = ServeProcess.start(work.resolve("serve-" + round + ".log"), QUICK_START,
                    serveArguments(postgres, port, policies, audit))) {
                // The process that gets SIGKILL must be the JVM itself, not a shell around it.
                assertThat(ProcessHandle.of(serve.pid()).orElseThrow().info().command().orElse(""))
                        .endsWith("/java");
                long sizeAtStart = totalSize(audit);
                PgClient client = PgClient.to("127.0.0.1", port).user(postgres.superuser())
                        .password(postgres.superuserPassword()).database(DB).sslMode("disable")
                        .timeout(Duration.ofSeconds(90));
                // -C: a new connection per transaction, so every transaction writes connection
                // records (open, auth, close) besides its statements' records.
                String mode = round == 1 ? "simple" : "prepared";
                CompletableFuture<ProcessResult> pgbench = CompletableFuture.supplyAsync(() ->
                        client.pgbench("-n", "-C", "-M", mode, "-c", "4", "-j", "2", "-T", "60", DB));
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (totalSize(audit) < sizeAtStart + GROWTH_BEFORE_KILL && System.nanoTime() < deadline
                        && !pgbench.isDone()) {
                    Thread.sleep(5);
                }
                assertThat(pgbench.isDone()).as("pgbench ended before the kill: %s",
                        pgbench.isDone() ? pgbench.join().describe() : "").isFalse();
                assertThat(totalSize(audit)).as("audit growth under load; serve log:\n%s",
                        String.join("\n", serve.logLines())).isGreaterThanOrEqualTo(
                        sizeAtStart + GROWTH_BEFORE_KILL);
                assertThat(serve.kill()).isEqualTo(ServeProcess.KILLED);
                load = pgbench.get(90, TimeUnit.SECONDS);
            }
            // The kill landed mid-run: pgbench lost its connections and says so.
            assertThat(load.succeeded()).as(load.describe()).isFalse();

            VerifyReport report = AuditFiles.verify(audit);
            assertThat(report.chainBreak()).as(report.summary()).isNull();
            AuditFiles.Cli cli = AuditFiles.cli("audit", "verify", audit.toString());
            if (report.tornTail() != null) {
                tornTails.add(report.tornTail());
                assertThat(report.summary()).startsWith("TORN: ").contains("interrupted write");
                assertThat(cli.exit()).as(cli.out() + cli.err()).isEqualTo(1);
                assertThat(cli.out()).startsWith("TORN: ");
            } else {
                assertThat(cli.exit()).as(cli.out() + cli.err()).isZero();
                assertThat(cli.out()).startsWith("OK: ");
            }
            assertThat(report.lastSeq()).as("records written in round %d", round).isGreaterThan(lastSeq + 50);
            lastSeq = report.lastSeq();
        }

        // One more start on the same directory, a statement, a graceful stop: the chain closes intact.
        int port = ServeProcess.freePort();
        try (ServeProcess serve = ServeProcess.start(work.resolve("serve-final.log"), QUICK_START,
                serveArguments(postgres, port, policies, audit))) {
            ProcessResult psql = PgClient.to("127.0.0.1", port).user(postgres.superuser())
                    .password(postgres.superuserPassword()).database(DB).sslMode("disable")
                    .psql("SELECT 'after the crashes'");
            assertThat(psql.succeeded()).as(psql.describe()).isTrue();
            assertThat(serve.stop()).isEqualTo(ServeProcess.TERMINATED);
        }
        AuditFiles.assertVerifiesBeyond(audit, lastSeq);

        List<JsonNode> records = AuditFiles.records(audit);
        List<JsonNode> starts = records.stream().filter(r -> r.get("event").asText().equals("log_start")).toList();
        assertThat(starts.get(0).get("reason").asText()).isEqualTo("new_log");
        assertThat(starts).filteredOn(s -> s.get("reason").asText().equals("restart")).hasSize(ROUNDS);
        // Each torn tail a crash left is named by the next start, which is what lets verify accept it.
        for (VerifyReport.TornTail tail : tornTails) {
            assertThat(starts).anySatisfy(start -> {
                JsonNode torn = start.get("torn");
                assertThat(torn.isNull()).isFalse();
                assertThat(torn.get("file").asText()).isEqualTo(tail.file().getFileName().toString());
                assertThat(torn.get("offset").asLong()).isEqualTo(tail.offset());
                assertThat(torn.get("length").asLong()).isEqualTo(tail.length());
            });
        }
        // Each round ran until the files grew by its quota: records of pgbench's sessions and of
        // their statements (the policy set audits statements) fill it.
        assertThat(records).filteredOn(r -> r.get("event").asText().equals("connection_open")
                && "pgbench".equals(r.get("application_name").asText())).hasSizeGreaterThan(ROUNDS);
        assertThat(records).filteredOn(r -> r.get("event").asText().equals("statement")
                && "pgbench".equals(r.get("application_name").asText())).hasSizeGreaterThan(ROUNDS * 15);
        // The session after the last restart is recorded after that restart's log_start.
        JsonNode lastStart = starts.get(starts.size() - 1);
        assertThat(records).anySatisfy(r -> {
            assertThat(r.get("event").asText()).isEqualTo("connection_close");
            assertThat(r.get("application_name").asText()).isEqualTo("psql");
            assertThat(r.get("seq").asLong()).isGreaterThan(lastStart.get("seq").asLong());
        });
    }

    private static List<String> serveArguments(EmbeddedPostgres postgres, int port, Path policies, Path audit) {
        return List.of("--listen", "127.0.0.1:" + port, "--upstream", postgres.host() + ":" + postgres.port(),
                "--policies", policies.toString(), "--audit", audit.toString());
    }

    private static long totalSize(Path directory) throws IOException {
        long total = 0;
        if (Files.isDirectory(directory)) {
            for (Path file : AuditFiles.files(directory)) {
                total += Files.size(file);
            }
        }
        return total;
    }
}
