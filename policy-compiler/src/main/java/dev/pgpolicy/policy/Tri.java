package dev.pgpolicy.policy;

/**
 * Kleene three-valued logic: an evaluation error is a value, not an exception, so it can flow
 * through {@code and}/{@code or}/{@code not} and be resolved once, per rule kind, at the end
 * (deny: match; allow: no match).
 */
enum Tri {
    TRUE, FALSE, ERROR;

    static Tri of(boolean value) {
        return value ? TRUE : FALSE;
    }

    Tri not() {
        return this == TRUE ? FALSE : this == FALSE ? TRUE : ERROR;
    }
}
