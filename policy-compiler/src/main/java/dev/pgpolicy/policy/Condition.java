package dev.pgpolicy.policy;

/**
 * A compiled, type-checked condition over the session. Implementations are small immutable
 * nodes (see {@link Conditions}); {@link #evaluate} must not throw and reports a missing value or
 * a runaway regular expression as {@link Tri#ERROR}.
 */
interface Condition {
    Tri evaluate(SessionContext session);
}
