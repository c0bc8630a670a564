package dev.pgpolicy.lang;

/** {@code mode detect;} applies to every rule of its file. */
public record ModeDirective(Name mode, Span span) implements Statement {
}
