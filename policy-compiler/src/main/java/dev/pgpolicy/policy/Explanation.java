package dev.pgpolicy.policy;

import dev.pgpolicy.sql.StatementFacts;
import java.util.List;

/**
 * Why a Query got its decision: per statement, its facts, every request with the rules that
 * matched it, and the statement's own decision; then the message-level guard findings.
 */
public record Explanation(Decision decision, List<StatementExplanation> statements, List<GuardFinding> messageFindings) {

    public Explanation {
        statements = List.copyOf(statements);
        messageFindings = List.copyOf(messageFindings);
    }

    public record StatementExplanation(StatementFacts facts, List<RequestTrace> requests, Decision decision) {
        public StatementExplanation {
            requests = List.copyOf(requests);
        }
    }
}
