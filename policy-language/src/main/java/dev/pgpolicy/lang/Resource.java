package dev.pgpolicy.lang;

import java.util.List;
import java.util.stream.Collectors;

/**
 * {@code table P}, {@code column P.col}, {@code function F}, {@code schema S}, {@code database D}.
 * {@code kindExplicit} is false when the word was left out (the kind is then {@code TABLE}, or
 * {@code COLUMN} in a mask's column list).
 */
public record Resource(ResourceKind kind, boolean kindExplicit, List<PatternPart> parts, Span span) implements Node {
    public Resource {
        parts = List.copyOf(parts);
    }

    public String patternText() {
        return parts.stream().map(PatternPart::toString).collect(Collectors.joining("."));
    }

    @Override
    public String toString() {
        return kind.keyword() + " " + patternText();
    }
}
