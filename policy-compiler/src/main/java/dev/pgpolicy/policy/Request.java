package dev.pgpolicy.policy;

import dev.pgpolicy.lang.ResourceKind;
import dev.pgpolicy.sql.Action;
import java.util.Objects;

/**
 * One {@code (action, resource)} pair a statement asks for (LANGUAGE.md, "How a message becomes
 * decisions").
 *
 * @param kind          {@code TABLE} or {@code FUNCTION} with {@code object}; {@code COLUMN}
 *                      with {@code object} (its table) and {@code column}; {@code DATABASE} for
 *                      a statement kind without objects ({@code object} null)
 * @param requiresAllow false for requests that exist only so deny rules can target them:
 *                      filters, the columns of a table request, and what the lexer saw of a
 *                      statement the parser could not analyse
 */
public record Request(Action action, ResourceKind kind, ResolvedName object, String column, boolean requiresAllow) {

    public Request {
        Objects.requireNonNull(action, "action");
        Objects.requireNonNull(kind, "kind");
    }

    /** {@code select on payments.orders}, {@code filter on column payments.customers.ssn}, {@code set}. */
    @Override
    public String toString() {
        String verb = action.keyword();
        switch (kind) {
            case DATABASE:
                return verb;
            case COLUMN:
                return verb + " on column " + object + "." + column;
            case FUNCTION:
                return verb + " on function " + object;
            case TABLE:
            case SCHEMA:
                return verb + " on " + object;
            default:
                throw new AssertionError("unhandled request kind " + kind);
        }
    }
}
