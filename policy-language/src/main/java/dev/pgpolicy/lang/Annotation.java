package dev.pgpolicy.lang;

/** {@code @id("no-ddl")}, {@code @reason("...")}, {@code @mode(detect)}. */
public record Annotation(String name, String value, Span span) implements Node {
}
