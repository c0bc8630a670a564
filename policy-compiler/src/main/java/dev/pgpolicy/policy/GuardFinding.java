package dev.pgpolicy.policy;

import dev.pgpolicy.sql.Heuristic;

/**
 * A heuristic that fired, with the action the strongest matching guard assigns. {@code ruleId}
 * is {@code guard.<heuristic>}; {@code detect} marks a guard in detect mode, whose deny is
 * recorded but not enforced.
 */
public record GuardFinding(Heuristic heuristic, GuardAction action, String ruleId, boolean detect) {
}
