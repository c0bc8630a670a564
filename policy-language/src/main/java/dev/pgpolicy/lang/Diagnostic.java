package dev.pgpolicy.lang;

import java.util.Comparator;
import java.util.Objects;

/**
 * One finding about a policy or test file. {@link #toString()} is the format every command
 * prints, {@code file:line:col: error|warning: message}, which editors and CI annotate.
 */
public record Diagnostic(String file, int line, int column, Severity severity, String message) {

    /** File, then position, then errors before warnings: the order users read them in. */
    public static final Comparator<Diagnostic> ORDER = Comparator.comparing(Diagnostic::file)
            .thenComparingInt(Diagnostic::line)
            .thenComparingInt(Diagnostic::column)
            .thenComparing(Diagnostic::severity)
            .thenComparing(Diagnostic::message);

    public Diagnostic {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(severity, "severity");
        Objects.requireNonNull(message, "message");
    }

    public static Diagnostic error(Span at, String message) {
        return new Diagnostic(at.file(), at.line(), at.column(), Severity.ERROR, message);
    }

    public static Diagnostic warning(Span at, String message) {
        return new Diagnostic(at.file(), at.line(), at.column(), Severity.WARNING, message);
    }

    public boolean isError() {
        return severity == Severity.ERROR;
    }

    @Override
    public String toString() {
        return file + ":" + line + ":" + column + ": " + severity.label() + ": " + message;
    }
}
