package dev.pgpolicy.policy.testing;

import dev.pgpolicy.lang.Diagnostic;
import java.util.ArrayList;
import java.util.List;

/**
 * The outcome of running {@code .pgtest} files. {@code passed} and {@code failed} count test
 * cases; {@code failures} has one entry per failing expectation (a case can fail several), and
 * {@code diagnostics} holds the problems in policy or test files that stopped cases from running.
 */
public record TestReport(int passed, int failed, List<TestFailure> failures, List<Diagnostic> diagnostics) {

    public TestReport {
        failures = List.copyOf(failures);
        diagnostics = List.copyOf(diagnostics);
    }

    public static TestReport empty() {
        return new TestReport(0, 0, List.of(), List.of());
    }

    public boolean successful() {
        return failed == 0 && diagnostics.stream().noneMatch(Diagnostic::isError);
    }

    public int cases() {
        return passed + failed;
    }

    public TestReport plus(TestReport other) {
        List<TestFailure> allFailures = new ArrayList<>(failures);
        allFailures.addAll(other.failures);
        List<Diagnostic> allDiagnostics = new ArrayList<>(diagnostics);
        allDiagnostics.addAll(other.diagnostics);
        return new TestReport(passed + other.passed, failed + other.failed, allFailures, allDiagnostics);
    }

    /** The closing line of {@code pgpolicy test}: {@code N passed, M failed}. */
    public String summary() {
        return passed + " passed, " + failed + " failed";
    }
}
