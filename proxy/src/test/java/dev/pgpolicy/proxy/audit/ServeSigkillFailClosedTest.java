package dev.pgpolicy.proxy.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.embedded.ProcessResult;
import dev.pgpolicy.proxy.testing.PgClient;
import dev.pgpolicy.proxy.testing.PostgresExtension;
import dev.pgpolicy.proxy.testing.ServeProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * With {@code audit.fail_closed: true}, no statement runs without its record, even when the proxy
 * is killed by SIGKILL under load: pgbench inserts rows that each carry a random token into a
 * ledger table through {@code serve}, which is killed three times on the same audit directory,
 * once per way of sending statements (multi-statement simple Queries, pipelined extended-protocol
 * Bind/Execute, prepared statements). Every row the database holds afterwards is an executed
 * statement, and every one of them must have a statement record in the verified chain that names
 * its token, in the text (simple protocol) or in the Bind parameters (level {@code full}).
 */
@ExtendWith(PostgresExtension.class)
class ServeSigkillFailClosedTest {

    private static final String DB = "audit_sigkill_fail_closed";
    /** Rows inserted through the proxy before the kill: enough that the kill lands mid-load. */
    private static final int ROWS_BEFORE_KILL = 150;
    private static final List<String> QUICK_START = List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");
    /** The tokens are 13 to 19 digits long; nothing else in the records' text or parameters is. */
    private static final Pattern TOKEN = Pattern.compile("\\d{13,19}");

    /** One round per way of sending statements: pgbench's protocol mode and its script. */
    private record Round(String via, String mode, String script) {
    }

    private static final List<Round> ROUNDS = List.of(
            // "\;" joins the two INSERTs into one Query message with two statements.
            new Round("simple", "simple", """
                    \\set a random(1000000000000, 9000000000000000000)
                    \\set b random(1000000000000, 9000000000000000000)
                    INSERT INTO ledger (token, via) VALUES (:a, 'simple') \\; INSERT INTO ledger (token, via) VALUES (:b, 'simple');
                    """),
            // Both Bind/Execute pairs are sent before the Sync that ends the pipeline.
            new Round("pipeline", "extended", """
                    \\set a random(1000000000000, 9000000000000000000)
                    \\set b random(1000000000000, 9000000000000000000)
                    \\startpipeline
                    INSERT INTO ledger (token, via) VALUES (:a, 'pipeline');
                    INSERT INTO ledger (token, via) VALUES (:b, 'pipeline');
                    \\endpipeline
                    """),
            new Round("prepared", "prepared", """
                    \\set a random(1000000000000, 9000000000000000000)
                    INSERT INTO ledger (token, via) VALUES (:a, 'prepared');
                    """));

    @Test
    void everyRowInsertedBeforeAKillHasItsRecordInTheVerifiedChain(EmbeddedPostgres postgres, @TempDir Path work)
            throws Exception {
        postgres.createDatabase(DB);
        postgres.execute(DB, "CREATE TABLE ledger (token bigint NOT NULL, via text NOT NULL);\n");
        Path policies = Files.createDirectories(work.resolve("policies"));
        Files.writeString(policies.resolve("ledger.pgpolicy"), """
                allow any all;
                audit any full;
                """);
        Path audit = work.resolve("audit");
        Path config = work.resolve("pgpolicy.yaml");
        Files.writeString(config, "audit: { dir: \"" + audit + "\", fail_closed: true }\n");

        long lastSeq = 0;
        for (Round round : ROUNDS) {
            Path script = work.resolve(round.via() + ".pgbench");
            Files.writeString(script, round.script());
            long rowsAtStart = rows(postgres, round.via());
            int port = ServeProcess.freePort();
            ProcessResult load;
            try (ServeProcess serve = ServeProcess.start(work.resolve("serve-" + round.via() + ".log"), QUICK_START,
                    serveArguments(postgres, port, policies, config))) {
                PgClient client = PgClient.to("127.0.0.1", port).user(postgres.superuser())
                        .password(postgres.superuserPassword()).database(DB).sslMode("disable")
                        .timeout(Duration.ofSeconds(90));
                CompletableFuture<ProcessResult> pgbench = CompletableFuture.supplyAsync(() -> client.pgbench(
                        "-n", "-M", round.mode(), "-f", script.toString(), "-c", "4", "-j", "2", "-T", "60", DB));
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (rows(postgres, round.via()) < rowsAtStart + ROWS_BEFORE_KILL && System.nanoTime() < deadline
                        && !pgbench.isDone()) {
                    Thread.sleep(10);
                }
                assertThat(pgbench.isDone()).as("pgbench ended before the kill: %s",
                        pgbench.isDone() ? pgbench.join().describe() : "").isFalse();
                assertThat(rows(postgres, round.via())).as("rows inserted through the proxy; serve log:\n%s",
                        String.join("\n", serve.logLines())).isGreaterThanOrEqualTo(rowsAtStart + ROWS_BEFORE_KILL);
                assertThat(serve.kill()).isEqualTo(ServeProcess.KILLED);
                load = pgbench.get(90, TimeUnit.SECONDS);
            }
            assertThat(load.succeeded()).as("the kill landed mid-run: %s", load.describe()).isFalse();

            VerifyReport report = AuditFiles.verify(audit);
            assertThat(report.chainBreak()).as(report.summary()).isNull();
            assertThat(report.lastSeq()).as("records written in round %s", round.via()).isGreaterThan(lastSeq);
            lastSeq = report.lastSeq();
            // Checked after every kill, not only at the end: a later round must not hide a hole.
            assertEveryRowHasItsRecord(postgres, audit);
        }

        // A last start, a graceful stop: the chain across the three crashes verifies with exit 0.
        int port = ServeProcess.freePort();
        try (ServeProcess serve = ServeProcess.start(work.resolve("serve-final.log"), QUICK_START,
                serveArguments(postgres, port, policies, config))) {
            ProcessResult psql = PgClient.to("127.0.0.1", port).user(postgres.superuser())
                    .password(postgres.superuserPassword()).database(DB).sslMode("disable")
                    .psql("INSERT INTO ledger (token, via) VALUES (1000000000001, 'after the crashes')");
            assertThat(psql.succeeded()).as(psql.describe()).isTrue();
            assertThat(serve.stop()).isEqualTo(ServeProcess.TERMINATED);
        }
        AuditFiles.assertVerifiesBeyond(audit, lastSeq);
        assertEveryRowHasItsRecord(postgres, audit);

        List<JsonNode> records = AuditFiles.records(audit);
        assertThat(records).filteredOn(r -> r.get("event").asText().equals("log_start")
                && r.get("reason").asText().equals("restart")).hasSize(ROUNDS.size());
        // Written before the statement ran, so fail_closed records carry no outcome.
        assertThat(ledgerRecords(records)).isNotEmpty().allSatisfy(r -> {
            assertThat(r.get("decision").asText()).isEqualTo("allow");
            assertThat(r.get("rows").isNull()).as(r.toString()).isTrue();
        });
    }

    /**
     * Every token in the ledger is named by a statement record of the chain as it is on disk now
     * (complete lines only: a torn tail is an unconfirmed write, never a record a statement waited for).
     */
    private static void assertEveryRowHasItsRecord(EmbeddedPostgres postgres, Path audit) throws Exception {
        Set<String> recorded = new HashSet<>();
        for (JsonNode record : ledgerRecords(AuditFiles.records(audit))) {
            Matcher inText = TOKEN.matcher(record.get("text").asText());
            while (inText.find()) {
                recorded.add(inText.group());
            }
            for (JsonNode parameter : record.get("parameters")) {
                recorded.add(parameter.asText());
            }
        }
        List<String> executed = new ArrayList<>();
        for (List<String> row : postgres.query(DB, "SELECT token::text FROM ledger")) {
            executed.add(row.get(0));
        }
        assertThat(executed).isNotEmpty();
        List<String> unrecorded = executed.stream().filter(token -> !recorded.contains(token)).toList();
        assertThat(unrecorded).as("rows of %d in the ledger without a statement record (%d tokens recorded)",
                executed.size(), recorded.size()).isEmpty();
    }

    private static List<JsonNode> ledgerRecords(List<JsonNode> records) {
        return records.stream().filter(r -> r.get("event").asText().equals("statement")
                && r.get("kind").asText().equals("insert")).toList();
    }

    private static long rows(EmbeddedPostgres postgres, String via) {
        return Long.parseLong(postgres.query(DB, "SELECT count(*) FROM ledger WHERE via = '" + via + "'")
                .get(0).get(0));
    }

    private static List<String> serveArguments(EmbeddedPostgres postgres, int port, Path policies, Path config) {
        return List.of("--config", config.toString(), "--listen", "127.0.0.1:" + port,
                "--upstream", postgres.host() + ":" + postgres.port(), "--policies", policies.toString());
    }
}
