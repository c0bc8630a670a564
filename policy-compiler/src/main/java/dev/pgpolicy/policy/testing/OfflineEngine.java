package dev.pgpolicy.policy.testing;

import dev.pgpolicy.lang.Diagnostic;
import dev.pgpolicy.lang.Expr;
import dev.pgpolicy.policy.CompileResult;
import dev.pgpolicy.policy.Decision;
import dev.pgpolicy.policy.GuardAction;
import dev.pgpolicy.policy.GuardFinding;
import dev.pgpolicy.policy.MaskSpec;
import dev.pgpolicy.policy.PolicyCompiler;
import dev.pgpolicy.policy.PolicySet;
import dev.pgpolicy.policy.ResolvedName;
import dev.pgpolicy.policy.SourceFile;
import dev.pgpolicy.policy.testing.ObservedDecision.AppliedMask;
import dev.pgpolicy.sql.QueryAnalysis;
import dev.pgpolicy.sql.SqlAnalyzer;
import dev.pgpolicy.sql.StatementFacts;
import dev.pgpolicy.sql.TableAccess;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The engine as the offline test runner uses it: compile a set read from disk, analyse a query
 * and decide it for a session, and describe the decision in the vocabulary of expectations.
 */
final class OfflineEngine {

    private final SqlAnalyzer analyzer;

    OfflineEngine(SqlAnalyzer analyzer) {
        this.analyzer = analyzer;
    }

    /** A compiled set, or the diagnostics that kept it from loading. */
    record CompiledSet(Optional<PolicySet> policySet, List<Diagnostic> diagnostics, OfflineEngine engine) {
        CompiledSet {
            diagnostics = List.copyOf(diagnostics);
        }

        boolean usable() {
            return policySet.isPresent() && diagnostics.stream().noneMatch(Diagnostic::isError);
        }

        ObservedDecision decide(OfflineSession session, String sql) {
            QueryAnalysis analysis = engine.analyzer.analyze(sql);
            PolicySet set = policySet.orElseThrow(() -> new IllegalStateException("the policy set did not compile"));
            Decision decision = set.evaluate(session.context(), analysis, session.resolver());
            return observe(decision, analysis, session);
        }
    }

    CompiledSet compile(PolicySources.Loaded loaded) {
        List<Diagnostic> diagnostics = new ArrayList<>(loaded.diagnostics());
        if (loaded.files().isEmpty()) {
            return new CompiledSet(Optional.empty(), diagnostics, this);
        }
        List<SourceFile> sources = loaded.files().stream().map(f -> new SourceFile(f.name(), f.text())).toList();
        CompileResult result = PolicyCompiler.compile(sources);
        diagnostics.addAll(result.diagnostics());
        diagnostics.sort(Diagnostic.ORDER);
        return new CompiledSet(result.policySet(), diagnostics, this);
    }

    private static ObservedDecision observe(Decision decision, QueryAnalysis analysis, OfflineSession session) {
        Map<String, AppliedMask> masks = new HashMap<>();
        decision.masks().forEach((column, spec) -> masks.put(column, applied(spec, null)));
        // Columns the statement does not name (SELECT *, a view) are masked from RowDescription
        // by the proxy; here the principal's mask rules answer for every table the query touches.
        Set<String> tables = new HashSet<>();
        for (StatementFacts statement : analysis.statements()) {
            for (TableAccess access : statement.tables()) {
                ResolvedName table = session.resolver().relation(access.table());
                if (table.isCertain()) {
                    tables.add(table.schemas().get(0) + "." + table.name());
                }
            }
        }
        ObservedDecision.MaskLookup lookup = (schema, table, column) -> decision.maskSet()
                .maskFor(ResolvedName.certain(schema, table), column)
                .map(binding -> applied(binding.mask(), binding.ruleId()));
        Set<String> warnings = new HashSet<>();
        Set<String> findings = new HashSet<>();
        for (GuardFinding finding : decision.findings()) {
            findings.add(finding.heuristic().keyword());
            if (finding.action() == GuardAction.WARN) {
                warnings.add(finding.heuristic().keyword());
            }
        }
        return new ObservedDecision(decision.allowed(), decision.ruleIds(), decision.reason(), masks, tables, lookup,
                warnings, findings);
    }

    private static AppliedMask applied(MaskSpec spec, String ruleId) {
        List<String> arguments = new ArrayList<>();
        for (Object argument : spec.arguments()) {
            arguments.add(argument instanceof String ? quote((String) argument) : String.valueOf(argument));
        }
        return new AppliedMask(spec.function().keyword(), arguments, ruleId);
    }

    /** An argument of {@code expect mask ... with f(args)} rendered as {@link #applied} renders a mask's. */
    static String literalText(Expr literal) {
        if (literal instanceof Expr.StringLiteral) {
            return quote(((Expr.StringLiteral) literal).value());
        }
        if (literal instanceof Expr.IntLiteral) {
            return String.valueOf(((Expr.IntLiteral) literal).value());
        }
        return String.valueOf(literal);
    }

    private static String quote(String text) {
        return "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
