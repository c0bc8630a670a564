package dev.pgpolicy.sql;

import java.util.List;
import java.util.Set;

/**
 * The analysis of one simple-protocol Query message (or one Parse), split into its statements.
 * {@code findings} holds message-level heuristics such as {@link Heuristic#STACKED_STATEMENTS}.
 */
public record QueryAnalysis(List<StatementFacts> statements, Set<Heuristic> findings) {
    public QueryAnalysis {
        statements = List.copyOf(statements);
        // Most messages have no finding: Set.copyOf of an empty EnumSet still builds a HashSet.
        findings = findings.isEmpty() ? Set.of() : Set.copyOf(findings);
    }
}
