package dev.pgpolicy.lang;

import java.util.Objects;

/** A position in a source file: 1-based line and 1-based column, as editors count them. */
public record Span(String file, int line, int column) {
    public Span {
        Objects.requireNonNull(file, "file");
    }

    @Override
    public String toString() {
        return file + ":" + line + ":" + column;
    }
}
