package dev.pgpolicy.policies;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpolicy.policy.testing.PolicyTestRunner;
import dev.pgpolicy.policy.testing.TestReport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Runs every example policy set's {@code .pgtest} files, exactly as {@code pgpolicy test
 * policies/} does: the build fails when any case fails, when a set does not compile, or when no
 * case ran at all.
 */
class ExamplePoliciesTest {

    /** Surefire's working directory is this module, which is the {@code policies/} directory. */
    private static final Path POLICIES = Path.of("");

    private static final List<String> REQUIRED_SETS =
            List.of("pci-payments", "hipaa-clinical", "saas-multitenant", "language-example");

    @Test
    void everyExampleCasePasses() throws IOException {
        List<Path> sets = exampleSets();
        assertThat(sets).extracting(Path::toString).containsAll(REQUIRED_SETS);

        TestReport report;
        try (PolicyTestRunner runner = new PolicyTestRunner()) {
            report = runner.run(sets);
        }
        assertThat(report.diagnostics()).as("problems in policy or test files").isEmpty();
        assertThat(report.failures()).as("failing expectations").isEmpty();
        assertThat(report.failed()).isZero();
        assertThat(report.passed()).as("test cases run").isGreaterThanOrEqualTo(40);
    }

    @Test
    void everyExampleSetHasSeveralCasesOfEachKind() throws IOException {
        for (Path set : exampleSets()) {
            String tests = readAll(set, ".pgtest");
            assertThat(tests).as("%s tests allows", set).contains("expect allow;");
            assertThat(tests).as("%s tests denies by id", set).contains("expect deny by \"");
            assertThat(tests).as("%s tests masks", set).contains("expect mask ");
            assertThat(tests).as("%s tests guards", set).containsPattern("expect deny by \"guard\\.|expect warn ");
        }
    }

    private static List<Path> exampleSets() throws IOException {
        try (Stream<Path> entries = Files.list(POLICIES)) {
            return entries.filter(Files::isDirectory)
                    .filter(dir -> !dir.getFileName().toString().equals("src")
                            && !dir.getFileName().toString().equals("target"))
                    .map(Path::getFileName)
                    .sorted()
                    .toList();
        }
    }

    private static String readAll(Path directory, String suffix) throws IOException {
        StringBuilder text = new StringBuilder();
        try (Stream<Path> files = Files.walk(directory)) {
            for (Path file : (Iterable<Path>) files.filter(f -> f.toString().endsWith(suffix)).sorted()::iterator) {
                text.append(Files.readString(file)).append('\n');
            }
        }
        return text.toString();
    }
}
