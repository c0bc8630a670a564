package dev.pgpolicy.policy;

import dev.pgpolicy.sql.Action;
import dev.pgpolicy.sql.Clause;
import dev.pgpolicy.sql.ColumnUse;
import dev.pgpolicy.sql.Heuristic;
import dev.pgpolicy.sql.ObjectName;
import dev.pgpolicy.sql.QueryAnalysis;
import dev.pgpolicy.sql.StatementFacts;
import dev.pgpolicy.sql.StatementKind;
import dev.pgpolicy.sql.TableAccess;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/** Hand-made statement facts, as the SQL analyser would produce them. */
final class Facts {

    private final StatementKind kind;
    private String normalized;
    private boolean parsed = true;
    private final List<TableAccess> tables = new ArrayList<>();
    private final List<ColumnUse> columns = new ArrayList<>();
    private final List<ObjectName> functions = new ArrayList<>();
    private final Set<Heuristic> findings = EnumSet.noneOf(Heuristic.class);

    private Facts(StatementKind kind) {
        this.kind = kind;
        this.normalized = kind.name();
    }

    static Facts of(StatementKind kind) {
        return new Facts(kind);
    }

    static ObjectName name(String dotted) {
        int dot = dotted.lastIndexOf('.');
        return dot < 0 ? ObjectName.unqualified(dotted) : new ObjectName(dotted.substring(0, dot), dotted.substring(dot + 1));
    }

    Facts table(String table, Action action) {
        tables.add(new TableAccess(name(table), action));
        return this;
    }

    Facts column(String table, String column, Clause clause) {
        columns.add(new ColumnUse(table == null ? null : name(table), column, clause, false));
        return this;
    }

    Facts expression(String table, String column) {
        columns.add(new ColumnUse(name(table), column, Clause.PROJECTION, true));
        return this;
    }

    Facts function(String function) {
        functions.add(name(function));
        return this;
    }

    Facts finding(Heuristic heuristic) {
        findings.add(heuristic);
        return this;
    }

    Facts unparsed() {
        parsed = false;
        return this;
    }

    Facts text(String text) {
        normalized = text;
        return this;
    }

    StatementFacts build() {
        return new StatementFacts(kind, Integer.toHexString(normalized.hashCode()), normalized, parsed, tables, columns,
                functions, findings);
    }

    QueryAnalysis query() {
        return new QueryAnalysis(List.of(build()), Set.of());
    }

    static QueryAnalysis query(StatementFacts... statements) {
        return new QueryAnalysis(List.of(statements), Set.of());
    }

    static QueryAnalysis stacked(StatementFacts... statements) {
        return new QueryAnalysis(List.of(statements), Set.of(Heuristic.STACKED_STATEMENTS));
    }
}
