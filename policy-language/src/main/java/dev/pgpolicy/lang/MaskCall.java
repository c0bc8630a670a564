package dev.pgpolicy.lang;

import java.util.List;

/** {@code partial(0, "XXXX-", 4)}: arguments are {@link Expr.StringLiteral} or {@link Expr.IntLiteral}. */
public record MaskCall(Name function, List<Expr> arguments, Span span) implements Node {
    public MaskCall {
        arguments = List.copyOf(arguments);
    }
}
