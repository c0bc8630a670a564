package dev.pgpolicy.lang;

import java.util.List;

/** One {@code .pgtest} file. */
public record TestFile(String fileName, List<TestCase> cases, Span span) implements Node {
    public TestFile {
        cases = List.copyOf(cases);
    }
}
