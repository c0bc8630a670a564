package dev.pgpolicy.lang;

import java.net.InetAddress;
import java.util.List;

/**
 * The boolean session language of roles and {@code when}/{@code unless} conditions. The parser
 * builds it untyped; the compiler checks names and types.
 */
public sealed interface Expr extends Node {

    /** {@code a or b or c}: at least two operands. */
    record Or(List<Expr> operands, Span span) implements Expr {
        public Or {
            operands = List.copyOf(operands);
        }
    }

    /** {@code a and b and c}: at least two operands. */
    record And(List<Expr> operands, Span span) implements Expr {
        public And {
            operands = List.copyOf(operands);
        }
    }

    record Not(Expr operand, Span span) implements Expr {
    }

    /** {@code left OP right} with one of {@code == != < <= > >=}. */
    record Comparison(Expr left, CompareOp op, Expr right, Span span) implements Expr {
    }

    /** {@code left [not] in (v1, v2, ...)}. */
    record InList(Expr left, List<Expr> values, boolean negated, Span span) implements Expr {
        public InList {
            values = List.copyOf(values);
        }
    }

    /** {@code left [not] in right}: membership in a CIDR ({@code client_ip in 10.0.0.0/8}) or a set ({@code "x" in groups}). */
    record In(Expr left, Expr right, boolean negated, Span span) implements Expr {
    }

    /** {@code left matches "regex"}: a find, as in most policy languages; anchor with ^ and $. */
    record Matches(Expr left, StringLiteral regex, Span span) implements Expr {
    }

    record StartsWith(Expr left, StringLiteral prefix, Span span) implements Expr {
    }

    /** {@code value [not] between low and high}, inclusive at both ends. */
    record Between(Expr value, Expr low, Expr high, boolean negated, Span span) implements Expr {
    }

    /** A session attribute ({@code user}, {@code hour}, ...), a role name, or a weekday name. */
    record Identifier(String name, Span span) implements Expr {
    }

    record StringLiteral(String value, Span span) implements Expr {
    }

    record IntLiteral(long value, Span span) implements Expr {
    }

    record BoolLiteral(boolean value, Span span) implements Expr {
    }

    /** An address ({@code prefixLength == -1}) or a CIDR block; host bits of a CIDR are cleared. */
    record IpLiteral(InetAddress address, int prefixLength, String text, Span span) implements Expr {
        public boolean isCidr() {
            return prefixLength >= 0;
        }
    }
}
