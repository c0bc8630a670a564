package dev.pgpolicy.lang;

import java.util.List;

/**
 * The result of parsing one policy file. {@code ast} holds every statement that parsed cleanly,
 * so that a compiler can still report its own errors next to the syntax errors in one run.
 */
public record ParsedPolicy(PolicyFile ast, List<Diagnostic> diagnostics) {
    public ParsedPolicy {
        diagnostics = List.copyOf(diagnostics);
    }

    public boolean hasErrors() {
        return diagnostics.stream().anyMatch(Diagnostic::isError);
    }
}
