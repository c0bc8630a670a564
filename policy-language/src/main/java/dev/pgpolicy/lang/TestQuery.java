package dev.pgpolicy.lang;

import java.util.List;

/** A {@code query} with the session of the {@code as} before it and the expectations after it. */
public record TestQuery(SessionSpec session, String sql, List<Expectation> expectations, Span span) implements Node {
    public TestQuery {
        expectations = List.copyOf(expectations);
    }
}
