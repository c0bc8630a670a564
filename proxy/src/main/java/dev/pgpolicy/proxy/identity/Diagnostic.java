package dev.pgpolicy.proxy.identity;

import java.nio.file.Path;
import java.util.Objects;

/**
 * One finding about the users file, at a position: {@code file:line:col: error: message}. Messages
 * name keys and rules, never secret values.
 */
public record Diagnostic(Path file, int line, int column, Severity severity, String message) {
    public enum Severity {
        ERROR,
        WARNING;

        String label() {
            return this == ERROR ? "error" : "warning";
        }
    }

    public Diagnostic {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(severity, "severity");
        Objects.requireNonNull(message, "message");
    }

    static Diagnostic error(Path file, YamlTree.Location at, String message) {
        return new Diagnostic(file, at.line(), at.column(), Severity.ERROR, message);
    }

    static Diagnostic warning(Path file, YamlTree.Location at, String message) {
        return new Diagnostic(file, at.line(), at.column(), Severity.WARNING, message);
    }

    public boolean isError() {
        return severity == Severity.ERROR;
    }

    @Override
    public String toString() {
        return file + ":" + line + ":" + column + ": " + severity.label() + ": " + message;
    }
}
