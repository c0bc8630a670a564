package dev.pgpolicy.policy.testing;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.StringJoiner;
import java.util.TreeSet;

/**
 * What a test case observed for one query, in the vocabulary of {@code .pgtest} expectations:
 * the effect, the rule ids that decided it, the masks by {@code schema.table.column}, and the
 * heuristics reported as warnings. Failure messages print it, so it reads like the expectation
 * that would have passed.
 */
record ObservedDecision(
        boolean allowed,
        List<String> ruleIds,
        String reason,
        Map<String, AppliedMask> masks,
        Set<String> warnings,
        Set<String> findings) {

    /** A mask function with its arguments rendered as they are written in a policy. */
    record AppliedMask(String function, List<String> arguments, String ruleId) {
        @Override
        public String toString() {
            return function + "(" + String.join(", ", arguments) + ")";
        }
    }

    ObservedDecision {
        ruleIds = List.copyOf(ruleIds);
        masks = Map.copyOf(masks);
        warnings = Set.copyOf(warnings);
        findings = Set.copyOf(findings);
    }

    String describeEffect() {
        StringBuilder text = new StringBuilder(allowed ? "allow" : "deny");
        if (!ruleIds.isEmpty()) {
            StringJoiner ids = new StringJoiner(", ", allowed ? " (rules: " : " by ", allowed ? ")" : "");
            ruleIds.forEach(id -> ids.add("\"" + id + "\""));
            text.append(ids);
        }
        if (!allowed && reason != null && !reason.isEmpty()) {
            text.append(" (").append(reason).append(')');
        }
        return text.toString();
    }

    String describeMasks() {
        if (masks.isEmpty()) {
            return "no masks";
        }
        StringJoiner text = new StringJoiner(", ", "masks: ", "");
        new TreeSet<>(masks.keySet()).forEach(column -> text.add(column + " with " + masks.get(column)));
        return text.toString();
    }

    String describeWarnings() {
        if (warnings.isEmpty()) {
            return findings.isEmpty() ? "no findings" : "findings " + new TreeSet<>(findings) + " without a warn guard";
        }
        return "warnings " + new TreeSet<>(warnings);
    }
}
