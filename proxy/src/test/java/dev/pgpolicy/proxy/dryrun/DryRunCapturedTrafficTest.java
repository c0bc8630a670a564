package dev.pgpolicy.proxy.dryrun;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pgpolicy.proxy.audit.AuditConfig;
import dev.pgpolicy.proxy.audit.AuditConnection;
import dev.pgpolicy.proxy.audit.AuditDecision;
import dev.pgpolicy.proxy.audit.AuditLevel;
import dev.pgpolicy.proxy.audit.AuditLog;
import dev.pgpolicy.proxy.audit.AuditRecord;
import dev.pgpolicy.proxy.audit.AuditStatement;
import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.embedded.ProcessResult;
import dev.pgpolicy.proxy.testing.CommandRun;
import dev.pgpolicy.proxy.testing.PgClient;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dry-run against real recorded traffic: a private PostgreSQL logging every statement of the
 * test users to csvlog and jsonlog, tcpdump capturing psql and pgbench (simple, extended and
 * prepared protocols) on the loopback interface, and an audit log written by pgpolicy's own
 * writer. Every input must yield the same statements and the same decisions, and against a
 * baseline set the report must list exactly the statements whose decision changed.
 */
class DryRunCapturedTrafficTest {
    private static final String APP_PASSWORD = "app-secret-1";
    private static final String BENCH_PASSWORD = "bench-secret-1";
    private static final int TRANSACTIONS = 3;
    /** Two statements per pgbench transaction, three pgbench runs, three psql commands. */
    private static final int PGBENCH_STATEMENTS = 3 * TRANSACTIONS * 2;
    private static final int PSQL_STATEMENTS = 3;
    private static final int ALL_STATEMENTS = PGBENCH_STATEMENTS + PSQL_STATEMENTS;

    private static final String NEW_POLICY = """
            allow any select, update on app.accounts;
            allow any select on app.customers;
            allow any insert on app.events;
            @id("no-delete") deny any delete on app.customers;
            @id("no-truncate") deny any truncate on app.*;
            mask any app.customers.email with email();
            """;
    private static final String BASELINE_POLICY = """
            allow any select, update on app.accounts;
            allow any select, delete on app.customers;
            """;
    /** The new set with another mask only. */
    private static final String OTHER_MASK_POLICY = NEW_POLICY.replace("with email()", "with redact(\"***\")");

    @TempDir
    static Path work;

    private static EmbeddedPostgres postgres;
    private static Path pcap;
    private static Path csvlog;
    private static Path jsonlog;
    private static Path auditDirectory;
    private static Path policies;
    private static Path baseline;
    private static Path otherMask;

    @BeforeAll
    static void recordTraffic() throws Exception {
        Path logDirectory = work.resolve("pglog");
        Files.createDirectories(logDirectory);
        // The server runs as the postgres OS user when the tests run as root: let it write the logs here.
        openToEveryone(work);
        openToEveryone(logDirectory);
        postgres = EmbeddedPostgres.builder()
                .setting("logging_collector", "on")
                .setting("log_destination", "csvlog,jsonlog")
                .setting("log_directory", logDirectory.toString())
                .setting("log_filename", "server.log")
                .setting("log_file_mode", "0644")
                .start();
        postgres.createRole("app_user", APP_PASSWORD);
        postgres.createRole("bench_user", BENCH_PASSWORD);
        postgres.execute("postgres", """
                CREATE SCHEMA app;
                CREATE TABLE app.accounts (aid int PRIMARY KEY, abalance int NOT NULL DEFAULT 0);
                INSERT INTO app.accounts SELECT g, 0 FROM generate_series(1, 100) g;
                CREATE TABLE app.customers (id int PRIMARY KEY, email text NOT NULL);
                INSERT INTO app.customers VALUES (1, 'ana@example.com'), (99, 'zoe@example.com');
                CREATE TABLE app.events (id serial PRIMARY KEY, note text);
                GRANT USAGE ON SCHEMA app TO app_user, bench_user;
                GRANT ALL ON ALL TABLES IN SCHEMA app TO app_user, bench_user;
                GRANT USAGE ON ALL SEQUENCES IN SCHEMA app TO app_user, bench_user;
                ALTER ROLE app_user SET log_statement = 'all';
                ALTER ROLE bench_user SET log_statement = 'all';
                """);

        pcap = work.resolve("traffic.pcap");
        Capture tcpdump = startCapture(pcap, postgres.port());
        long dropped;
        try {
            PgClient app = PgClient.to(postgres.host(), postgres.port()).user("app_user").password(APP_PASSWORD)
                    .database("postgres").sslMode("disable").applicationName("billing");
            expectSuccess(app.psql("SELECT id, email FROM app.customers WHERE id = 1"));
            expectSuccess(app.psql("DELETE FROM app.customers WHERE id = 99"));
            expectSuccess(app.psql("INSERT INTO app.events (note) VALUES ('dry-run')"));

            Path script = work.resolve("bench.sql");
            Files.writeString(script, """
                    \\set aid random(1, 100)
                    SELECT abalance FROM app.accounts WHERE aid = :aid;
                    UPDATE app.accounts SET abalance = abalance + 1 WHERE aid = :aid;
                    """);
            PgClient bench = PgClient.to(postgres.host(), postgres.port()).user("bench_user").password(BENCH_PASSWORD)
                    .database("postgres").sslMode("disable");
            for (String mode : List.of("simple", "extended", "prepared")) {
                expectSuccess(bench.pgbench("-n", "-M", mode, "-c", "1", "-t", String.valueOf(TRANSACTIONS),
                        "-f", script.toString(), "postgres"));
            }
        } finally {
            dropped = stopCapture(tcpdump, pcap);
        }
        // A capture that lost packets would make the pcap assertions fail for a reason outside pgpolicy; say so plainly.
        assertThat(dropped).as("packets tcpdump reports dropped by the kernel (machine overloaded?)").isZero();
        postgres.stop();
        csvlog = logDirectory.resolve("server.csv");
        jsonlog = logDirectory.resolve("server.json");

        auditDirectory = work.resolve("audit");
        writeAuditLog(auditDirectory);

        policies = policySet("new", NEW_POLICY);
        baseline = policySet("baseline", BASELINE_POLICY);
        otherMask = policySet("other-mask", OTHER_MASK_POLICY);
    }

    @AfterAll
    static void stopServer() {
        if (postgres != null) {
            postgres.close();
        }
    }

    @Test
    void pcapOfPsqlAndPgbenchIsReadCompletely() {
        CommandRun run = CommandRun.of("dry-run", "--policies", policies.toString(), "--json", pcap.toString());
        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertSameTraffic(run.json(), run);
        assertThat(run.err()).as(run.toString()).doesNotContain("error:");
    }

    @Test
    void csvlogIsReadCompletely() {
        CommandRun run = CommandRun.of("dry-run", "--policies", policies.toString(), "--json", csvlog.toString());
        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertSameTraffic(run.json(), run);
    }

    @Test
    void jsonlogIsReadCompletely() {
        CommandRun run = CommandRun.of("dry-run", "--policies", policies.toString(), "--json", jsonlog.toString());
        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertSameTraffic(run.json(), run);
    }

    @Test
    void auditLogIsReadWithItsGroups() {
        CommandRun run = CommandRun.of("dry-run", "--policies", policies.toString(), "--json", auditDirectory.toString());
        assertThat(run.exitCode()).as(run.toString()).isZero();
        JsonNode report = run.json();
        assertThat(report.path("statements").asLong()).as(run.toString()).isEqualTo(ALL_STATEMENTS);
        assertThat(report.path("parsed").asLong()).isEqualTo(ALL_STATEMENTS);
        assertThat(report.path("decisions").path("deny").asLong()).as(run.toString()).isEqualTo(1);
        assertThat(byUser(report, "app_user")).containsEntry("deny", 1L).containsEntry("allow", 2L);
        assertThat(byUser(report, "bench_user")).containsEntry("allow", (long) PGBENCH_STATEMENTS);
    }

    @Test
    void againstBaselineListsExactlyTheChangedStatementsAndGatesTheExitStatus() {
        for (Path input : List.of(pcap, csvlog, jsonlog, auditDirectory)) {
            CommandRun run = CommandRun.of("dry-run", "--policies", policies.toString(), "--baseline", baseline.toString(),
                    "--json", input.toString());
            assertThat(run.exitCode()).as("default --fail-on any-change: " + run).isEqualTo(3);
            JsonNode changes = run.json().path("changes");
            List<String> summary = new ArrayList<>();
            changes.forEach(change -> summary.add(change.path("change").asText() + " " + change.path("user").asText() + " "
                    + change.path("before").asText() + "->" + change.path("after").asText() + " x" + change.path("count").asLong()
                    + " " + change.path("sql").asText()));
            assertThat(summary).as(input + "\n" + run).hasSize(3);
            assertThat(summary.get(0)).startsWith("newly-denied app_user allow->deny x1 delete from app.customers where id = ?");
            assertThat(summary.get(1)).startsWith("newly-allowed app_user deny->allow x1 insert into app.events(note) values(?)");
            assertThat(summary.get(2)).startsWith("mask-changed app_user allow->allow x1 select id, email from app.customers where id = ?");
            assertThat(changes.get(0).path("rules_after").get(0).asText()).isEqualTo("no-delete");
            assertThat(changes.get(2).path("masks_after").path("app.customers.email").asText()).isEqualTo("email()");
            assertThat(changes.get(2).path("masks_before").size()).isZero();
            assertThat(run.json().has("unused_rules")).isTrue();
        }
        assertThat(CommandRun.of("dry-run", "--policies", policies.toString(), "--baseline", baseline.toString(),
                "--fail-on", "none", pcap.toString()).exitCode()).isZero();
        assertThat(CommandRun.of("dry-run", "--policies", policies.toString(), "--baseline", baseline.toString(),
                "--fail-on", "newly-allowed", pcap.toString()).exitCode()).isEqualTo(3);

        // Only a mask differs: gating on denials and allows passes, gating on masks fails.
        CommandRun maskOnly = CommandRun.of("dry-run", "--policies", otherMask.toString(), "--baseline", policies.toString(),
                "--fail-on", "newly-denied,newly-allowed", "--json", csvlog.toString());
        assertThat(maskOnly.exitCode()).as(maskOnly.toString()).isZero();
        assertThat(maskOnly.json().path("changes")).hasSize(1);
        assertThat(maskOnly.json().path("changes").get(0).path("masks_after").path("app.customers.email").asText())
                .isEqualTo("redact(\"***\")");
        assertThat(CommandRun.of("dry-run", "--policies", otherMask.toString(), "--baseline", policies.toString(),
                "--fail-on", "mask-changed", csvlog.toString()).exitCode()).isEqualTo(3);

        // The same set on both sides: nothing changes, whatever the gate.
        CommandRun same = CommandRun.of("dry-run", "--policies", policies.toString(), "--baseline", policies.toString(),
                "--json", pcap.toString());
        assertThat(same.exitCode()).as(same.toString()).isZero();
        assertThat(same.json().path("changes")).isEmpty();
    }

    @Test
    void textReportNamesUsersRulesMasksAndUnusedRules() {
        CommandRun run = CommandRun.of("dry-run", "--policies", policies.toString(), pcap.toString());
        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(run.out())
                .contains("statements: " + ALL_STATEMENTS + ", parsed: " + ALL_STATEMENTS + " (100.0%)")
                .contains("deny       1x  user app_user: delete from app.customers where id = ?")
                .contains("by no-delete")
                .contains("masks app.customers.email with email()")
                .containsPattern("unused rules \\(1\\): no-truncate");
    }

    @Test
    void aBrokenPolicySetIsDiagnosticsAndExitOne() throws IOException {
        Path broken = policySet("broken", "allow any selec on app.accounts;\n");
        CommandRun run = CommandRun.of("dry-run", "--policies", broken.toString(), pcap.toString());
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).containsPattern("policy\\.pgpolicy:1:\\d+: error: ").doesNotContain("Exception").doesNotContain("\tat ");
        assertThat(run.out()).isEmpty();
    }

    @Test
    void aTruncatedCaptureIsReportedWithFileAndOffsetAndWhatWasReadIsReported() throws IOException {
        byte[] bytes = Files.readAllBytes(pcap);
        Path truncated = work.resolve("truncated.pcap");
        int cut = bytes.length * 2 / 3;
        Files.write(truncated, java.util.Arrays.copyOf(bytes, cut));
        CommandRun run = CommandRun.of("dry-run", "--policies", policies.toString(), "--json", truncated.toString());
        assertThat(run.exitCode()).as(run.toString()).isEqualTo(4);
        assertThat(run.err()).containsPattern("error: " + java.util.regex.Pattern.quote(truncated.toString())
                + ": at byte \\d+: file ends inside a");
        long statements = run.json().path("statements").asLong();
        assertThat(statements).as(run.toString()).isPositive().isLessThan(ALL_STATEMENTS);
    }

    /** The same statements and decisions, whichever input recorded them. */
    private static void assertSameTraffic(JsonNode report, CommandRun run) {
        assertThat(report.path("statements").asLong()).as(run.toString()).isEqualTo(ALL_STATEMENTS);
        assertThat(report.path("parsed").asLong()).as(run.toString()).isEqualTo(ALL_STATEMENTS);
        JsonNode decisions = report.path("decisions");
        assertThat(decisions.path("allow").asLong()).isEqualTo(ALL_STATEMENTS - 1);
        assertThat(decisions.path("deny").asLong()).isEqualTo(1);
        assertThat(decisions.path("masked").asLong()).isEqualTo(1);
        assertThat(byUser(report, "app_user")).containsEntry("deny", 1L).containsEntry("allow", 2L);
        assertThat(byUser(report, "bench_user")).containsEntry("allow", (long) PGBENCH_STATEMENTS).doesNotContainKey("deny");
        JsonNode denied = find(report, "deny");
        assertThat(denied.path("rules").get(0).asText()).isEqualTo("no-delete");
        // Reports show normalized SQL: the values clients sent stay out of CI logs.
        assertThat(denied.path("sql").asText()).isEqualTo("delete from app.customers where id = ?");
        assertThat(report.path("unused_rules")).hasSize(1);
        assertThat(report.path("unused_rules").get(0).asText()).isEqualTo("no-truncate");
        assertThat(report.has("changes")).isFalse();
    }

    private static Map<String, Long> byUser(JsonNode report, String user) {
        Map<String, Long> counts = new HashMap<>();
        report.path("decisions").path("entries").forEach(entry -> {
            if (entry.path("user").asText().equals(user)) {
                counts.merge(entry.path("decision").asText(), entry.path("count").asLong(), Long::sum);
            }
        });
        return counts;
    }

    private static JsonNode find(JsonNode report, String decision) {
        for (JsonNode entry : report.path("decisions").path("entries")) {
            if (entry.path("decision").asText().equals(decision)) {
                return entry;
            }
        }
        throw new AssertionError("no " + decision + " entry in " + report);
    }

    private static void writeAuditLog(Path directory) throws IOException {
        Files.createDirectories(directory);
        AuditConnection app = new AuditConnection("app_user", List.of("billing"), "app_user", "postgres", "billing",
                "127.0.0.1", 40_001, false);
        AuditConnection bench = new AuditConnection("bench_user", List.of(), "bench_user", "postgres", null,
                "127.0.0.1", 40_002, false);
        Instant now = Instant.now();
        try (AuditLog log = AuditLog.open(AuditConfig.defaults(directory))) {
            List<AuditRecord> records = new ArrayList<>();
            records.add(AuditRecord.connectionOpened(now, "s1", app, "r1"));
            records.add(statement(now, "s1", app, "select", "SELECT id, email FROM app.customers WHERE id = 1"));
            records.add(statement(now, "s1", app, "delete", "DELETE FROM app.customers WHERE id = 99"));
            records.add(statement(now, "s1", app, "insert", "INSERT INTO app.events (note) VALUES ('dry-run')"));
            for (int i = 0; i < PGBENCH_STATEMENTS / 2; i++) {
                records.add(statement(now, "s2", bench, "select", "SELECT abalance FROM app.accounts WHERE aid = " + (i + 1)));
                records.add(statement(now, "s2", bench, "update",
                        "UPDATE app.accounts SET abalance = abalance + 1 WHERE aid = " + (i + 1)));
            }
            // Metadata-level records have no text to replay; they are counted in a notice, not guessed at.
            records.add(AuditRecord.statement(now, "s2", bench,
                    AuditStatement.builder(AuditLevel.METADATA, "select", AuditDecision.ALLOW).sql("SELECT 1", "SELECT $1").build(),
                    "r1"));
            for (AuditRecord record : records) {
                assertThat(log.append(record)).isTrue();
            }
        }
    }

    private static AuditRecord statement(Instant time, String session, AuditConnection connection, String kind, String sql) {
        return AuditRecord.statement(time, session, connection,
                AuditStatement.builder(AuditLevel.FULL, kind, AuditDecision.ALLOW).sql(sql, sql).build(), "r1");
    }

    private static Path policySet(String name, String text) throws IOException {
        Path directory = work.resolve("policies-" + name);
        Files.createDirectories(directory);
        Files.writeString(directory.resolve("policy.pgpolicy"), text);
        return directory;
    }

    private static void expectSuccess(ProcessResult result) {
        assertThat(result.succeeded()).as(result.describe()).isTrue();
    }

    private static void openToEveryone(Path directory) throws IOException {
        Files.setPosixFilePermissions(directory, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
    }

    /** A running tcpdump and everything it writes to standard error (its statistics come at exit). */
    private record Capture(Process process, CompletableFuture<String> messages) {
    }

    /** tcpdump on the loopback interface; returns once it reports that it is capturing. */
    private static Capture startCapture(Path file, int port) throws IOException, InterruptedException {
        Process process = new ProcessBuilder("tcpdump", "-i", "lo", "--immediate-mode", "-B", "16384", "-U", "-n",
                "-Z", "root", "-w", file.toString(), "tcp", "port", String.valueOf(port)).start();
        CompletableFuture<Void> listening = new CompletableFuture<>();
        CompletableFuture<String> messages = CompletableFuture.supplyAsync(() -> {
            StringBuilder all = new StringBuilder();
            try (BufferedReader stderr = new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = stderr.readLine()) != null) {
                    all.append(line).append('\n');
                    if (line.contains("listening on")) {
                        listening.complete(null);
                    }
                }
            } catch (IOException e) {
                all.append(e.getMessage());
            }
            listening.completeExceptionally(new IllegalStateException("tcpdump ended: " + all));
            return all.toString();
        });
        try {
            listening.get(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            process.destroyForcibly();
            throw new IllegalStateException("tcpdump did not start", e);
        }
        return new Capture(process, messages);
    }

    /**
     * Lets tcpdump write the last packets (the kernel hands them over asynchronously; the file
     * must stop growing for a second), then stops it with SIGTERM, on which it flushes and closes
     * the file. Returns the number of packets the kernel dropped, from tcpdump's statistics.
     */
    private static long stopCapture(Capture capture, Path file) throws Exception {
        long size = Files.size(file);
        for (int stable = 0, round = 0; stable < 5 && round < 100; round++) {
            Thread.sleep(200);
            long now = Files.size(file);
            stable = now == size ? stable + 1 : 0;
            size = now;
        }
        capture.process().destroy();
        if (!capture.process().waitFor(30, TimeUnit.SECONDS)) {
            capture.process().destroyForcibly();
        }
        String messages = capture.messages().get(30, TimeUnit.SECONDS);
        java.util.regex.Matcher dropped = java.util.regex.Pattern.compile("(\\d+) packets? dropped by kernel").matcher(messages);
        return dropped.find() ? Long.parseLong(dropped.group(1)) : 0;
    }
}
