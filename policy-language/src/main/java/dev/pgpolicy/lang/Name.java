package dev.pgpolicy.lang;

/** A bare word whose meaning the compiler decides: an action, a heuristic, an audit level. */
public record Name(String text, Span span) implements Node {
}
