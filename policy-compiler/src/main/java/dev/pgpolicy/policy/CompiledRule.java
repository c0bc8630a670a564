package dev.pgpolicy.policy;

import dev.pgpolicy.lang.Effect;
import dev.pgpolicy.lang.Span;
import dev.pgpolicy.sql.Action;
import dev.pgpolicy.sql.Heuristic;
import java.util.List;
import java.util.Set;

/** A rule after name resolution and type checking: immutable, indexed by position in the set. */
sealed interface CompiledRule {

    Head head();

    /**
     * What every rule has. {@code condition} is the principal and the {@code when}/{@code unless}
     * conditions combined; {@code errorMeansMatch} resolves an evaluation error the fail-closed
     * way for the rule's kind (an allow does not match, everything else does).
     */
    record Head(int index, String id, Condition condition, boolean errorMeansMatch, boolean detect,
                String reason, Span span) {
    }

    record Access(Head head, Effect effect, Set<Action> actions, List<ResourceMatcher> resources) implements CompiledRule {
    }

    record Mask(Head head, List<ResourceMatcher> columns, MaskSpec mask) implements CompiledRule {
    }

    record Limit(Head head, List<EffectiveLimit> entries) implements CompiledRule {
    }

    record Guard(Head head, Heuristic heuristic, GuardAction action) implements CompiledRule {
    }

    record Audit(Head head, AuditLevel level) implements CompiledRule {
    }
}
