package dev.pgpolicy.lang;

import java.util.List;

/** One {@code .pgpolicy} file: the statements that parsed cleanly, in source order. */
public record PolicyFile(String fileName, List<Statement> statements, Span span) implements Node {
    public PolicyFile {
        statements = List.copyOf(statements);
    }
}
