package dev.pgpolicy.proxy.cli;

import dev.pgpolicy.lang.Diagnostic;
import dev.pgpolicy.policy.testing.PolicyTestRunner;
import dev.pgpolicy.policy.testing.TestFailure;
import dev.pgpolicy.policy.testing.TestReport;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code pgpolicy test DIR...}: runs every {@code .pgtest} file under the directories against the
 * policy set of its own directory tree, prints one line per failure (and every diagnostic of a
 * broken policy or test file), and ends with {@code N passed, M failed}, counting test cases.
 * Exit status 1 on any failure or error, so CI can gate on it.
 */
@Command(
        name = "test",
        description = "Run the .pgtest files under the directories; ends with \"N passed, M failed\".",
        mixinStandardHelpOptions = true)
public final class TestCommand implements Callable<Integer> {

    @Parameters(arity = "1..*", paramLabel = "DIR", description = "Directories searched recursively for .pgtest files.")
    List<Path> directories;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        TestReport report;
        try (PolicyTestRunner runner = new PolicyTestRunner()) {
            report = runner.run(directories);
        }
        for (Diagnostic diagnostic : report.diagnostics()) {
            out.println(diagnostic);
        }
        for (TestFailure failure : report.failures()) {
            out.println(failure);
        }
        out.println(report.summary());
        out.flush();
        return report.successful() ? 0 : 1;
    }
}
