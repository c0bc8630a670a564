package dev.pgpolicy.proxy.dryrun;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pgpolicy.proxy.testing.CommandRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command's options and exit statuses, on small logs written by the test. */
class DryRunCommandTest {
    private static final String ENTRY = "2026-03-04 10:00:00.000 UTC,\"%s\",\"shop\",1,\"10.0.0.5:4000\",s.1,1,\"idle\","
            + "2026-03-04 09:00:00 UTC,3/1,0,LOG,00000,\"statement: %s\",,,,,,,,,\"psql\",\"client backend\",,0\n";

    @TempDir
    Path directory;

    private Path policies;
    private Path log;

    @BeforeEach
    void writeFiles() throws IOException {
        policies = directory.resolve("policies");
        Files.createDirectories(policies.resolve("nested"));
        Files.writeString(policies.resolve("roles.pgpolicy"), "role analyst = \"bi\" in groups;\n");
        Files.writeString(policies.resolve("nested").resolve("rules.pgpolicy"), """
                @id("analysts-read") allow analyst select on app.reports;
                """);
        log = directory.resolve("server.log");
        Files.writeString(log, String.format(ENTRY, "ana", "SELECT id FROM app.reports") + String.format(ENTRY, "bob",
                "SELECT id FROM app.reports"));
    }

    private static long denied(CommandRun run) {
        JsonNode report = run.json();
        return report.path("decisions").path("deny").asLong();
    }

    @Test
    void groupsComeFromTheOptionOrAUsersFile() throws IOException {
        CommandRun without = CommandRun.of("dry-run", "--policies", policies.toString(), "--format", "csvlog", "--json",
                log.toString());
        assertThat(without.exitCode()).as(without.toString()).isZero();
        assertThat(denied(without)).isEqualTo(2);

        CommandRun option = CommandRun.of("dry-run", "--policies", policies.toString(), "--format", "csvlog", "--json",
                "--groups", "ana=bi|other", log.toString());
        assertThat(denied(option)).as(option.toString()).isEqualTo(1);
        assertThat(option.json().path("unused_rules")).isEmpty();

        Path users = directory.resolve("users.yaml");
        Files.writeString(users, """
                users:
                  bob: { scram: "SCRAM-SHA-256$4096:c2FsdA==$a2V5:a2V5", groups: [bi], upstream: analyst_ro }
                """);
        CommandRun file = CommandRun.of("dry-run", "--policies", policies.toString(), "--format", "csvlog", "--json",
                "--users", users.toString(), log.toString());
        assertThat(denied(file)).as(file.toString()).isEqualTo(1);
    }

    @Test
    void aMissingOrUnrecognisedInputIsAnErrorAndTheRestIsStillReported() throws IOException {
        Path unknown = directory.resolve("notes.txt");
        Files.writeString(unknown, "nothing a dry-run can read\n");
        Path csv = directory.resolve("server.csv");
        Files.copy(log, csv);
        CommandRun run = CommandRun.of("dry-run", "--policies", policies.toString(), "--json", csv.toString(),
                unknown.toString(), directory.resolve("missing.pcap").toString());
        assertThat(run.exitCode()).as(run.toString()).isEqualTo(4);
        assertThat(run.err()).contains(unknown + ": cannot tell the format").contains("missing.pcap: no such file");
        assertThat(run.json().path("statements").asLong()).isEqualTo(2);
    }

    @Test
    void usageErrorsAreExitTwo() {
        assertThat(CommandRun.of("dry-run", "--policies", policies.toString(), "--fail-on", "sometimes", log.toString())
                .exitCode()).isEqualTo(2);
        assertThat(CommandRun.of("dry-run", "--policies", policies.toString(), "--format", "wav", log.toString())
                .exitCode()).isEqualTo(2);
        assertThat(CommandRun.of("dry-run", "--policies", policies.toString(), "--groups", "nobody", log.toString())
                .exitCode()).isEqualTo(2);
        assertThat(CommandRun.of("dry-run", "--policies", policies.toString()).exitCode()).isEqualTo(2);
    }

    @Test
    void aMissingPolicyDirectoryOrBaselineIsADiagnostic() {
        CommandRun run = CommandRun.of("dry-run", "--policies", policies.toString(), "--baseline",
                directory.resolve("nowhere").toString(), log.toString());
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("nowhere:1:1: error: no such policy directory or file");
        assertThat(run.out()).isEmpty();
    }
}
