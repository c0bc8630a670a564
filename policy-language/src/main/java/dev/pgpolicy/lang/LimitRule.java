package dev.pgpolicy.lang;

import java.util.List;

/** {@code limit PRINCIPAL { LIMIT; ... }} */
public record LimitRule(Principal principal, List<LimitEntry> entries, Span span) implements Statement {
    public LimitRule {
        entries = List.copyOf(entries);
    }
}
