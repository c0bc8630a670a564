package dev.pgpolicy.lang;

/** {@code audit PRINCIPAL LEVEL;} */
public record AuditRule(Principal principal, Name level, Span span) implements Statement {
}
