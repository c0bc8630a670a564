package dev.pgpolicy.proxy.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.embedded.ProcessResult;
import dev.pgpolicy.proxy.testing.PgClient;
import dev.pgpolicy.proxy.testing.PostgresExtension;
import dev.pgpolicy.proxy.testing.ServeProcess;
import dev.pgpolicy.proxy.testing.WireSession;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
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
 * Bind/Execute, prepared statements). During the round of prepared statements, raw protocol
 * clients also run an INSERT prepared with SQL {@code PREPARE}, by protocol Bind naming it and by
 * {@code EXECUTE}. Every row the database holds afterwards is an executed statement, and every
 * one of them must have a statement record in the verified chain that names its token, in the
 * text (simple protocol, EXECUTE) or in the Bind parameters (level {@code full}).
 */
@ExtendWith(PostgresExtension.class)
class ServeSigkillFailClosedTest {

    private static final String DB = "audit_sigkill_fail_closed";
    /** Rows inserted through the proxy before the kill: enough that the kill lands mid-load. */
    private static final int ROWS_BEFORE_KILL = 150;
    private static final List<String> QUICK_START = List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");
    /** The tokens are 13 to 19 digits long; nothing else in the records' text or parameters is. */
    private static final Pattern TOKEN = Pattern.compile("\\d{13,19}");
    /** Rows the SQL-PREPAREd clients insert before the kill, alongside pgbench's prepared round. */
    private static final int SQL_PREPARED_ROWS_BEFORE_KILL = 60;
    private static final String SQL_PREPARED = "sqlprepared";

    /**
     * One round per way of sending statements: pgbench's protocol mode and its script, and
     * whether SQL-PREPAREd clients run beside it.
     */
    private record Round(String via, String mode, String script, boolean withSqlPrepared) {
        Round(String via, String mode, String script) {
            this(via, mode, script, false);
        }
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
                    """, true));

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
            long sqlPreparedAtStart = rows(postgres, SQL_PREPARED);
            int port = ServeProcess.freePort();
            ProcessResult load;
            SqlPreparedClients sqlPrepared = null;
            try (ServeProcess serve = ServeProcess.start(work.resolve("serve-" + round.via() + ".log"), QUICK_START,
                    serveArguments(postgres, port, policies, config))) {
                PgClient client = PgClient.to("127.0.0.1", port).user(postgres.superuser())
                        .password(postgres.superuserPassword()).database(DB).sslMode("disable")
                        .timeout(Duration.ofSeconds(90));
                CompletableFuture<ProcessResult> pgbench = CompletableFuture.supplyAsync(() -> client.pgbench(
                        "-n", "-M", round.mode(), "-f", script.toString(), "-c", "4", "-j", "2", "-T", "60", DB));
                if (round.withSqlPrepared()) {
                    sqlPrepared = SqlPreparedClients.start(port, postgres);
                }
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while ((rows(postgres, round.via()) < rowsAtStart + ROWS_BEFORE_KILL || round.withSqlPrepared()
                        && rows(postgres, SQL_PREPARED) < sqlPreparedAtStart + SQL_PREPARED_ROWS_BEFORE_KILL)
                        && System.nanoTime() < deadline && !pgbench.isDone()) {
                    Thread.sleep(10);
                }
                assertThat(pgbench.isDone()).as("pgbench ended before the kill: %s",
                        pgbench.isDone() ? pgbench.join().describe() : "").isFalse();
                assertThat(rows(postgres, round.via())).as("rows inserted through the proxy; serve log:\n%s",
                        String.join("\n", serve.logLines())).isGreaterThanOrEqualTo(rowsAtStart + ROWS_BEFORE_KILL);
                if (sqlPrepared != null) {
                    assertThat(rows(postgres, SQL_PREPARED)).as("rows inserted by SQL-PREPAREd statements")
                            .isGreaterThanOrEqualTo(sqlPreparedAtStart + SQL_PREPARED_ROWS_BEFORE_KILL);
                }
                assertThat(serve.kill()).isEqualTo(ServeProcess.KILLED);
                load = pgbench.get(90, TimeUnit.SECONDS);
            }
            assertThat(load.succeeded()).as("the kill landed mid-run: %s", load.describe()).isFalse();
            if (sqlPrepared != null) {
                // Nothing refused before the kill: every Bind and EXECUTE of the statement ran.
                assertThat(sqlPrepared.awaitEnd()).isEmpty();
            }

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

    /** Statement records of the ledger's INSERTs, run directly or by EXECUTE of a prepared one. */
    private static List<JsonNode> ledgerRecords(List<JsonNode> records) {
        return records.stream().filter(r -> r.get("event").asText().equals("statement")
                && (r.get("kind").asText().equals("insert") || r.get("kind").asText().equals("execute"))).toList();
    }

    /**
     * Two raw protocol clients that {@code PREPARE} an INSERT with SQL and run it until the proxy
     * dies: three times by a protocol Bind naming it (the token in the Bind parameters), once by
     * {@code EXECUTE} (the token in the text). No driver binds a statement prepared with SQL.
     */
    private static final class SqlPreparedClients {
        private final List<Thread> threads = new ArrayList<>();
        /** What went wrong other than the connection ending with the proxy. */
        private final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();

        static SqlPreparedClients start(int port, EmbeddedPostgres postgres) {
            SqlPreparedClients clients = new SqlPreparedClients();
            for (int i = 0; i < 2; i++) {
                Thread thread = new Thread(() -> clients.run(port, postgres), "sql-prepared-client-" + i);
                thread.setDaemon(true);
                clients.threads.add(thread);
                thread.start();
            }
            return clients;
        }

        private void run(int port, EmbeddedPostgres postgres) {
            try (WireSession session = WireSession.login("127.0.0.1", port, postgres.superuser(),
                    postgres.superuserPassword(), DB)) {
                WireSession.Reply prepared = session.query("PREPARE ins (bigint) AS INSERT INTO ledger (token, via)"
                        + " VALUES ($1, '" + SQL_PREPARED + "')");
                if (prepared.sqlState() != null) {
                    failures.add("PREPARE: " + prepared.messages());
                    return;
                }
                for (long n = 0; ; n++) {
                    String token = Long.toString(
                            ThreadLocalRandom.current().nextLong(1_000_000_000_000L, 9_000_000_000_000_000_000L));
                    WireSession.Reply reply = n % 4 == 3 ? session.query("EXECUTE ins(" + token + ")")
                            : session.bindAndExecute("ins", token);
                    if (reply.sqlState() != null) {
                        failures.add("execution " + n + ": " + reply.messages());
                        return;
                    }
                }
            } catch (UncheckedIOException e) {
                // The proxy was killed: the connection ends, and so does the client.
            } catch (IllegalStateException e) {
                failures.add("login: " + e.getMessage());
            }
        }

        /** The failures, once every client has ended (they do when the proxy dies). */
        List<String> awaitEnd() throws InterruptedException {
            for (Thread thread : threads) {
                thread.join(TimeUnit.SECONDS.toMillis(90));
                assertThat(thread.isAlive()).as("%s ended with the proxy", thread.getName()).isFalse();
            }
            return List.copyOf(failures);
        }
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
