package dev.pgpolicy.proxy.dryrun;

import java.util.Locale;

/** How a statement's decision differs between the baseline set and the new set. */
public enum Change {
    NEWLY_DENIED, NEWLY_ALLOWED, MASK_CHANGED;

    /** The name used by {@code --fail-on} and in reports: {@code newly-denied}, ... */
    public String keyword() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    static Change between(Outcome before, Outcome after) {
        if (before.allowed() && !after.allowed()) {
            return NEWLY_DENIED;
        }
        if (!before.allowed() && after.allowed()) {
            return NEWLY_ALLOWED;
        }
        if (before.allowed() && !before.masks().equals(after.masks())) {
            return MASK_CHANGED;
        }
        return null;
    }
}
