package dev.pgpolicy.policy.testing;

import java.util.List;
import java.util.Map;
import java.util.Optional;
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
        Set<String> tables,
        MaskLookup maskLookup,
        Set<String> warnings,
        Set<String> findings) {

    /** A mask function with its arguments rendered as they are written in a policy. */
    record AppliedMask(String function, List<String> arguments, String ruleId) {
        @Override
        public String toString() {
            return function + "(" + String.join(", ", arguments) + ")";
        }
    }

    /** The principal's mask for a column of a table, whether or not the statement names it. */
    interface MaskLookup {
        Optional<AppliedMask> maskFor(String schema, String table, String column);
    }

    ObservedDecision {
        ruleIds = List.copyOf(ruleIds);
        masks = Map.copyOf(masks);
        tables = Set.copyOf(tables);
        warnings = Set.copyOf(warnings);
        findings = Set.copyOf(findings);
    }

    /**
     * The mask of {@code schema.table.column}: the one the decision names for a column the
     * statement uses, otherwise the one the proxy would apply to that column of a table the
     * statement touches (it reaches the client through {@code SELECT *} or a view). Null when the
     * column is not masked or the query does not touch its table.
     */
    AppliedMask maskOf(String qualifiedColumn) {
        AppliedMask named = masks.get(qualifiedColumn);
        if (named != null) {
            return named;
        }
        int lastDot = qualifiedColumn.lastIndexOf('.');
        int firstDot = qualifiedColumn.indexOf('.');
        if (firstDot < 0 || firstDot == lastDot) {
            return null;
        }
        String table = qualifiedColumn.substring(0, lastDot);
        if (!tables.contains(table)) {
            return null;
        }
        return maskLookup.maskFor(table.substring(0, firstDot), table.substring(firstDot + 1),
                qualifiedColumn.substring(lastDot + 1)).orElse(null);
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
