package dev.pgpolicy.fuzz.policy;

import dev.pgpolicy.fuzz.policy.PolicyModel.Effect;
import dev.pgpolicy.fuzz.policy.PolicyModel.Guard;
import dev.pgpolicy.fuzz.policy.PolicyModel.GuardAction;
import dev.pgpolicy.fuzz.policy.PolicyModel.Policy;
import dev.pgpolicy.fuzz.policy.PolicyModel.Principal;
import dev.pgpolicy.fuzz.policy.PolicyModel.Resource;
import dev.pgpolicy.fuzz.policy.PolicyModel.ResourceKind;
import dev.pgpolicy.fuzz.policy.PolicyModel.Rule;
import dev.pgpolicy.fuzz.policy.PolicyModel.SessionModel;
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
import java.util.Set;
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
     * allow the allow rules that covered a request), and the heuristics reported as warnings.
     */
    record Outcome(boolean allowed, Set<String> rules, Set<String> warnings) {
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
        }
        for (Heuristic heuristic : findings) {
            GuardAction strongest = null;
            for (Guard guard : policy.guards()) {
                if (guard.heuristic().equals(heuristic.keyword()) && anyPrincipal(guard.principals(), session, policy)) {
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
        return new Outcome(allowed, allowed ? covering : denying, warnings);
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
        if (!anyPrincipal(rule.principals(), session, policy)) {
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
            if (!anyResource) {
                return false;
            }
        }
        if (rule.when() != null && !rule.when().eval(session, policy)) {
            return false;
        }
        return rule.unless() == null || !rule.unless().eval(session, policy);
    }

    private static boolean anyPrincipal(List<Principal> principals, SessionModel session, Policy policy) {
        for (Principal principal : principals) {
            if (principal.matches(session, policy)) {
                return true;
            }
        }
        return false;
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
