package dev.pgpolicy.sql;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.Set;

/** Accumulates the facts of one statement, without duplicates, in first-seen order. */
final class FactsBuilder {
    private final Set<TableAccess> tables = new LinkedHashSet<>();
    private final Set<ColumnUse> columns = new LinkedHashSet<>();
    private final Set<ObjectName> functions = new LinkedHashSet<>();
    private final Set<Heuristic> findings = EnumSet.noneOf(Heuristic.class);

    void table(ObjectName table, Action action) {
        tables.add(new TableAccess(table, action));
        if (HeuristicRules.isCatalogRelation(table)) {
            findings.add(Heuristic.CATALOG_PROBE);
        }
    }

    void column(ObjectName table, String column, Clause clause, boolean insideExpression) {
        columns.add(new ColumnUse(table, column, clause, insideExpression));
    }

    void function(ObjectName function) {
        functions.add(function);
        findings.addAll(HeuristicRules.forFunction(function));
    }

    void finding(Heuristic heuristic) {
        findings.add(heuristic);
    }

    void mergeFrom(FactsBuilder other) {
        tables.addAll(other.tables);
        columns.addAll(other.columns);
        functions.addAll(other.functions);
        findings.addAll(other.findings);
    }

    /**
     * Tables a query has touched so far, for {@code COPY (query) TO}: whatever the query reads
     * or returns (a {@code DELETE ... RETURNING} returns the rows it removes) is copied out.
     */
    Set<ObjectName> tablesTouched() {
        Set<ObjectName> touched = new LinkedHashSet<>();
        for (TableAccess access : tables) {
            if (access.action() != Action.DDL) {
                touched.add(access.table());
            }
        }
        return touched;
    }

    Set<TableAccess> tables() {
        return tables;
    }

    StatementFacts build(StatementKind kind, String fingerprint, String normalized, boolean parsed) {
        Set<Heuristic> allFindings = EnumSet.noneOf(Heuristic.class);
        allFindings.addAll(findings);
        if (!parsed) {
            allFindings.add(Heuristic.UNPARSED);
        }
        return new StatementFacts(kind, fingerprint, normalized, parsed,
                new ArrayList<>(tables), new ArrayList<>(columns), new ArrayList<>(functions), allFindings);
    }
}
