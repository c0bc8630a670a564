package dev.pgpolicy.policy;

import dev.pgpolicy.sql.StatementFacts;
import java.util.List;

/**
 * Why a Query got its decision: per statement, its facts, every request with the rules that
 * matched it, and the statement's own decision; then the message-level guard findings.
 * {@code matchedRuleIds} lists, in source order, every rule that applied to this session and
 * message (allows and denies that matched a request, masks used, guards that fired, limit and
 * audit rules of the principal), which is what a report of never-used rules needs.
 */
public record Explanation(Decision decision, List<StatementExplanation> statements, List<GuardFinding> messageFindings,
                          List<String> matchedRuleIds) {

    public Explanation {
        statements = List.copyOf(statements);
        messageFindings = List.copyOf(messageFindings);
        matchedRuleIds = List.copyOf(matchedRuleIds);
    }

    public record StatementExplanation(StatementFacts facts, List<RequestTrace> requests, Decision decision) {
        public StatementExplanation {
            requests = List.copyOf(requests);
        }
    }
}
