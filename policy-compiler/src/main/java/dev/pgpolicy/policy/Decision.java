package dev.pgpolicy.policy;

import dev.pgpolicy.lang.Effect;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The answer for one statement or one whole Query message.
 *
 * @param effect        ALLOW or DENY as enforced
 * @param ruleIds       for DENY the matching deny ids, {@code guard.<heuristic>} for a guard, the
 *                      mask rule id for a masked column used inside an expression, and nothing
 *                      for the default deny; for ALLOW the allow rules that covered the requests
 * @param reason        the {@code @reason} of the first determining deny, the guard's finding,
 *                      or "no allow rule covers ..." for the default deny; empty for ALLOW
 * @param masks         column ({@code schema.table.column}) to mask, for the columns the
 *                      statement names; {@link #maskSet()} answers for any other column
 * @param maskSet       the mask rules that apply to this principal, for result columns that only
 *                      the server's RowDescription reveals ({@code SELECT *}, views)
 * @param limits        the limits in force, the smallest per dimension
 * @param findings      heuristics that fired, with the strongest matching guard action
 * @param auditLevel    the highest matching audit level; at least STATEMENTS for a denied or
 *                      would-be-denied statement
 * @param wouldDeny     true when enforcing the detect-mode rules too would deny
 * @param detectRuleIds the detect-mode rules (denies, guards, masks) that matched
 */
public record Decision(
        Effect effect,
        List<String> ruleIds,
        String reason,
        Map<String, MaskSpec> masks,
        MaskSet maskSet,
        List<EffectiveLimit> limits,
        List<GuardFinding> findings,
        AuditLevel auditLevel,
        boolean wouldDeny,
        List<String> detectRuleIds) {

    public Decision {
        Objects.requireNonNull(effect, "effect");
        ruleIds = List.copyOf(ruleIds);
        Objects.requireNonNull(reason, "reason");
        masks = Map.copyOf(masks);
        Objects.requireNonNull(maskSet, "maskSet");
        limits = List.copyOf(limits);
        findings = List.copyOf(findings);
        Objects.requireNonNull(auditLevel, "auditLevel");
        detectRuleIds = List.copyOf(detectRuleIds);
    }

    public boolean allowed() {
        return effect == Effect.ALLOW;
    }

    /** A denial that fails closed when the engine itself could not decide. */
    static Decision internalError(String reason) {
        return new Decision(Effect.DENY, List.of("internal"), reason, Map.of(), MaskSet.EMPTY, List.of(),
                List.of(), AuditLevel.STATEMENTS, true, List.of());
    }
}
