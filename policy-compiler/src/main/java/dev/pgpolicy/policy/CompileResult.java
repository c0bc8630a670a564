package dev.pgpolicy.policy;

import dev.pgpolicy.lang.Diagnostic;
import java.util.List;
import java.util.Optional;

/** Diagnostics of a compilation, errors and warnings sorted by file and position, and the set when there is no error. */
public record CompileResult(List<Diagnostic> diagnostics, Optional<PolicySet> policySet) {

    public CompileResult {
        diagnostics = List.copyOf(diagnostics);
    }

    public boolean hasErrors() {
        return diagnostics.stream().anyMatch(Diagnostic::isError);
    }

    public List<Diagnostic> errors() {
        return diagnostics.stream().filter(Diagnostic::isError).toList();
    }
}
