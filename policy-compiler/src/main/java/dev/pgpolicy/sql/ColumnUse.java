package dev.pgpolicy.sql;

import java.util.Objects;

/**
 * A column a statement uses, with the clause it appears in. {@code table} is the table the
 * analyser attributed the column to, or null when it could not tell (an unqualified column in a
 * join of several tables): callers must then treat the column as possibly belonging to any table
 * of the statement (fail closed). {@code insideExpression} is true when the column is an argument
 * of a function or operator rather than projected bare, which matters for masking.
 */
public record ColumnUse(ObjectName table, String column, Clause clause, boolean insideExpression) {
    public ColumnUse {
        Objects.requireNonNull(column, "column");
        Objects.requireNonNull(clause, "clause");
    }
}
