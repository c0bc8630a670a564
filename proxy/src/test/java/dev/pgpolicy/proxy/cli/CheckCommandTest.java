package dev.pgpolicy.proxy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpolicy.proxy.testing.CommandRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckCommandTest {

    @TempDir
    Path dir;

    @Test
    void fiveDifferentMistakesGiveFiveDiagnosticsWithPositionsInOneRun() throws IOException {
        Path file = dir.resolve("five.pgpolicy");
        Files.writeString(file, """
                role analyst = "bi" in groups;
                allow analyts select on payments.orders;
                allow analyst selec on payments.orders;
                mask analyst payments.customers.email with emali();
                guard any tautologyy deny;
                audit analyst loud;
                """);
        CommandRun run = CommandRun.of("check", file.toString());

        assertThat(run.exitCode()).isEqualTo(1);
        List<String> lines = run.out().lines().toList();
        String name = file.toString();
        assertThat(lines).hasSize(5);
        assertThat(lines.get(0)).startsWith(name + ":2:7: error: unknown role 'analyts'");
        assertThat(lines.get(1)).startsWith(name + ":3:15: error: unknown action 'selec'");
        assertThat(lines.get(2)).startsWith(name + ":4:44: error: unknown mask function 'emali'");
        assertThat(lines.get(3)).startsWith(name + ":5:11: error: unknown heuristic 'tautologyy'");
        assertThat(lines.get(4)).startsWith(name + ":6:15: error: unknown audit level 'loud'");
        assertThat(run.err().strip()).isEqualTo(name + ": 5 errors");
        assertNothingAlarming(run);
    }

    @Test
    void syntaxAndSemanticErrorsAcrossFilesOfOneSetAreAllReported() throws IOException {
        Files.writeString(dir.resolve("a.pgpolicy"), "role app = user == \"svc\";\nallow app select on x.y\n");
        Files.writeString(dir.resolve("b.pgpolicy"), "allow ghost select on x.y;\n");
        CommandRun run = CommandRun.of("check", dir.toString());

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.out()).contains(dir.resolve("a.pgpolicy") + ":").contains(dir.resolve("b.pgpolicy") + ":1:7: error: unknown role 'ghost'");
        assertThat(run.out().lines()).allMatch(line -> line.matches(".+:\\d+:\\d+: (error|warning): .+"));
        assertNothingAlarming(run);
    }

    @Test
    void aValidSetPrintsNoDiagnosticsAndASummary() throws IOException {
        Files.writeString(dir.resolve("ok.pgpolicy"), """
                role app = user == "svc";
                allow any session;
                allow app select on shop.*;
                """);
        CommandRun run = CommandRun.of("check", dir.toString());

        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).isEmpty();
        assertThat(run.err().strip()).isEqualTo(dir + ": OK (1 file, 2 rules)");
    }

    @Test
    void theExampleSetsCheckCleanly() {
        Path examples = Path.of("..", "policies");
        CommandRun run = CommandRun.of("check",
                examples.resolve("pci-payments").toString(),
                examples.resolve("hipaa-clinical").toString(),
                examples.resolve("saas-multitenant").toString(),
                examples.resolve("language-example").toString());

        assertThat(run.exitCode()).as(run.all()).isZero();
        assertThat(run.out()).isEmpty();
        assertThat(run.err().lines()).hasSize(4).allMatch(line -> line.contains(": OK ("));
    }

    @Test
    void warningsAloneDoNotFail() throws IOException {
        Files.writeString(dir.resolve("unused.pgpolicy"), """
                role app = user == "svc";
                role never_used = user == "nobody";
                allow app select on shop.*;
                """);
        CommandRun run = CommandRun.of("check", dir.toString());

        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).contains(": warning: ");
        assertThat(run.err()).contains(": OK (").contains("1 warning");
    }

    @Test
    void fileArgumentsTogetherFormOneSet() throws IOException {
        Path roles = dir.resolve("roles.pgpolicy");
        Path rules = dir.resolve("rules.pgpolicy");
        Files.writeString(roles, "role app = user == \"svc\";\n");
        Files.writeString(rules, "allow app select on shop.*;\n");

        CommandRun together = CommandRun.of("check", roles.toString(), rules.toString());
        assertThat(together.exitCode()).as(together.all()).isZero();

        CommandRun alone = CommandRun.of("check", rules.toString());
        assertThat(alone.exitCode()).isEqualTo(1);
        assertThat(alone.out()).contains(rules + ":1:7: error: unknown role 'app'");
    }

    @Test
    void unreadableAndMissingFilesAreDiagnosticsNotStackTraces() throws IOException {
        Path binary = dir.resolve("binary.pgpolicy");
        Files.write(binary, new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1, 2});
        Path missing = dir.resolve("missing.pgpolicy");
        CommandRun run = CommandRun.of("check", binary.toString(), missing.toString());

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.out().lines()).containsExactly(
                binary + ":1:1: error: file is not valid UTF-8",
                missing + ":1:1: error: no such file or directory");
        assertNothingAlarming(run);
    }

    @Test
    void aDirectoryWithoutPoliciesIsAnError() throws IOException {
        Path empty = Files.createDirectory(dir.resolve("empty"));
        CommandRun run = CommandRun.of("check", empty.toString());

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.out().strip()).isEqualTo(empty + ":1:1: error: no .pgpolicy files in this directory");
    }

    @Test
    void hostileInputStillEndsInDiagnostics() throws IOException {
        Files.writeString(dir.resolve("deep.pgpolicy"),
                "role r = " + "(".repeat(5000) + "tls" + ")".repeat(5000) + ";\n" + "\u0000\uFEFF\uD83D\uDE00 allow");
        CommandRun run = CommandRun.of("check", dir.toString());

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.out()).contains(": error: ");
        assertNothingAlarming(run);
    }

    @Test
    void withoutArgumentsItIsAUsageError() {
        CommandRun run = CommandRun.of("check");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("Missing required parameter");
    }

    static void assertNothingAlarming(CommandRun run) {
        assertThat(run.all())
                .doesNotContain("Exception")
                .doesNotContain("\tat ")
                .doesNotContain("internal error");
    }
}
