package dev.pgpolicy.lang;

import java.util.List;

/** {@code any}, a role, {@code !role}, or a comma list of those; the list matches if any term does. */
public record Principal(List<PrincipalTerm> terms, Span span) implements Node {
    public Principal {
        terms = List.copyOf(terms);
    }
}
