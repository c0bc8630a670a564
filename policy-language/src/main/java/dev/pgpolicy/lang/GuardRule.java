package dev.pgpolicy.lang;

/** {@code guard PRINCIPAL HEURISTIC deny|warn|off;} */
public record GuardRule(Principal principal, Name heuristic, Name action, Span span) implements Statement {
}
