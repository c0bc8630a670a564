package dev.pgpolicy.lang;

import java.util.List;

/** {@code test "name" { as ...; query "..."; expect ...; ... }} */
public record TestCase(String name, List<TestQuery> queries, Span span) implements Node {
    public TestCase {
        queries = List.copyOf(queries);
    }
}
