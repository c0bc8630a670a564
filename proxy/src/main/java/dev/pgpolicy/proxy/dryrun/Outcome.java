package dev.pgpolicy.proxy.dryrun;

import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What one policy set decides for one captured SQL text, reduced to what a report compares.
 *
 * @param allowed   whether the set lets the statement through
 * @param rules     for a denial the determining rule ids ({@code guard.<heuristic>} for a guard;
 *                  empty for the default deny)
 * @param masks     column ({@code schema.table.column}) to mask as written in a policy, for the
 *                  columns the statement names
 * @param warnings  heuristics a {@code warn} guard flagged
 * @param wouldDeny whether detect-mode rules would deny it
 */
record Outcome(boolean allowed, List<String> rules, SortedMap<String, String> masks, List<String> warnings, boolean wouldDeny) {
    Outcome {
        rules = List.copyOf(rules);
        masks = Collections.unmodifiableSortedMap(new TreeMap<>(Objects.requireNonNull(masks, "masks")));
        warnings = List.copyOf(warnings);
    }

    String decision() {
        return allowed ? "allow" : "deny";
    }

    boolean masked() {
        return allowed && !masks.isEmpty();
    }
}
