package dev.pgpolicy.sql;

import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Everything the policy engine needs to know about one SQL statement. Immutable and shareable
 * across sessions: it depends only on the statement text, so it is cached by fingerprint.
 *
 * @param kind        statement kind from the lexer, available even when {@code parsed} is false
 * @param fingerprint literal-free normalized text hash (stable across literal values)
 * @param normalized  the statement with literals replaced by {@code $n}/{@code ?} placeholders
 * @param parsed      whether the full parser analysed the statement; when false, the table,
 *                    column and function lists are incomplete and the statement is {@code unparsed}
 * @param tables      tables with the action done to each
 * @param columns     columns by clause
 * @param functions   functions called, schema-qualified when the SQL qualified them
 * @param findings    heuristics this statement triggers on its own (stacked statements is a
 *                    property of the whole Query message, see {@link QueryAnalysis})
 */
public record StatementFacts(
        StatementKind kind,
        String fingerprint,
        String normalized,
        boolean parsed,
        List<TableAccess> tables,
        List<ColumnUse> columns,
        List<ObjectName> functions,
        Set<Heuristic> findings) {

    public StatementFacts {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(fingerprint, "fingerprint");
        Objects.requireNonNull(normalized, "normalized");
        tables = List.copyOf(tables);
        columns = List.copyOf(columns);
        functions = List.copyOf(functions);
        findings = Set.copyOf(findings);
    }
}
