package dev.pgpolicy.policy;

import dev.pgpolicy.sql.Action;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Allow or deny rules indexed by action, then by the literal object name of their resource
 * pattern, so that a request looks at the rules that could match it and not at the whole set.
 * Rules without {@code on} match every request of their actions; glob, schema and database
 * patterns are scanned.
 */
final class RuleIndex {

    private record Entry(CompiledRule.Access rule, ResourceMatcher matcher) {
    }

    private static final class ForAction {
        final List<CompiledRule.Access> unrestricted = new ArrayList<>();
        final Map<String, List<Entry>> byName = new HashMap<>();
        final List<Entry> scanned = new ArrayList<>();
    }

    private final Map<Action, ForAction> byAction = new EnumMap<>(Action.class);

    RuleIndex(List<CompiledRule.Access> rules) {
        for (CompiledRule.Access rule : rules) {
            for (Action action : rule.actions()) {
                ForAction slot = byAction.computeIfAbsent(action, a -> new ForAction());
                if (rule.resources().isEmpty()) {
                    slot.unrestricted.add(rule);
                    continue;
                }
                for (ResourceMatcher matcher : rule.resources()) {
                    String key = matcher.indexKey();
                    Entry entry = new Entry(rule, matcher);
                    if (key == null) {
                        slot.scanned.add(entry);
                    } else {
                        slot.byName.computeIfAbsent(key, k -> new ArrayList<>()).add(entry);
                    }
                }
            }
        }
    }

    /** The rules that apply to the principal and match the request, in source order, each once. */
    List<CompiledRule.Access> matching(Request request, boolean forDeny, PrincipalClass principal) {
        ForAction slot = byAction.get(request.action());
        if (slot == null) {
            return List.of();
        }
        List<CompiledRule.Access> found = new ArrayList<>(2);
        for (CompiledRule.Access rule : slot.unrestricted) {
            if (principal.applies(rule.head().index())) {
                found.add(rule);
            }
        }
        if (request.object() != null) {
            List<Entry> named = slot.byName.get(request.object().name());
            if (named != null) {
                collect(named, request, forDeny, principal, found);
            }
        }
        collect(slot.scanned, request, forDeny, principal, found);
        if (found.size() > 1) {
            found.sort((a, b) -> Integer.compare(a.head().index(), b.head().index()));
            found = dedupe(found);
        }
        return found;
    }

    private static void collect(List<Entry> entries, Request request, boolean forDeny, PrincipalClass principal,
                                List<CompiledRule.Access> found) {
        for (Entry entry : entries) {
            if (principal.applies(entry.rule().head().index()) && entry.matcher().matches(request, forDeny, principal)) {
                found.add(entry.rule());
            }
        }
    }

    private static List<CompiledRule.Access> dedupe(List<CompiledRule.Access> sorted) {
        List<CompiledRule.Access> unique = new ArrayList<>(sorted.size());
        for (CompiledRule.Access rule : sorted) {
            if (unique.isEmpty() || unique.get(unique.size() - 1) != rule) {
                unique.add(rule);
            }
        }
        return unique;
    }
}
