package dev.pgpolicy.policy;

import java.util.Objects;

/** One policy file as read from disk: the name used in diagnostics and rule ids, and its text. */
public record SourceFile(String name, String text) {
    public SourceFile {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(text, "text");
    }

    @Override
    public String toString() {
        return name;
    }
}
