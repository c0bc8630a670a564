package dev.pgpolicy.proxy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpolicy.proxy.embedded.ExternalCommand;
import dev.pgpolicy.proxy.embedded.ProcessResult;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The demo end to end and in-process: `pgpolicy demo` starts, the psql commands it prints work
 * as pasted (through the proxy, over TLS), and stopping it leaves no process and no file.
 */
class DemoCommandTest {
    private static final Pattern PSQL_LINE = Pattern.compile("^  (PGPASSWORD='[^']+' psql \"[^\"]+\")$", Pattern.MULTILINE);
    private static final Pattern POSTMASTER_DIR = Pattern.compile("and (/\\S+) is deleted\\.");

    @Test
    void printedCommandsWorkThroughTheProxyAndStopLeavesNothing() throws Exception {
        StringWriter output = new StringWriter();
        CommandLine commandLine = PgPolicyCommand.newCommandLine();
        commandLine.setOut(new PrintWriter(output, true));
        Thread runner = new Thread(() -> commandLine.execute("demo", "--listen", "127.0.0.1:0"), "demo-under-test");
        CompletableFuture<Void> finished = new CompletableFuture<>();
        runner.setUncaughtExceptionHandler((thread, error) -> finished.completeExceptionally(error));
        runner.start();
        try {
            String instructions = awaitInstructions(output, runner);
            List<String> commands = PSQL_LINE.matcher(instructions).results().map(m -> m.group(1)).toList();
            assertThat(commands).hasSize(4);

            // Pasted as a user would, through a shell; the analyst line with sslmode=require.
            ProcessResult analyst = shell(commands.get(1) + " -X -A -t -c \"SELECT count(*) FROM payments.customers\"");
            assertThat(analyst.exitCode()).as(analyst.describe()).isZero();
            assertThat(analyst.stdout().strip()).isEqualTo("5000");

            // The demo's policy set is enforced: the analyst sees masks, the dba clear values,
            // and the application cannot change the schema.
            String personalData = " -X -A -t -c 'SELECT ssn, card_number, email FROM payments.customers WHERE id = 1'";
            ProcessResult masked = shell(commands.get(1) + personalData);
            assertThat(masked.exitCode()).as(masked.describe()).isZero();
            assertThat(masked.stdout().strip()).matches("\\*\\*\\*-\\*\\*-\\*\\*\\*\\*\\|XXXX-XXXX-XXXX-[0-9]{4}\\|[a-z]\\*+@example\\.com");
            ProcessResult clear = shell(commands.get(2) + personalData);
            assertThat(clear.exitCode()).as(clear.describe()).isZero();
            assertThat(clear.stdout().strip()).matches("9[0-9]{2}-[0-9]{2}-[0-9]{4}\\|[0-9]{16}\\|[a-z.]+[0-9]+@example\\.com");
            // Audit and admin are on: the printed admin URL answers, and the printed verify
            // command checks the chain the sessions above wrote.
            Matcher admin = Pattern.compile("http://127\\.0\\.0\\.1:(\\d+)/metrics").matcher(instructions);
            assertThat(admin.find()).as(instructions).isTrue();
            java.net.http.HttpResponse<String> metrics = java.net.http.HttpClient.newHttpClient().send(
                    java.net.http.HttpRequest.newBuilder(java.net.URI.create(admin.group(0))).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(metrics.statusCode()).isEqualTo(200);
            assertThat(metrics.body()).contains("pgpolicy_connections_total");
            Matcher verify = Pattern.compile("bin/pgpolicy audit verify (\\S+)").matcher(instructions);
            assertThat(verify.find()).as(instructions).isTrue();
            // The log is live: a record may be mid-write when verify reads it (a torn tail), so a
            // few attempts are allowed; a broken chain fails every one of them.
            int auditVerify = -1;
            for (int attempt = 0; attempt < 20 && auditVerify != 0; attempt++) {
                auditVerify = PgPolicyCommand.newCommandLine().execute("audit", "verify", verify.group(1));
                if (auditVerify != 0) {
                    Thread.sleep(100);
                }
            }
            assertThat(auditVerify).isZero();

            // The printed dry-run replays the statements the audit log recorded against the
            // proposed set: the analyst's order query, run above as a user would, is newly denied.
            ProcessResult orders = shell(commands.get(1)
                    + " -X -A -t -c 'SELECT status, count(*), sum(amount) FROM payments.orders GROUP BY status'");
            assertThat(orders.exitCode()).as(orders.describe()).isZero();
            Matcher dryRun = Pattern.compile("bin/pgpolicy (dry-run --policies \\S+ --baseline \\S+ \\S+)").matcher(instructions);
            assertThat(dryRun.find()).as(instructions).isTrue();
            String report = "";
            int dryRunExit = -1;
            // The orders statement's record is written by the log's own thread: allow it a moment.
            // The report shows statements in their normalized form, keywords in lower case.
            for (int attempt = 0; attempt < 50 && !report.contains("payments.orders group by"); attempt++) {
                StringWriter dryRunOutput = new StringWriter();
                CommandLine dryRunCommand = PgPolicyCommand.newCommandLine();
                dryRunCommand.setOut(new PrintWriter(dryRunOutput, true));
                dryRunExit = dryRunCommand.execute(dryRun.group(1).split(" "));
                report = dryRunOutput.toString();
                if (!report.contains("payments.orders group by")) {
                    Thread.sleep(100);
                }
            }
            assertThat(report).contains("1 newly denied", "user analyst: select status, count(*), sum(amount) from payments.orders group by status",
                    "orders-app-only");
            assertThat(dryRunExit).as(report).isEqualTo(3);

            ProcessResult ddl = shell(commands.get(0) + " -X -v VERBOSITY=verbose -c 'DROP TABLE payments.orders'");
            assertThat(ddl.exitCode()).as(ddl.describe()).isNotZero();
            assertThat(ddl.stderr()).contains("42501", "no-ddl").as(ddl.describe());

            // The verify-full line checks the proxy's certificate against the printed CA file.
            ProcessResult verified = shell(commands.get(3)
                    + " -X -A -t -c 'SELECT full_name FROM payments.customers WHERE id = 1'");
            assertThat(verified.exitCode()).as(verified.describe()).isZero();
            assertThat(verified.stdout().strip()).isNotEmpty();

            // psql's own view of the session: TLS to the proxy's port, authenticated as app.
            ProcessResult app = shell(commands.get(0) + " -X -c '\\conninfo'");
            assertThat(app.exitCode()).as(app.describe()).isZero();
            Matcher port = Pattern.compile("port=(\\d+)").matcher(commands.get(0));
            assertThat(port.find()).isTrue();
            assertThat(app.stdout()).contains("as user \"app\"", "at port \"" + port.group(1) + "\"", "SSL connection");

            Matcher directory = POSTMASTER_DIR.matcher(instructions);
            assertThat(directory.find()).isTrue();
            Path base = Path.of(directory.group(1));
            List<Long> postgresProcesses = postgresProcessesUnder(base);
            assertThat(postgresProcesses).isNotEmpty();

            runner.interrupt(); // As Ctrl-C ends the wait; the command then closes the demo.
            runner.join(TimeUnit.MINUTES.toMillis(2));
            assertThat(runner.isAlive()).isFalse();

            assertThat(base).doesNotExist();
            assertThat(postgresProcesses).allSatisfy(pid ->
                    assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse());
            ProcessResult afterStop = shell(commands.get(0) + " -X -c 'SELECT 1'");
            assertThat(afterStop.exitCode()).isNotZero();
            assertThat(afterStop.stderr()).contains("Connection refused");
        } finally {
            runner.interrupt();
            runner.join(TimeUnit.MINUTES.toMillis(2));
        }
    }

    @Test
    void listenAddressInUseIsReportedWithoutLeavingAnything() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            StringWriter err = new StringWriter();
            CommandLine commandLine = PgPolicyCommand.newCommandLine();
            commandLine.setErr(new PrintWriter(err, true));
            java.util.Set<Path> before = embeddedDirectories();

            int exit = commandLine.execute("demo", "--listen", "127.0.0.1:" + taken.getLocalPort());

            assertThat(exit).isEqualTo(1);
            assertThat(err.toString()).startsWith("pgpolicy demo: ").contains("cannot listen on 127.0.0.1:" + taken.getLocalPort());
            assertThat(embeddedDirectories()).isSubsetOf(before);
        }
    }

    @Test
    void malformedListenAddressIsAUsageError() {
        StringWriter err = new StringWriter();
        CommandLine commandLine = PgPolicyCommand.newCommandLine();
        commandLine.setErr(new PrintWriter(err, true));

        assertThat(commandLine.execute("demo", "--listen", "nonsense")).isEqualTo(2);
        assertThat(err.toString()).contains("pgpolicy demo: --listen: expected HOST:PORT");
    }

    /**
     * This JVM's embedded cluster directories under java.io.tmpdir, recognised by the owner marker
     * naming our pid: other JVMs on the machine may be starting clusters at the same time.
     */
    private static java.util.Set<Path> embeddedDirectories() throws java.io.IOException {
        String ownerPrefix = ProcessHandle.current().pid() + " ";
        try (var entries = java.nio.file.Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            return entries.filter(p -> p.getFileName().toString().startsWith("pgpolicy-pg-"))
                    .filter(p -> {
                        try {
                            return java.nio.file.Files.readString(p.resolve("owner")).startsWith(ownerPrefix);
                        } catch (java.io.IOException gone) {
                            return false;
                        }
                    })
                    .collect(java.util.stream.Collectors.toSet());
        }
    }

    private static String awaitInstructions(StringWriter output, Thread runner) throws InterruptedException {
        // Polls for the end of the printed text; bounded so a failed start fails the test.
        for (int i = 0; i < 1200 && runner.isAlive(); i++) {
            String text = output.toString();
            if (text.contains("Press Ctrl-C to stop")) {
                return text;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the demo printed no instructions; output so far:\n" + output);
    }

    private static ProcessResult shell(String commandLine) {
        return ExternalCommand.of("sh", "-c", commandLine).timeout(Duration.ofMinutes(1)).run();
    }

    /** The postmaster and its children, found by their data directory on the command line. */
    private static List<Long> postgresProcessesUnder(Path base) {
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().map(c -> c.contains(base.toString())).orElse(false))
                .flatMap(p -> java.util.stream.Stream.concat(java.util.stream.Stream.of(p), p.descendants()))
                .map(ProcessHandle::pid)
                .distinct()
                .toList();
    }
}
