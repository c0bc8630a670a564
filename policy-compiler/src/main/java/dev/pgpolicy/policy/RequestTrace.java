package dev.pgpolicy.policy;

import java.util.List;

/** For {@code explain}: one request, the deny rules that matched it and the allow rules that covered it. */
public record RequestTrace(Request request, List<String> denyRuleIds, List<String> allowRuleIds, boolean covered) {
    public RequestTrace {
        denyRuleIds = List.copyOf(denyRuleIds);
        allowRuleIds = List.copyOf(allowRuleIds);
    }
}
