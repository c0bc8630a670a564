package dev.pgpolicy.sql;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One COPY statement read in full (PostgreSQL docs, COPY; gram.y {@code CopyStmt}): what it copies,
 * where to, and the data format its options settle. {@link StatementFacts} say which tables a COPY
 * touches; this says how its rows are written, which is what a proxy rewriting them must know.
 * It is read from the statement's own text every time and never cached: the options are constants
 * ({@code DELIMITER ';'}), which the normalized text that facts are cached by leaves out.
 *
 * @param table    the table of {@code COPY table [(columns)]}; empty for {@code COPY (query)}
 * @param columns  the column list of the table form, folded as PostgreSQL folds them; empty for all
 * @param query    the text of {@code COPY (query)}, as written between the parentheses
 * @param from     COPY FROM (into the table) rather than COPY TO
 * @param endpoint where the data goes or comes from
 * @param options  the data format
 */
public record CopyStatement(Optional<ObjectName> table, List<String> columns, Optional<String> query, boolean from,
        Endpoint endpoint, CopyOptions options) {

    /** STDIN/STDOUT (the client, through the protocol), a server file, or a server program. */
    public enum Endpoint {
        CLIENT, FILE, PROGRAM
    }

    public CopyStatement {
        Objects.requireNonNull(table, "table");
        Objects.requireNonNull(query, "query");
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(options, "options");
        columns = List.copyOf(columns);
        if (table.isPresent() == query.isPresent()) {
            throw new IllegalArgumentException("a COPY copies either a table or a query");
        }
    }

    /** {@code COPY ... TO STDOUT}: the rows reach the client as CopyData. */
    public boolean toClient() {
        return !from && endpoint == Endpoint.CLIENT;
    }

    /** A COPY statement the reader could not take apart; the reason is fit for an error's DETAIL. */
    public static final class UnreadableException extends Exception {
        private static final long serialVersionUID = 1L;

        public UnreadableException(String reason) {
            super(reason);
        }
    }

    /**
     * The COPY statements of one Query message (or one Parse), in order; other statements are
     * skipped. Throws when one of them cannot be read with certainty.
     */
    public static List<CopyStatement> readAll(String message, boolean standardConformingStrings)
            throws UnreadableException {
        List<CopyStatement> copies = new ArrayList<>();
        List<Token> tokens = SqlLexer.tokenize(message, standardConformingStrings);
        for (LexedStatement statement : StatementSplitter.split(message, tokens)) {
            if (StatementClassifier.classify(statement) != StatementKind.COPY) {
                continue;
            }
            if (!statement.wellFormed()) {
                throw new UnreadableException("the COPY statement is not well-formed SQL");
            }
            copies.add(new CopyStatementReader(message, statement.significant()).read());
        }
        return copies;
    }
}
