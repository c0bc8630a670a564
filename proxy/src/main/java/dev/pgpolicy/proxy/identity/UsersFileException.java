package dev.pgpolicy.proxy.identity;

import java.util.List;
import java.util.stream.Collectors;

/** The users file cannot be used; carries every diagnostic found, errors and warnings. */
public final class UsersFileException extends Exception {
    private static final long serialVersionUID = 1L;

    private final transient List<Diagnostic> diagnostics;

    public UsersFileException(List<Diagnostic> diagnostics) {
        super(diagnostics.stream().map(Diagnostic::toString).collect(Collectors.joining("\n")));
        this.diagnostics = List.copyOf(diagnostics);
    }

    public List<Diagnostic> diagnostics() {
        return diagnostics;
    }
}
