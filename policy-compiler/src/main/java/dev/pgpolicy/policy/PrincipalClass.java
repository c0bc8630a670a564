package dev.pgpolicy.policy;

import java.util.Arrays;

/**
 * What a policy set knows about a session, reduced to one bit per rule: whether the rule's
 * principal and conditions hold for it (with evaluation errors already resolved the fail-closed
 * way for that rule's kind). Two sessions with equal classes get identical decisions for the
 * same statement and search path, so decisions can be cached per
 * {@code (revision, principal class, search path, fingerprint)}.
 *
 * <p>When {@link #timeDependent()} is true some condition reads {@code hour}, {@code weekday}
 * or {@code now}: the class then holds only for the moment it was computed and must be
 * recomputed per statement (it is cheap: one pass over the rules' conditions). Otherwise it can
 * be computed once per session.
 */
public final class PrincipalClass {

    private final String revision;
    private final long[] bits;
    private final int databaseOffset;
    private final boolean timeDependent;
    private final int hash;
    /**
     * What the policy set derives from the class alone (masks, limits, audit level), computed on
     * first use. A race computes it twice with equal results, so no lock is needed.
     */
    private volatile Object derived;

    /** Bits {@code [0, databaseOffset)} are rules; the rest say which database patterns match the session. */
    PrincipalClass(String revision, long[] bits, int databaseOffset, boolean timeDependent) {
        this.revision = revision;
        this.bits = bits;
        this.databaseOffset = databaseOffset;
        this.timeDependent = timeDependent;
        this.hash = revision.hashCode() * 31 + Arrays.hashCode(bits);
    }

    public String revision() {
        return revision;
    }

    public boolean timeDependent() {
        return timeDependent;
    }

    boolean applies(int ruleIndex) {
        int word = ruleIndex >>> 6;
        return word < bits.length && (bits[word] & (1L << ruleIndex)) != 0;
    }

    Object derived() {
        return derived;
    }

    void derived(Object value) {
        derived = value;
    }

    boolean databaseMatches(int patternIndex) {
        return applies(databaseOffset + patternIndex);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof PrincipalClass that && hash == that.hash
                && revision.equals(that.revision) && Arrays.equals(bits, that.bits);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public String toString() {
        StringBuilder text = new StringBuilder("PrincipalClass[");
        for (long word : bits) {
            text.append(Long.toHexString(word)).append(' ');
        }
        return text.append(']').toString();
    }
}
