package dev.pgpolicy.lang;

/** One term of a principal list. For {@code any}, {@code role} is null and {@code any} is true. */
public record PrincipalTerm(boolean any, String role, boolean negated, Span span) implements Node {

    public static PrincipalTerm anyone(Span span) {
        return new PrincipalTerm(true, null, false, span);
    }

    public static PrincipalTerm role(String role, boolean negated, Span span) {
        return new PrincipalTerm(false, role, negated, span);
    }

    @Override
    public String toString() {
        return any ? "any" : (negated ? "!" : "") + role;
    }
}
