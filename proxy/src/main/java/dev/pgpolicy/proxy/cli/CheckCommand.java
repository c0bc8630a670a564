package dev.pgpolicy.proxy.cli;

import dev.pgpolicy.lang.Diagnostic;
import dev.pgpolicy.policy.CompileResult;
import dev.pgpolicy.policy.PolicyCompiler;
import dev.pgpolicy.policy.testing.PolicySources;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code pgpolicy check DIR|FILE...}: compiles policy sets and prints every diagnostic as
 * {@code file:line:col: error|warning: message} on standard output, one per line, so editors and
 * CI can annotate them. A directory is one set (every {@code *.pgpolicy} under it); the file
 * arguments together form one more set. Exit status 1 when any set has an error, 0 otherwise;
 * a one-line summary per set goes to standard error.
 */
@Command(
        name = "check",
        description = "Compile policy sets and print every diagnostic as file:line:col; exit 1 on any error.",
        mixinStandardHelpOptions = true)
public final class CheckCommand implements Callable<Integer> {

    @Parameters(arity = "1..*", paramLabel = "DIR|FILE", description = "A policy directory (one set) or policy files (together one set).")
    List<Path> targets;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<Path> looseFiles = new ArrayList<>();
        boolean failed = false;
        for (Path target : targets) {
            if (Files.isDirectory(target)) {
                failed |= check(PolicySources.display(target), PolicySources.policySet(target), out, err);
            } else {
                looseFiles.add(target);
            }
        }
        if (!looseFiles.isEmpty()) {
            String label = looseFiles.size() == 1 ? PolicySources.display(looseFiles.get(0)) : looseFiles.size() + " files";
            failed |= check(label, PolicySources.files(looseFiles), out, err);
        }
        out.flush();
        err.flush();
        return failed ? 1 : 0;
    }

    /** Compiles one set, prints its diagnostics and summary; returns true when it has errors. */
    private static boolean check(String label, PolicySources.Loaded loaded, PrintWriter out, PrintWriter err) {
        List<Diagnostic> diagnostics = new ArrayList<>(loaded.diagnostics());
        int rules = 0;
        if (!loaded.files().isEmpty()) {
            CompileResult result = PolicyCompiler.compile(loaded.files());
            diagnostics.addAll(result.diagnostics());
            rules = result.policySet().map(set -> set.ruleIds().size()).orElse(0);
        }
        diagnostics.sort(Diagnostic.ORDER);
        diagnostics.forEach(out::println);

        long errors = diagnostics.stream().filter(Diagnostic::isError).count();
        long warnings = diagnostics.size() - errors;
        if (errors == 0) {
            err.println(label + ": OK (" + plural(loaded.files().size(), "file") + ", " + plural(rules, "rule")
                    + (warnings > 0 ? ", " + plural(warnings, "warning") : "") + ")");
        } else {
            err.println(label + ": " + plural(errors, "error") + (warnings > 0 ? ", " + plural(warnings, "warning") : ""));
        }
        return errors > 0;
    }

    private static String plural(long count, String noun) {
        return count + " " + noun + (count == 1 ? "" : "s");
    }
}
