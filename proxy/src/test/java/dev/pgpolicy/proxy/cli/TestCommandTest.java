package dev.pgpolicy.proxy.cli;

import static dev.pgpolicy.proxy.cli.CheckCommandTest.assertNothingAlarming;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpolicy.proxy.testing.CommandRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TestCommandTest {

    private static final String POLICY = """
            role app = user == "svc";
            allow any session;
            allow app select, insert on shop.*;
            @id("no-ddl") @reason("migrations only") deny any ddl;
            """;

    @TempDir
    Path dir;

    @Test
    void theExamplePoliciesAllPass() {
        CommandRun run = CommandRun.of("test", Path.of("..", "policies").toString());

        assertThat(run.exitCode()).as(run.all()).isZero();
        List<String> lines = run.out().lines().toList();
        assertThat(lines).hasSize(1);
        assertThat(lines.get(0)).matches("\\d+ passed, 0 failed");
        assertThat(Integer.parseInt(lines.get(0).split(" ")[0])).isGreaterThanOrEqualTo(40);
    }

    @Test
    void failuresArePrintedOnePerLineAndTheLastLineCountsCases() throws IOException {
        Files.writeString(dir.resolve("shop.pgpolicy"), POLICY);
        Files.writeString(dir.resolve("shop.pgtest"), """
                test "passes" {
                  as user "svc";
                  query "SELECT id FROM shop.orders";
                  expect allow;
                }
                test "fails twice" {
                  as user "svc";
                  query "DROP TABLE shop.orders";
                  expect allow;
                  query "DELETE FROM shop.orders";
                  expect allow;
                }
                test "fails once" {
                  as user "svc";
                  query "SELECT id FROM shop.orders";
                  expect deny by "no-ddl";
                }
                """);
        CommandRun run = CommandRun.of("test", dir.toString());

        assertThat(run.exitCode()).isEqualTo(1);
        Path file = dir.resolve("shop.pgtest");
        assertThat(run.out().lines().toList()).containsExactly(
                file + ":9:3: test \"fails twice\": expected allow, got deny by no-ddl (migrations only)"
                        + " for \"DROP TABLE shop.orders\"",
                file + ":11:3: test \"fails twice\": expected allow, got deny (no allow rule covers delete on shop.orders)"
                        + " for \"DELETE FROM shop.orders\"",
                file + ":16:3: test \"fails once\": expected deny by \"no-ddl\", got allow"
                        + " for \"SELECT id FROM shop.orders\"",
                "1 passed, 2 failed");
        assertNothingAlarming(run);
    }

    @Test
    void aBrokenPolicySetFailsWithItsDiagnostics() throws IOException {
        Files.writeString(dir.resolve("shop.pgpolicy"), POLICY + "allow ghost select;\n");
        Files.writeString(dir.resolve("shop.pgtest"), """
                test "a" { as user "svc"; query "SELECT id FROM shop.orders"; expect allow; }
                """);
        CommandRun run = CommandRun.of("test", dir.toString());

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.out()).contains(dir.resolve("shop.pgpolicy") + ":5:7: error: unknown role 'ghost'");
        assertThat(run.out().lines().reduce((a, b) -> b).orElseThrow()).isEqualTo("0 passed, 1 failed");
        assertNothingAlarming(run);
    }

    @Test
    void noTestsIsAFailureNotASilentSuccess() throws IOException {
        Files.writeString(dir.resolve("shop.pgpolicy"), POLICY);
        CommandRun run = CommandRun.of("test", dir.toString());

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.out().lines().toList()).containsExactly(
                dir + ":1:1: error: no .pgtest files in this directory", "0 passed, 0 failed");
    }

    @Test
    void severalDirectoriesAddUp() throws IOException {
        for (String name : List.of("one", "two")) {
            Path set = Files.createDirectory(dir.resolve(name));
            Files.writeString(set.resolve("p.pgpolicy"), POLICY);
            Files.writeString(set.resolve("t.pgtest"), """
                    test "x" { as user "svc"; query "INSERT INTO shop.orders (id) VALUES (1)"; expect allow; }
                    test "y" { as user "other"; query "INSERT INTO shop.orders (id) VALUES (1)"; expect deny; }
                    """);
        }
        CommandRun run = CommandRun.of("test", dir.resolve("one").toString(), dir.resolve("two").toString());

        assertThat(run.exitCode()).as(run.all()).isZero();
        assertThat(run.out().strip()).isEqualTo("4 passed, 0 failed");
    }
}
