package dev.pgpolicy.policy.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.pgpolicy.lang.Diagnostic;
import dev.pgpolicy.sql.SqlAnalyzer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyTestRunnerTest {

    private static final String POLICY = """
            role app     = user == "svc" and client_ip in 10.0.0.0/8;
            role local   = client_ip in 127.0.0.0/8;
            role analyst = "bi" in groups;
            role office_hours = "bi" in groups and hour between 9 and 17;

            allow any      session;
            @id("app-rw") allow app read, write on shop.*;
            @id("analyst-read") allow analyst select on shop.orders, shop.customers;
            @id("local-read") allow local select on shop.orders;
            @id("office-read") allow office_hours select on shop.reports;
            @id("no-ddl") @reason("migrations only") deny any ddl;
            @id("no-email-filter") deny analyst filter on column shop.customers.email;
            mask analyst shop.customers.email with email();
            mask analyst shop.customers.card with partial(0, "XXXX-", 4);
            guard any tautology deny;
            guard analyst catalog_probe warn;
            """;

    /** Noon UTC: inside office hours, so a case without {@code at} sees hour 12. */
    private static final Clock NOON = Clock.fixed(Instant.parse("2026-03-04T12:00:00Z"), ZoneOffset.UTC);

    private static SqlAnalyzer analyzer;

    @TempDir
    Path dir;

    @BeforeAll
    static void startAnalyzer() {
        analyzer = PolicyTestRunner.offlineAnalyzer();
    }

    @AfterAll
    static void stopAnalyzer() {
        analyzer.close();
    }

    private TestReport run(String tests) throws IOException {
        Files.writeString(dir.resolve("shop.pgpolicy"), POLICY);
        Files.writeString(dir.resolve("shop.pgtest"), tests);
        try (PolicyTestRunner runner = new PolicyTestRunner(analyzer, NOON)) {
            return runner.run(List.of(dir));
        }
    }

    @Test
    void passingCasesAreCounted() throws IOException {
        TestReport report = run("""
                test "app writes" {
                  as user "svc" from 10.1.2.3;
                  query "INSERT INTO shop.orders (id) VALUES (1)";
                  expect allow;
                  query "DROP TABLE shop.orders";
                  expect deny by "no-ddl";
                }
                test "analyst masks" {
                  as user "ana" groups ("bi") from 10.9.9.9;
                  query "SELECT email, card FROM shop.customers";
                  expect allow;
                  expect mask shop.customers.email with email;
                  expect mask shop.customers.card with partial(0, "XXXX-", 4);
                  query "SELECT id FROM shop.customers WHERE email = 'a@b.c'";
                  expect deny by "no-email-filter";
                  query "SELECT id FROM shop.orders WHERE id = 1 OR 1=1";
                  expect deny by "guard.tautology";
                }
                """);
        assertThat(report.diagnostics()).isEmpty();
        assertThat(report.failures()).isEmpty();
        assertThat(report.passed()).isEqualTo(2);
        assertThat(report.failed()).isZero();
        assertThat(report.successful()).isTrue();
        assertThat(report.summary()).isEqualTo("2 passed, 0 failed");
    }

    @Test
    void aFailingExpectationNamesItsPositionAndTheActualDecision() throws IOException {
        TestReport report = run("""
                test "passes" {
                  as user "svc" from 10.1.2.3;
                  query "SELECT id FROM shop.orders";
                  expect allow;
                }
                test "wrong on purpose" {
                  as user "svc" from 10.1.2.3;
                  query "DROP TABLE shop.orders";
                  expect allow;
                }
                """);
        assertThat(report.passed()).isEqualTo(1);
        assertThat(report.failed()).isEqualTo(1);
        assertThat(report.successful()).isFalse();
        assertThat(report.summary()).isEqualTo("1 passed, 1 failed");
        assertThat(report.failures()).hasSize(1);
        String expectedFile = dir.resolve("shop.pgtest").toString().replace('\\', '/');
        assertThat(report.failures().get(0).toString()).isEqualTo(expectedFile + ":9:3: test \"wrong on purpose\": "
                + "expected allow, got deny by no-ddl (migrations only) for \"DROP TABLE shop.orders\"");
    }

    @Test
    void everyFailingExpectationOfACaseIsReportedAndTheCaseCountsOnce() throws IOException {
        TestReport report = run("""
                test "three wrong expectations" {
                  as user "ana" groups ("bi");
                  query "SELECT email FROM shop.customers";
                  expect deny;
                  expect mask shop.customers.email with hash;
                  expect mask shop.customers.card with partial(1, "X", 1);
                  query "SELECT relname FROM pg_catalog.pg_class";
                  expect warn tautology;
                }
                """);
        assertThat(report.failed()).isEqualTo(1);
        assertThat(report.failures()).extracting(TestFailure::message).containsExactly(
                "expected deny, got allow for \"SELECT email FROM shop.customers\"",
                "expected mask shop.customers.email with hash, got email() for \"SELECT email FROM shop.customers\"",
                "expected mask shop.customers.card with partial(1, \"X\", 1), got partial(0, \"XXXX-\", 4) "
                        + "for \"SELECT email FROM shop.customers\"",
                "expected warn tautology, got findings [catalog_probe=warn] "
                        + "for \"SELECT relname FROM pg_catalog.pg_class\"");
    }

    @Test
    void denyByRequiresEveryListedId() throws IOException {
        TestReport report = run("""
                test "ids" {
                  as user "ana" groups ("bi");
                  query "SELECT id FROM shop.customers WHERE email = 'x' OR 1=1";
                  expect deny by "no-email-filter", "guard.tautology";
                  expect deny by "guard.tautology";
                  expect deny by "no-email-filter", "no-ddl";
                }
                """);
        assertThat(report.failures()).extracting(TestFailure::message).singleElement().asString()
                .startsWith("expected deny by \"no-email-filter\", \"no-ddl\", got deny by ");
    }

    @Test
    void missingSessionAttributesTakeTheDocumentedDefaults() throws IOException {
        TestReport report = run("""
                test "no from means 127.0.0.1, no at means now" {
                  as user "nobody";
                  query "SELECT id FROM shop.orders";
                  expect allow;
                }
                test "no groups means no groups" {
                  as user "ana" from 10.9.9.9;
                  query "SELECT id FROM shop.customers";
                  expect deny;
                }
                test "time now comes from the clock (noon)" {
                  as user "ana" groups ("bi") from 10.9.9.9;
                  query "SELECT id FROM shop.reports";
                  expect allow;
                }
                test "an explicit time overrides it" {
                  as user "ana" groups ("bi") from 10.9.9.9 at "2026-03-04T20:00:00Z";
                  query "SELECT id FROM shop.reports";
                  expect deny;
                }
                """);
        assertThat(report.failures()).isEmpty();
        assertThat(report.passed()).isEqualTo(4);
    }

    @Test
    void unqualifiedNamesResolveToPublicBecauseTheUserSchemaIsAssumedAbsent() throws IOException {
        TestReport report = run("""
                test "orders is public.orders, not shop.orders" {
                  as user "svc" from 10.1.2.3;
                  query "SELECT id FROM orders";
                  expect deny;
                }
                """);
        assertThat(report.failures()).isEmpty();
        assertThat(report.passed()).isEqualTo(1);
    }

    @Test
    void aQueryWithoutExpectationsFails() throws IOException {
        TestReport report = run("""
                test "forgot the expectation" {
                  as user "svc" from 10.1.2.3;
                  query "SELECT id FROM shop.orders";
                  query "SELECT id FROM shop.orders";
                  expect allow;
                }
                """);
        assertThat(report.failed()).isEqualTo(1);
        assertThat(report.successful()).isFalse();
        assertThat(report.diagnostics()).filteredOn(Diagnostic::isError).singleElement()
                .satisfies(d -> assertThat(d.line()).isEqualTo(3));
    }

    @Test
    void aPolicyErrorFailsEveryCaseOfTheDirectoryAndIsReportedOnce() throws IOException {
        Files.writeString(dir.resolve("broken.pgpolicy"), "allow nobody_defined select;\n");
        Files.writeString(dir.resolve("shop.pgpolicy"), POLICY);
        Files.writeString(dir.resolve("a.pgtest"), """
                test "a" { as user "svc"; query "SELECT 1"; expect allow; }
                test "b" { as user "svc"; query "SELECT 1"; expect allow; }
                """);
        Files.writeString(dir.resolve("b.pgtest"), """
                test "c" { as user "svc"; query "SELECT 1"; expect allow; }
                """);
        TestReport report;
        try (PolicyTestRunner runner = new PolicyTestRunner(analyzer, NOON)) {
            report = runner.run(List.of(dir));
        }
        assertThat(report.passed()).isZero();
        assertThat(report.failed()).isEqualTo(3);
        assertThat(report.diagnostics()).filteredOn(Diagnostic::isError).singleElement()
                .satisfies(d -> {
                    assertThat(d.file()).endsWith("broken.pgpolicy");
                    assertThat(d.line()).isEqualTo(1);
                    assertThat(d.column()).isEqualTo(7);
                });
    }

    @Test
    void aSyntaxErrorInATestFileFailsIt() throws IOException {
        TestReport report = run("""
                test "unterminated" {
                  as user "svc";
                  query "SELECT 1"
                  expect allow;
                }
                """);
        assertThat(report.failed()).isPositive();
        assertThat(report.successful()).isFalse();
        assertThat(report.diagnostics()).anySatisfy(d -> {
            assertThat(d.isError()).isTrue();
            assertThat(d.file()).endsWith("shop.pgtest");
            assertThat(d.line()).isEqualTo(4);
        });
    }

    @Test
    void misspelledHeuristicsAndMaskFunctionsInExpectationsAreErrors() throws IOException {
        TestReport report = run("""
                test "typos" {
                  as user "ana" groups ("bi");
                  query "SELECT email FROM shop.customers";
                  expect mask shop.customers.email with emial;
                  expect warn tautolgy;
                }
                """);
        assertThat(report.successful()).isFalse();
        assertThat(report.failed()).isEqualTo(1);
        assertThat(report.diagnostics()).filteredOn(Diagnostic::isError).extracting(Diagnostic::line, Diagnostic::column)
                .containsExactly(tuple(4, 41), tuple(5, 15));
        assertThat(report.diagnostics()).filteredOn(Diagnostic::isError).extracting(Diagnostic::message)
                .anySatisfy(m -> assertThat(m).startsWith("unknown mask function 'emial'"))
                .anySatisfy(m -> assertThat(m).startsWith("unknown heuristic 'tautolgy'"));
    }

    @Test
    void aDirectoryWithoutTestsIsAnErrorNotASilentPass() throws IOException {
        Path empty = Files.createDirectory(dir.resolve("empty"));
        TestReport report;
        try (PolicyTestRunner runner = new PolicyTestRunner(analyzer, NOON)) {
            report = runner.run(List.of(empty));
        }
        assertThat(report.cases()).isZero();
        assertThat(report.successful()).isFalse();
        assertThat(report.diagnostics()).singleElement().asString().endsWith("error: no .pgtest files in this directory");
    }

    @Test
    void testsInADirectoryOfTheirOwnUseTheNearestEnclosingSet() throws IOException {
        Path set = Files.createDirectories(dir.resolve("pci"));
        Path tests = Files.createDirectories(set.resolve("tests"));
        Files.writeString(set.resolve("p.pgpolicy"), "@id(\"no-drop\") deny any ddl;\nallow any select on a.t;\n");
        Files.writeString(tests.resolve("t.pgtest"), """
                test "uses pci/p.pgpolicy" { as user "u"; query "DROP TABLE a.t"; expect deny by "no-drop"; }
                """);
        TestReport report;
        try (PolicyTestRunner runner = new PolicyTestRunner(analyzer, NOON)) {
            report = runner.run(List.of(dir));
        }
        assertThat(report.diagnostics()).isEmpty();
        assertThat(report.passed()).isEqualTo(1);

        // Given only the tests directory, nothing above it is searched.
        try (PolicyTestRunner runner = new PolicyTestRunner(analyzer, NOON)) {
            report = runner.run(List.of(tests));
        }
        assertThat(report.successful()).isFalse();
        assertThat(report.diagnostics()).singleElement().asString().endsWith("error: no .pgpolicy files in this directory");
    }

    @Test
    void testsUseThePoliciesOfTheirOwnDirectoryTree() throws IOException {
        Path first = Files.createDirectories(dir.resolve("first"));
        Path second = Files.createDirectories(dir.resolve("second/nested"));
        Files.writeString(first.resolve("p.pgpolicy"), "allow any select on a.t;\n");
        Files.writeString(dir.resolve("second/p.pgpolicy"), "allow any select on b.t;\n");
        Files.writeString(second.resolve("more.pgpolicy"), "@id(\"no-b\") deny any select on b.t;\n");
        Files.writeString(first.resolve("t.pgtest"), """
                test "first" { as user "u"; query "SELECT x FROM a.t"; expect allow; query "SELECT x FROM b.t"; expect deny; }
                """);
        Files.writeString(dir.resolve("second/t.pgtest"), """
                test "second sees nested files too" { as user "u"; query "SELECT x FROM b.t"; expect deny by "no-b"; }
                """);
        TestReport report;
        try (PolicyTestRunner runner = new PolicyTestRunner(analyzer, NOON)) {
            report = runner.run(List.of(first, dir.resolve("second")));
        }
        assertThat(report.failures()).isEmpty();
        assertThat(report.diagnostics()).isEmpty();
        assertThat(report.passed()).isEqualTo(2);
    }
}
