package dev.pgpolicy.lang;

import java.util.Objects;

/**
 * One dot-separated part of a name pattern. Unquoted parts are already folded to lower case as
 * PostgreSQL folds unquoted identifiers, and {@code *} in them is a wildcard; quoted parts keep
 * their case and match literally.
 */
public record PatternPart(String text, boolean quoted) {
    public PatternPart {
        Objects.requireNonNull(text, "text");
    }

    public boolean isGlob() {
        return !quoted && text.indexOf('*') >= 0;
    }

    @Override
    public String toString() {
        return quoted ? '"' + text.replace("\"", "\"\"") + '"' : text;
    }
}
