package dev.pgpolicy.fuzz.policy;

import dev.pgpolicy.fuzz.policy.PolicyModel.Effect;
import dev.pgpolicy.fuzz.policy.PolicyModel.Guard;
import dev.pgpolicy.fuzz.policy.PolicyModel.MaskRule;
import dev.pgpolicy.fuzz.policy.PolicyModel.GuardAction;
import dev.pgpolicy.fuzz.policy.PolicyModel.Policy;
import dev.pgpolicy.fuzz.policy.PolicyModel.Principal;
import dev.pgpolicy.fuzz.policy.PolicyModel.Resource;
import dev.pgpolicy.fuzz.policy.PolicyModel.ResourceKind;
import dev.pgpolicy.fuzz.policy.PolicyModel.Rule;
import dev.pgpolicy.fuzz.policy.PolicyModel.SessionModel;
import dev.pgpolicy.fuzz.policy.PolicyModel.Tri;
import dev.pgpolicy.sql.Action;
import dev.pgpolicy.sql.Clause;
import dev.pgpolicy.sql.ColumnUse;
import dev.pgpolicy.sql.Heuristic;
import dev.pgpolicy.sql.QueryAnalysis;
import dev.pgpolicy.sql.StatementFacts;
import dev.pgpolicy.sql.TableAccess;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The combining rules of the language, written as plainly as possible: no index, no tree, no
 * caching; every rule is checked against every request. Slow and obviously right, so that the
 * compiled decision tree can be compared against it.
 */
final class ReferenceEvaluator {

    /**
     * The outcome the two evaluators must agree on: the effect, the determining rules (for a
     * denial the matching deny rules and denying guards, empty for the default deny; for an
     * allow the allow rules that covered a request), the heuristics reported as warnings, and the
     * mask of every projected column ({@code schema.table.column} to the mask as written).
     */
    record Outcome(boolean allowed, Set<String> rules, Set<String> warnings, Map<String, String> masks) {
    }

    /** One request of a statement: an action on a named resource of some kind (null: no object). */
    record Request(Action action, ResourceKind kind, String name) {
    }

    private ReferenceEvaluator() {
    }

    static Outcome evaluate(Policy policy, SessionModel session, QueryAnalysis analysis) {
        Set<String> denying = new TreeSet<>();
        Set<String> covering = new TreeSet<>();
        Set<String> warnings = new TreeSet<>();
        Map<String, String> masks = new TreeMap<>();
        boolean everyRequestCovered = true;

        Set<Heuristic> findings = EnumSet.noneOf(Heuristic.class);
        findings.addAll(analysis.findings());
        for (StatementFacts statement : analysis.statements()) {
            findings.addAll(statement.findings());
            for (Request request : requests(statement)) {
                boolean covered = false;
                for (Rule rule : policy.rules()) {
                    if (!matches(rule, request, session, policy)) {
                        continue;
                    }
                    if (rule.effect() == Effect.DENY) {
                        denying.add(rule.id());
                    } else if (request.action() != Action.FILTER) {
                        covered = true;
                        covering.add(rule.id());
                    }
                }
                // filter requests exist for denies; they never need an allow (LANGUAGE.md).
                if (!covered && request.action() != Action.FILTER) {
                    everyRequestCovered = false;
                }
            }
            for (ColumnUse use : statement.columns()) {
                if (use.clause() == Clause.FILTER || use.clause() == Clause.ASSIGNMENT) {
                    continue;
                }
                String column = use.table() + "." + use.column();
                MaskRule mask = mask(policy, session, column);
                if (mask != null) {
                    masks.putIfAbsent(column, mask.mask().text);
                    // The value of upper(c) cannot be masked, so the statement is refused.
                    if (use.insideExpression()) {
                        denying.add(mask.id());
                    }
                }
            }
        }
        for (Heuristic heuristic : findings) {
            GuardAction strongest = null;
            for (Guard guard : policy.guards()) {
                // A guard is not an allow: an error in its principal counts as a match.
                if (guard.heuristic().equals(heuristic.keyword())
                        && principal(guard.principals(), session, policy) != Tri.FALSE) {
                    strongest = stronger(strongest, guard.action());
                }
            }
            if (strongest == GuardAction.DENY) {
                denying.add("guard." + heuristic.keyword());
            } else if (strongest == GuardAction.WARN) {
                warnings.add(heuristic.keyword());
            }
        }
        boolean allowed = denying.isEmpty() && everyRequestCovered;
        return new Outcome(allowed, allowed ? covering : denying, warnings, masks);
    }

    /** The most restrictive mask rule that applies to the session and covers the column, the earlier on a tie. */
    private static MaskRule mask(Policy policy, SessionModel session, String column) {
        MaskRule chosen = null;
        for (MaskRule rule : policy.masks()) {
            // Like a deny, a mask whose principal cannot be evaluated applies (fail closed).
            if (principal(rule.principals(), session, policy) == Tri.FALSE
                    || !glob(rule.columnPattern()).matcher(column).matches()) {
                continue;
            }
            if (chosen == null || rule.mask().ordinal() > chosen.mask().ordinal()) {
                chosen = rule;
            }
        }
        return chosen;
    }

    private static GuardAction stronger(GuardAction current, GuardAction candidate) {
        if (current == null) {
            return candidate;
        }
        return candidate.ordinal() < current.ordinal() ? candidate : current;
    }

    static List<Request> requests(StatementFacts statement) {
        List<Request> requests = new ArrayList<>();
        for (TableAccess access : statement.tables()) {
            requests.add(new Request(access.action(), ResourceKind.TABLE, access.table().toString()));
        }
        for (var function : statement.functions()) {
            requests.add(new Request(Action.CALL, ResourceKind.FUNCTION, function.toString()));
        }
        for (ColumnUse column : statement.columns()) {
            if (column.clause() == Clause.FILTER) {
                requests.add(new Request(Action.FILTER, ResourceKind.COLUMN, column.table() + "." + column.column()));
            }
        }
        if (requests.isEmpty()) {
            Action action = Action.fromKeyword(statement.kind().name().toLowerCase(Locale.ROOT))
                    .orElseThrow(() -> new AssertionError("generator made an object-less " + statement.kind()));
            requests.add(new Request(action, null, null));
        }
        return requests;
    }

    private static boolean matches(Rule rule, Request request, SessionModel session, Policy policy) {
        if (!applies(rule, session, policy)) {
            return false;
        }
        if (!expand(rule.actions()).contains(request.action())) {
            return false;
        }
        if (!rule.resources().isEmpty()) {
            boolean anyResource = false;
            for (Resource resource : rule.resources()) {
                if (resource.kind() == request.kind() && glob(resource.pattern()).matcher(request.name()).matches()) {
                    anyResource = true;
                }
            }
            return anyResource;
        }
        return true;
    }

    /**
     * principal and when and not unless, in Kleene logic; an error counts as a match for a deny
     * (fail closed) and as no match for an allow.
     */
    private static boolean applies(Rule rule, SessionModel session, Policy policy) {
        Tri value = principal(rule.principals(), session, policy);
        if (rule.when() != null) {
            value = value.and(rule.when().eval(session, policy));
        }
        if (rule.unless() != null) {
            value = value.and(rule.unless().eval(session, policy).not());
        }
        return value == Tri.TRUE || (value == Tri.ERROR && rule.effect() == Effect.DENY);
    }

    /** A principal list matches when any of its terms does. */
    private static Tri principal(List<Principal> principals, SessionModel session, Policy policy) {
        Tri value = Tri.FALSE;
        for (Principal principal : principals) {
            value = value.or(principal.matches(session, policy));
        }
        return value;
    }

    /** The generator only puts {@code *} where it stands for a whole name part or its suffix. */
    private static Pattern glob(String pattern) {
        StringBuilder regex = new StringBuilder();
        for (char c : pattern.toCharArray()) {
            regex.append(c == '*' ? "[^.]*" : Pattern.quote(String.valueOf(c)));
        }
        return Pattern.compile(regex.toString());
    }

    static Set<Action> expand(List<String> keywords) {
        Set<Action> actions = EnumSet.noneOf(Action.class);
        for (String keyword : keywords) {
            switch (keyword) {
                case "read":
                    actions.addAll(EnumSet.of(Action.SELECT, Action.COPY_OUT));
                    break;
                case "write":
                    actions.addAll(EnumSet.of(Action.INSERT, Action.UPDATE, Action.DELETE, Action.MERGE,
                            Action.TRUNCATE, Action.COPY_IN));
                    break;
                case "session":
                    actions.addAll(EnumSet.of(Action.TRANSACTION, Action.SET, Action.SHOW, Action.DISCARD,
                            Action.PREPARE));
                    break;
                case "all":
                    actions.addAll(EnumSet.allOf(Action.class));
                    break;
                default:
                    actions.add(Action.fromKeyword(keyword)
                            .orElseThrow(() -> new AssertionError("unknown action " + keyword)));
            }
        }
        return actions;
    }
}
