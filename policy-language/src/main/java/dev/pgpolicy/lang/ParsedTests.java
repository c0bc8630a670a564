package dev.pgpolicy.lang;

import java.util.List;

/** The result of parsing one {@code .pgtest} file; {@code ast} holds the cases that parsed cleanly. */
public record ParsedTests(TestFile ast, List<Diagnostic> diagnostics) {
    public ParsedTests {
        diagnostics = List.copyOf(diagnostics);
    }

    public boolean hasErrors() {
        return diagnostics.stream().anyMatch(Diagnostic::isError);
    }
}
