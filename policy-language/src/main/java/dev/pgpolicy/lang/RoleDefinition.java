package dev.pgpolicy.lang;

/** {@code role NAME = EXPR;} */
public record RoleDefinition(Name name, Expr expr, Span span) implements Statement {
}
